"""Reading article files: the original text exactly as it is on disk, or a one-line error."""

from __future__ import annotations

import os
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError
from .languages import check_language, require_code


@dataclass(frozen=True)
class Document:
    """One language version of an article. ``text`` is the original, never edited."""

    id: str
    lang: str
    text: str
    path: str | None = None
    outlet: str | None = None
    story_id: str | None = None
    role: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


# The largest input any command reads. News articles are kilobytes and the longest development
# document (a novel) is 0.6 MB. At this size the worst case measured, a file of one sentence repeated
# 118,000 times aligned against itself, peaks at 4.3 GB and takes 9 minutes on 2 cores; a bigger file
# is refused up front rather than allowed to outgrow a laptop's memory.
MAX_INPUT_BYTES = 8 * 1024 * 1024


def read_bytes(path: str | os.PathLike[str], *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """A regular file's bytes (or standard input's, for ``-``), at most ``limit`` of them.

    Every reader of every command comes through here, so one set of one-line
    :class:`CorpusError` s covers them all: a missing path, a folder, a FIFO,
    a device or socket (which could block or never end), an unreadable file,
    a file over the limit.
    """
    import stat
    import sys

    if str(path) == "-":
        data = sys.stdin.buffer.read(limit + 1)
        if len(data) > limit:
            raise CorpusError("<stdin>", f"is over {limit // (1024 * 1024)} MB, the limit for one input")
        return data
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        if p.is_symlink():
            raise CorpusError(p, f"is a link to {os.readlink(p)}, which does not exist") from None
        raise CorpusError(p, "no such file") from None
    except NotADirectoryError:
        raise CorpusError(p, "no such file (a parent in the path is a file, not a folder)") from None
    except OSError as e:
        raise CorpusError(p, f"cannot be read ({e.strerror or e})") from None
    if stat.S_ISDIR(st.st_mode):
        raise CorpusError(p, "is a folder, not a text file")
    if not stat.S_ISREG(st.st_mode):
        kind = ("a named pipe (FIFO)" if stat.S_ISFIFO(st.st_mode) else "a device" if stat.S_ISCHR(st.st_mode)
                or stat.S_ISBLK(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode) else "not a regular file")
        raise CorpusError(p, f"is {kind}, not a regular file; give a file (or - for standard input)")
    if st.st_size > limit:
        raise CorpusError(p, f"is {st.st_size:,} bytes, over the {limit // (1024 * 1024)} MB limit ({limit:,} bytes) "
                          "for one input; split it into documents")
    try:
        with open(p, "rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise CorpusError(p, f"cannot be read ({e.strerror or e})") from None
    if len(data) > limit:  # grew while we read
        raise CorpusError(p, f"is over the {limit // (1024 * 1024)} MB limit for one input")
    return data


def decode_utf8(path: str | os.PathLike[str], data: bytes, *, bom: bool = False) -> str:
    """Decode UTF-8 (dropping a byte-order mark when ``bom``), naming the first bad byte if it is not."""
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(
            Path(path), f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); convert it, e.g. with iconv -t UTF-8"
        ) from None


def _refuse_binary(path, data: bytes, expected: str) -> None:
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CorpusError(path, f"looks binary (NUL byte at offset {nul}), not {expected}")


def read_text(path: str | os.PathLike[str]) -> str:
    """The file's text as UTF-8, newlines untouched (offsets count code points of this string).

    Raises :class:`CorpusError` for a missing, unreadable, empty, binary or
    non-UTF-8 file.
    """
    p = Path(path)
    data = read_bytes(p)
    if not data.strip():
        raise CorpusError(p, "file is empty" if not data else "file contains only whitespace")
    _refuse_binary(p, data, "a text file")
    text = decode_utf8(p, data)
    if not any(not c.isspace() and unicodedata.category(c) != "Cf" for c in text):  # nothing visible
        marks = sorted({c for c in text if unicodedata.category(c) == "Cf"})
        raise CorpusError(p, "file contains only whitespace" + (
            " and a byte-order mark" if marks == ["\ufeff"] else
            f" and invisible format characters ({', '.join(f'U+{ord(c):04X}' for c in marks[:4])})" if marks else ""))
    return text


def read_lines(path: str | os.PathLike[str]) -> list[str]:
    """A UTF-8 text file as lines: split on ``\\n`` only (CRLF allowed), one final newline optional.

    Not ``str.splitlines``: a translation may contain U+2028 and the like,
    which must not add lines. Empty lines are kept, since an empty
    translation is still a line. A byte-order mark is dropped.
    """
    data = read_bytes(path)
    _refuse_binary(path, data, "a text file of lines")
    text = decode_utf8(path, data, bom=True)
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def read_document(
    path: str | os.PathLike[str],
    lang: str,
    *,
    doc_id: str | None = None,
    check_lang: bool = True,
    **meta: str | None,
) -> Document:
    """Read a file as a :class:`Document` in ``lang``, checking that the text is in that language."""
    require_code(lang, path)
    text = read_text(path)
    if check_lang:
        check_language(text, lang, path)
    return Document(
        id=doc_id or Path(path).stem,
        lang=lang,
        text=text,
        path=str(path),
        outlet=meta.pop("outlet", None),
        story_id=meta.pop("story_id", None),
        role=meta.pop("role", None),
        meta={k: v for k, v in meta.items() if v is not None},
    )
