"""Per-story results of a build in progress, kept beside its output so ``--resume`` redoes no finished story.

A build writes each story's result here as soon as the story is done (in a
file named by :meth:`pipeline.build.StoryJob.key`: the story's documents and
every build setting), and deletes the folder once the dataset is in place. A
build that was killed leaves it behind; ``--resume`` takes every story whose
key is there and runs only the rest. A changed document or setting changes the
key of exactly the stories it touches, so those alone are run again.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path


class StoryStore:
    def __init__(self, out_dir: Path, resume: bool = False):
        out_dir = Path(out_dir)
        self.folder = out_dir.parent / f".{out_dir.name}.stories"
        if self.folder.is_symlink() or (self.folder.exists() and not self.folder.is_dir()):
            if resume:  # something else under this build's private name: nothing to resume from
                from corpus.errors import CorpusError

                raise CorpusError(self.folder, "is not the folder of an interrupted build's stories; "
                                  "build again without --resume")
            self.folder.unlink()
        elif not resume and self.folder.exists():
            shutil.rmtree(self.folder)  # a fresh build starts from zero, as it always has

    def _path(self, key: str) -> Path:
        return self.folder / f"{key}.pickle"

    def has(self, key: str) -> bool:
        return self._path(key).is_file()

    def get(self, key: str):
        """The stored result; a file that cannot be read (a kill mid-write cannot make one: writes are
        renamed into place) is an error rather than a silent rerun."""
        from corpus.errors import CorpusError

        from .build import StoryResult

        try:
            with open(self._path(key), "rb") as f:
                result = pickle.load(f)
        except Exception as e:  # noqa: BLE001 - any unpickling failure means the same thing
            raise CorpusError(self._path(key), f"a stored story result cannot be read ({type(e).__name__}); "
                              "build again without --resume") from None
        if not isinstance(result, StoryResult):
            raise CorpusError(self._path(key), f"holds a {type(result).__name__}, not a story result; "
                              "build again without --resume")
        return result

    def put(self, key: str, result) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            pickle.dump(result, f, protocol=pickle.HIGHEST_PROTOCOL)
        if self._path(key).is_dir():  # not a result (has() said so): make way for one
            shutil.rmtree(self._path(key))
        os.replace(tmp, self._path(key))

    def close(self) -> None:
        """The build succeeded: its output holds everything, so the per-story results go."""
        shutil.rmtree(self.folder, ignore_errors=True)

    def keep(self) -> None:
        """The build failed or was stopped: keep the finished stories for ``--resume``, but leave nothing
        behind when there are none (and no temporary file of an interrupted write)."""
        if not self.folder.is_dir():
            return
        for tmp in self.folder.glob(f".*.{os.getpid()}.tmp"):
            tmp.unlink(missing_ok=True)
        if not any(self.folder.glob("*.pickle")):
            shutil.rmtree(self.folder, ignore_errors=True)


__all__ = ["StoryStore"]
