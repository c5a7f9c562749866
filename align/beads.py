"""Beads: the unit of a sentence alignment, and Vecalign's one-bead-a-line format.

A bead pairs consecutive source sentences with consecutive target sentences;
either side may be empty (a sentence with no counterpart). The text format is
Vecalign's, ``[0, 1]:[2]:0.873`` (source ids, target ids, score), which
Bertalign, SentAlign and the Text+Berg gold files also use (without score).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import CorpusError


@dataclass(frozen=True)
class Bead:
    src: tuple[int, ...]
    tgt: tuple[int, ...]
    score: float | None = None

    @property
    def kind(self) -> str:
        """``1-1``, ``2-1``, ``0-1``...: sentence counts, source first."""
        return f"{len(self.src)}-{len(self.tgt)}"

    @property
    def key(self) -> tuple[tuple[int, ...], tuple[int, ...]]:
        return self.src, self.tgt

    def format(self, with_score: bool = True) -> str:
        s = f"[{', '.join(map(str, self.src))}]:[{', '.join(map(str, self.tgt))}]"
        return f"{s}:{self.score:.3f}" if with_score and self.score is not None else s


_LINE = re.compile(r"^\s*\[([\d,\s]*)\]\s*:\s*\[([\d,\s]*)\]\s*(?::\s*(\S+))?\s*$")


def parse_bead(line: str) -> Bead:
    m = _LINE.match(line)
    if not m:
        raise ValueError("not a bead line such as [0, 1]:[2] or [0]:[1]:0.9")
    ids = [tuple(int(x) for x in g.replace(",", " ").split()) for g in m.group(1, 2)]
    if not ids[0] and not ids[1]:
        raise ValueError("a bead needs a sentence on at least one side ([]:[] aligns nothing)")
    # (ids need not be consecutive or in order: Text+Berg's and MAC's gold have crossing beads)
    return Bead(ids[0], ids[1], float(m.group(3)) if m.group(3) else None)


def read_beads(path: str | os.PathLike[str]) -> list[Bead]:
    """Beads from a Vecalign-format file; a bad line is a one-line error with its number."""
    from corpus.documents import decode_utf8, read_bytes

    p = Path(path)
    beads = []
    for n, line in enumerate(decode_utf8(p, read_bytes(p), bom=True).splitlines(), 1):
        if not line.strip():
            continue
        try:
            beads.append(parse_bead(line))
        except ValueError as e:
            raise CorpusError(p, f"line {n}: {e}") from None
    return beads


def format_beads(beads: list[Bead], with_score: bool = True) -> str:
    return "".join(b.format(with_score) + "\n" for b in beads)

