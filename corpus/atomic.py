"""Outputs appear whole or not at all: write to a temporary path, then rename.

Every command that writes claims its destination first (:func:`claim_output`):
the path is checked (right kind, parents are folders, the folder can be written,
a rename will land on the same file system) before any work starts, so a bad
``-o`` is a one-line error in a second, not a traceback after the build.
Temporary folders carry the host and process id in their name, so a later run
can remove those a killed run left behind without touching a live one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .errors import CorpusError


class Terminated(BaseException):
    """SIGTERM, raised where the process was, so cleanup runs as for KeyboardInterrupt."""


_STOP: list[int] = []  # signals that asked this process to stop (see request_stop)


def request_stop(signum: int) -> None:
    """Record that the process was asked to stop. A signal handler raises :class:`Terminated` too, but
    Python swallows an exception raised inside a ``__del__`` or a callback; no output is committed
    after this, whatever happened to that exception."""
    _STOP.append(signum)


def clear_stop() -> None:
    _STOP.clear()


def stop_requested() -> bool:
    return bool(_STOP)


def _commit_allowed() -> None:
    if _STOP:
        raise Terminated()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _describe(e: OSError) -> str:
    return (e.strerror or str(e)).lower()


def claim_output(path: str | os.PathLike[str], *, folder: bool = False, overwrite: bool = True,
                 probe: bool = True, inputs: Sequence[str | os.PathLike[str] | None] = ()) -> Path:
    """Check that ``path`` can receive an output (a file, or a folder when ``folder``) and create
    its parent folders; a one-line :class:`CorpusError` naming the path otherwise.

    A file output replaces an existing regular file; a folder output replaces an
    existing folder only with ``overwrite``. Nothing is ever renamed over a folder
    where a file is expected, nor over a device, pipe or socket. The output may not be one of the command's
    ``inputs``, nor (a folder) hold one, nor be a mount point or hold the current folder: replacing it
    would destroy what the command reads. ``probe`` writes and removes an
    empty file to prove the folder is writable; the writers below skip it, since the temporary file
    or folder they create next is that proof.
    """
    import stat

    path = Path(path)
    if str(path) in ("", "."):
        raise CorpusError(path, "is not a file name")
    try:  # a name the file system gave as bytes that are not UTF-8 cannot be written into the card or logs
        str(path).encode("utf-8")
    except UnicodeEncodeError:
        raise CorpusError(path, "is not a UTF-8 file name; give another output path") from None
    _check_clash(path, folder, inputs)
    try:
        st = path.lstat()
    except FileNotFoundError:
        st = None
    except NotADirectoryError:
        st = None  # a parent is a file: reported below
    except OSError as e:
        raise CorpusError(path, f"cannot be checked ({_describe(e)})") from None
    if st is not None:
        if folder:
            if not stat.S_ISDIR(st.st_mode):
                raise CorpusError(path, "exists and is not a folder; give a folder path for the output")
            if not overwrite:
                raise CorpusError(path, "already exists; pass --overwrite to replace it")
        elif stat.S_ISDIR(st.st_mode):
            raise CorpusError(path, "is a folder; give a file path for the output")
        elif not stat.S_ISREG(st.st_mode):
            raise CorpusError(path, "exists and is not a regular file (a device, pipe, socket or link); "
                              "give another output path")
    parent = path.parent
    ancestor = parent
    while not ancestor.exists() and ancestor != ancestor.parent:
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise CorpusError(path, f"cannot be written: {ancestor} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CorpusError(path, f"cannot create its folder {parent} ({_describe(e)})") from None
    if probe:
        try:  # the one reliable test of "can write here" (permissions, read-only file systems, quotas)
            fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=parent)
            os.close(fd)
            os.unlink(name)
        except OSError as e:
            raise CorpusError(path, f"cannot be written in {parent} ({_describe(e)})") from None
    return path


def _check_clash(path: Path, folder: bool, inputs) -> None:
    """Refuse an output whose replacement would destroy an input or the folder the command runs in."""
    try:
        out = path.resolve()
    except (OSError, RuntimeError):  # a link loop: reported by the writer
        return
    for given in inputs:
        if given is None or str(given) in ("", "-"):
            continue
        try:
            src = Path(given).resolve()
        except (OSError, RuntimeError):
            continue
        if src == out or (src.exists() and out.exists() and os.path.samefile(src, out)):
            raise CorpusError(path, f"is also an input of this command ({given}); give another output path")
        if folder and out in src.parents:
            raise CorpusError(path, f"holds an input of this command ({given}); give another output path")
        if not folder and src in out.parents and out.exists():  # a file of an input folder (a dataset's card)
            raise CorpusError(path, f"is a file of this command's input {given}; give another output path")
    if folder and out.is_dir():
        if os.path.ismount(out):
            raise CorpusError(path, "is a mount point; give a folder inside it for the output")
        try:
            cwd = Path.cwd().resolve()
        except OSError:
            return
        if out == cwd or out in cwd.parents:
            raise CorpusError(path, "holds the current folder; give another output path")


def write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` to ``path`` atomically (a reader never sees half a file)."""
    path = claim_output(path, probe=False)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as e:
        raise CorpusError(path, f"cannot be written ({_describe(e)})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it owner-only; the result is an ordinary file
        _commit_allowed()
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


@contextmanager
def output_dir(path: str | os.PathLike[str], *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary folder beside ``path``; on success it replaces ``path``.

    On any error (or Ctrl-C) the temporary folder is removed and an existing
    ``path`` is left as it was. An existing ``path`` is replaced only with
    ``overwrite``.
    """
    path = claim_output(path, folder=True, overwrite=overwrite, probe=False)
    remove_stale(path)
    try:
        tmp = Path(tempfile.mkdtemp(prefix=f"{_owner_prefix(path)}", suffix=".partial", dir=path.parent))
    except OSError as e:
        raise CorpusError(path, f"cannot be written ({_describe(e)})") from None
    try:
        yield tmp
        os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes it owner-only; the result is an ordinary folder
        _commit_allowed()
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f"{_owner_prefix(path)}", suffix=".old", dir=path.parent))
            os.replace(path, old / path.name)
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _owner_prefix(path: Path) -> str:
    import socket

    return f".{path.name}.{socket.gethostname()}-{os.getpid()}."


def remove_stale(path: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary folders (``.partial``, ``.old``) that runs on this host, since killed,
    left beside ``path``; a folder whose process is alive, or of another host, is left alone."""
    import re
    import socket

    path = Path(path)
    pattern = re.compile(rf"^\.{re.escape(path.name)}\.{re.escape(socket.gethostname())}-(\d+)\.[^.]+\.(partial|old)$")
    removed = []
    try:
        siblings = list(path.parent.iterdir())
    except OSError:
        return removed
    for p in siblings:
        m = pattern.match(p.name)
        if not m or not p.is_dir():
            continue
        pid = int(m.group(1))
        if pid == os.getpid() or _alive(pid):
            continue
        shutil.rmtree(p, ignore_errors=True)
        removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
