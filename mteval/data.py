"""The test set: the ``pairs`` config of a built dataset, read as sources and references.

Every problem with the input (no such folder, not a dataset, a language the
dataset does not have, a hypothesis file of the wrong length or encoding) is a
:class:`~corpus.errors.CorpusError` naming the path, so the command line prints
one line and never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.documents import read_lines
from corpus.errors import CorpusError

@dataclass(frozen=True)
class Segment:
    """One ``pairs`` row seen as an MT test item."""

    id: str
    story_id: str
    source: str
    reference: str
    alignment_type: str
    has_differences: bool


@dataclass(frozen=True)
class TestSet:
    """The rows of ``pairs`` in file order, one language as source and the other as reference."""

    __test__ = False  # not a pytest class, despite the name

    path: str
    src_lang: str
    tgt_lang: str
    segments: tuple[Segment, ...]

    @property
    def sources(self) -> list[str]:
        return [s.source for s in self.segments]

    @property
    def references(self) -> list[str]:
        return [s.reference for s in self.segments]

    def __len__(self) -> int:
        return len(self.segments)


def _pairs(out_dir: str | os.PathLike[str]):  # noqa: ANN202 - a pyarrow table
    from corpus.dataset import read_config

    return Path(out_dir) / "pairs", read_config(out_dir, "pairs")


def _languages(table, path: Path) -> list[str]:  # noqa: ANN001
    import pyarrow as pa

    if "translation" not in table.column_names or not pa.types.is_struct(table.schema.field("translation").type):
        raise CorpusError(path, "has no `translation` struct column; is it a diptych pairs file?")
    return [f.name for f in table.schema.field("translation").type]


def languages(out_dir: str | os.PathLike[str]) -> list[str]:
    """Language codes a dataset has: the fields of the ``translation`` struct."""
    path, table = _pairs(out_dir)
    return _languages(table, path)


def _check_langs(path: Path, have: Sequence[str], *wanted: str) -> None:
    for lang in wanted:
        if lang not in have:
            raise CorpusError(path, f"no language {lang!r} in pairs; it has {', '.join(have)}")
    if len(wanted) == 2 and wanted[0] == wanted[1]:
        raise CorpusError(path, f"source and target are both {wanted[0]!r}; give two different languages")


def load_pairs(out_dir: str | os.PathLike[str], src_lang: str, tgt_lang: str) -> TestSet:
    """Read ``pairs`` as a test set from ``src_lang`` into ``tgt_lang``, rows in file order."""
    path, table = _pairs(out_dir)
    _check_langs(path, _languages(table, path), src_lang, tgt_lang)
    missing = [c for c in ("id", "story_id", "alignment_type", "differences") if c not in table.column_names]
    if missing:
        raise CorpusError(path, f"has no column {', '.join(missing)}; is it a diptych pairs file?")
    if table.num_rows == 0:
        raise CorpusError(path, "has no rows: nothing to evaluate")
    segments = []
    for row in table.select(["id", "story_id", "translation", "alignment_type", "differences"]).to_pylist():
        texts = row["translation"] or {}
        for lang in (src_lang, tgt_lang):
            if texts.get(lang) is None:
                raise CorpusError(path, f"row {row['id']} has no {lang} text")
        segments.append(Segment(id=row["id"], story_id=row["story_id"] or "", source=texts[src_lang],
                                reference=texts[tgt_lang], alignment_type=row["alignment_type"] or "",
                                has_differences=bool(row["differences"])))
    return TestSet(path=str(Path(out_dir)), src_lang=src_lang, tgt_lang=tgt_lang, segments=tuple(segments))


def load_side(out_dir: str | os.PathLike[str], lang: str) -> list[str]:
    """One language's text of every ``pairs`` row, in order (what ``export-sources`` writes)."""
    path, table = _pairs(out_dir)
    _check_langs(path, _languages(table, path), lang)
    texts = table.column("translation").combine_chunks().field(lang).to_pylist()
    if any(t is None for t in texts):
        raise CorpusError(path, f"a row has no {lang} text")
    return texts


def read_hypotheses(path: str | os.PathLike[str], test_set: TestSet) -> list[str]:
    """A system's output, line-parallel to the test set's rows."""
    lines = read_lines(path)
    if len(lines) != len(test_set):
        raise CorpusError(path, f"has {len(lines)} lines but pairs in {test_set.path} has {len(test_set)} rows; "
                                "a hypothesis file must have one line per pairs row, in order")
    return lines
