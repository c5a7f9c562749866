"""One error type for bad input, so the CLI can print it as a single line."""

from __future__ import annotations

from pathlib import Path


def printable(name: str) -> str:
    """A file name as one printable line: control characters (a newline in a name) escaped."""
    return "".join(c if c.isprintable() or c == " " else c.encode("unicode_escape").decode("ascii") for c in name)


class CorpusError(ValueError):
    """Bad input: a file, a manifest entry or a text that cannot be used.

    The message always names the file (or source) first, then the problem,
    on one line, e.g. ``articles/004.txt: not UTF-8 (byte 0xff at offset 12)``.
    """

    def __init__(self, source: str | Path | None, problem: str):
        self.source = printable(str(source)) if source is not None else None
        self.problem = " ".join(problem.split())
        super().__init__(f"{self.source}: {self.problem}" if self.source else self.problem)
