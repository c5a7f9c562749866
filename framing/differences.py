"""Spans of one version that the other lacks, typed and explained.

Contract with the build (``corpus.dataset``): :func:`annotate` fills the
``differences`` list of every row of the ``segments`` config in place, with
offsets into that row's text in that language (``corpus.schema``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

Translate = Callable[[list[str], str, str], list[str]]  # (texts, src_lang, tgt_lang) -> translations


@dataclass(frozen=True)
class Difference:
    lang: str
    start: int
    end: int
    text: str
    kind: str  # one of corpus.schema.DIFFERENCE_KINDS
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


def annotate(rows: list[dict], langs: Sequence[str], *, encoder=None, translate: Translate | None = None,
             progress: bool = False) -> None:
    """Fill ``row["differences"]`` (a list of dicts) for every segments row. Placeholder: finds none yet."""
    for row in rows:
        row["differences"] = []
