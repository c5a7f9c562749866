"""Build the published dataset: a Hugging Face dataset folder of one corpus.

The rows are made by pure functions (:func:`segment_rows`, :func:`pair_rows`,
:func:`comparable_rows`, :func:`document_rows`) from segmented documents, their
alignment and their links; :mod:`pipeline.build` runs the models and calls these,
then streams them into shards with :class:`corpus.shards.ShardWriter`.
The column types are in :mod:`corpus.schema`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import CorpusError
from .manifest import Corpus, Entry
from .schema import JOIN, SPLIT
from .segment import Sentence

SCORE_DECIMALS = 4  # scores are rounded so a rebuild is byte-identical across BLAS thread timings


@dataclass(frozen=True)
class StoryPair:
    """The two parallel documents of a story, in sorted language order (``a`` < ``b``)."""

    story_id: str
    a: Entry
    b: Entry

    @property
    def langs(self) -> tuple[str, str]:
        return self.a.lang, self.b.lang


def story_pairs(corpus: Corpus) -> list[StoryPair]:
    """Each story's parallel pair, in manifest order; all pairs must share one language pair.

    The ``translation`` feature is keyed by two fixed language codes, so one
    dataset holds one language pair; a corpus with several is built per pair.
    """
    pairs: list[StoryPair] = []
    for story in corpus.stories:
        par = [e for e in corpus.entries if e.story == story.id and e.role == "parallel"]
        if not par:
            continue
        if len(par) != 2:
            raise CorpusError(corpus.root / "manifest.toml",
                              f"story {story.id!r} has {len(par)} parallel documents; the build pairs exactly two")
        a, b = sorted(par, key=lambda e: e.lang)
        pairs.append(StoryPair(story.id, a, b))
    langs = {p.langs for p in pairs}
    if len(langs) > 1:
        raise CorpusError(corpus.root / "manifest.toml",
                          "stories pair different languages (" + ", ".join("-".join(x) for x in sorted(langs))
                          + "); one dataset holds one language pair")
    return pairs


def sentence_id(doc_id: str, unit: Sentence) -> str:
    return f"{doc_id}:{unit.id}"


def _round(score: float | None) -> float | None:
    return None if score is None else round(float(score), SCORE_DECIMALS)


def segment_rows(pair: StoryPair, a_units: Sequence[Sentence], b_units: Sequence[Sentence],
                 beads: Iterable) -> list[dict]:
    """The ``segments`` rows of one story: every unit of both documents in exactly one row.

    ``beads`` pair unit ids of ``a`` (``bead.src``) with unit ids of ``b``
    (``bead.tgt``) and cover every alignable unit. Boilerplate units become
    their own rows, placed before the first bead that follows them in their
    document, so the rows read in document order on both sides.
    """
    a, b = pair.langs
    by_id = {a: {u.id: u for u in a_units}, b: {u.id: u for u in b_units}}
    docs = {a: pair.a.id, b: pair.b.id}
    pending = {a: [u for u in a_units if not u.alignable], b: [u for u in b_units if not u.alignable]}
    rows: list[dict] = []

    def row(ids: dict[str, list[int]], status: str, score: float | None) -> dict:
        texts = {lang: JOIN.join(by_id[lang][i].text for i in ids[lang]) for lang in (a, b)}
        return {
            "id": f"{pair.story_id}/{len(rows):05d}", "story_id": pair.story_id,
            a: texts[a], b: texts[b],
            f"{a}_ids": [f"{docs[a]}:{i}" for i in ids[a]], f"{b}_ids": [f"{docs[b]}:{i}" for i in ids[b]],
            "status": status, "alignment_type": f"{len(ids[a])}-{len(ids[b])}",
            "score": _round(score), "differences": [],
        }

    def flush(lang: str, before: float) -> None:
        while pending[lang] and pending[lang][0].id < before:
            u = pending[lang].pop(0)
            other = b if lang == a else a
            rows.append(row({lang: [u.id], other: []}, "boilerplate", None))

    for bead in beads:
        ids = {a: list(bead.src), b: list(bead.tgt)}
        for lang in (a, b):
            if ids[lang]:
                flush(lang, ids[lang][0])
        if ids[a] and ids[b]:
            rows.append(row(ids, "aligned", bead.score))
        else:
            rows.append(row(ids, f"{a if ids[a] else b}_only", None))
    for lang in (a, b):
        flush(lang, float("inf"))
    return rows


def pair_rows(segments: Sequence[dict], langs: Sequence[str]) -> list[dict]:
    """The ``pairs`` rows: the aligned ``segments`` rows, with both sides in ``translation``."""
    a, b = sorted(langs)
    return [{
        "id": r["id"], "story_id": r["story_id"], "translation": {a: r[a], b: r[b]},
        "alignment_type": r["alignment_type"], "score": r["score"],
        f"{a}_ids": r[f"{a}_ids"], f"{b}_ids": r[f"{b}_ids"], "differences": r["differences"],
    } for r in segments if r["status"] == "aligned"]


@dataclass(frozen=True)
class Reference:
    """A parallel version a comparable document is linked to, with the links (``align.links.Link``,
    indices into the alignable units of each document)."""

    entry: Entry
    units: Sequence[Sentence]
    links: Sequence


def comparable_rows(story_id: str, entry: Entry, units: Sequence[Sentence], refs: Sequence[Reference],
                    compare: Callable) -> list[dict]:
    """The ``comparable`` rows of one comparable document: every unit, in document order, in one
    row per link to a parallel version (in ``refs`` order), or one ``unlinked`` row, or one
    ``boilerplate`` row. ``compare(text, lang, ref_text, ref_lang, label=, ref_label=)`` gives a
    link's conflicts and typed differences (:func:`framing.conflicts.compare_claims` in the build).
    """
    index = {u.id: k for k, u in enumerate(u for u in units if u.alignable)}
    alignable = {id(ref): [x for x in ref.units if x.alignable] for ref in refs}
    # alignable index -> (ref, its sentence, link, the other version's sentence a carried link came from)
    by_unit: dict[int, list[tuple[Reference, Sentence, object, str | None]]] = {}
    for ref in refs:
        other = next((o for o in refs if o is not ref), None)
        for link in ref.links:
            carried = link.via is not None and other is not None
            via_id = sentence_id(other.entry.id, alignable[id(other)][link.via]) if carried else None
            by_unit.setdefault(link.src, []).append((ref, alignable[id(ref)][link.tgt], link, via_id))
    rows: list[dict] = []

    def add(u: Sentence, status: str, **ref_columns) -> None:
        rows.append({"id": f"{story_id}/{entry.id}/{len(rows):05d}", "story_id": story_id, "doc_id": entry.id,
                     "lang": entry.lang, "text": u.text, "ids": [sentence_id(entry.id, u)], "status": status,
                     "ref_doc_id": None, "ref_lang": None, "ref_text": None, "ref_ids": None, "via_ids": None,
                     "score": None, "conflicts": [], "differences": []} | ref_columns)

    for u in units:
        if not u.alignable:
            add(u, "boilerplate")
            continue
        linked = by_unit.get(index[u.id], [])
        if not linked:
            add(u, "unlinked")
        for ref, target, link, via_id in linked:
            conflicts, diffs = compare(u.text, entry.lang, target.text, ref.entry.lang,
                                       label=entry.id, ref_label=ref.entry.id)
            add(u, "linked", ref_doc_id=ref.entry.id, ref_lang=ref.entry.lang, ref_text=target.text,
                ref_ids=[sentence_id(ref.entry.id, target)], via_ids=[via_id] if via_id else None,
                score=_round(link.score),
                conflicts=[c.to_dict() for c in conflicts], differences=[d.to_dict() for d in diffs])
    return rows


def document_rows(entries: Sequence[Entry], documents: dict, units: dict[str, list[Sentence]]) -> list[dict]:
    """The ``documents`` rows of ``entries``: metadata, the original text, and every unit with its offsets."""
    out = []
    for e in entries:
        d = documents[e.id]
        out.append({
            "id": e.id, "story_id": e.story, "lang": e.lang, "outlet": e.outlet or "", "role": e.role,
            "file": e.file, "sha256": e.sha256, "note": e.note or "", "text": d.text,
            "sentences": [{"id": sentence_id(e.id, u), "start": u.start, "end": u.end, "paragraph": u.paragraph,
                           "label": u.label, "reason": u.reason or ""} for u in units[e.id]],
        })
    return out


def read_config(out_dir: str | Path, config: str):
    """One config of a dataset folder (all its shards) as a pyarrow table, or a one-line error saying
    what is wrong.

    The report and the MT evaluation read the folder this way: pyarrow only, no ``datasets`` import.
    """
    from .shards import read_shards

    root = Path(out_dir)
    if not root.exists():
        raise CorpusError(root, "no such dataset folder")
    if not root.is_dir():
        raise CorpusError(root, "not a folder; give the dataset folder written by `diptych build`")
    return read_shards(root, config)


def write_text_file(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="")


__all__ = ["SPLIT", "SCORE_DECIMALS", "Reference", "StoryPair", "comparable_rows", "document_rows", "pair_rows",
           "read_config", "segment_rows", "sentence_id", "story_pairs", "write_text_file"]
