"""Sentences in, beads out: the whole alignment pipeline behind one function.

1. Embed every sentence (each distinct text once, cached on disk), and the
   runs of consecutive sentences the search can use (see ``concat``).
2. Find a band: exhaustive for short documents, Vecalign's coarse-to-fine
   block averages for long ones (time and memory linear in length).
3. Anchor pass (Bertalign's first pass): within the band, keep each source
   sentence's top-k target sentences and find the best monotone chain of
   such 1-1 links. Confident links pin the alignment down globally, so a long
   run of untranslated material cannot drag the local search off course.
4. Final pass: every bead type up to ``max_size`` in a window around the
   anchors, scored by :class:`align.similarity.BeadScorer`.
5. Re-scoring (``concat=pairs``): longer runs were only approximated, so
   where merging two adjacent beads of that path, or splitting one of its
   beads in two, scores within ``rescore_margin`` of the path, the runs of 3+
   sentences involved are embedded exactly and the final pass runs again,
   with beads over longer runs limited to those embedded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .beads import Bead
from .search import Band, band_from_anchors, band_search, bead_types, coarse_band, path_to_beads
from .similarity import BeadScorer, SimilarityConfig, SpanEmbeddings, mix, span_texts

CONCAT_MODES = ("pairs", "exact", "mean")


@dataclass(frozen=True)
class AlignConfig:
    """Every setting that changes the output; recorded in the dataset card."""

    max_size: int = 6  # sentences in one bead, both sides together
    max_side: int = 5  # sentences on one side of a bead
    top_k: int = 3  # anchor pass: candidate targets per source sentence
    window: int = 5  # final pass: sentences around the anchor chain
    row_window: int = 2  # final pass: rows around each row whose columns it may also use
    exhaustive_cells: int = 1_000_000  # larger lattices get a coarse-to-fine band first
    band_margin: int = 12  # coarse-to-fine: cells added on each side of a projected path
    concat: str = "pairs"  # pairs: embed runs of 2, approximate longer ones; exact: embed all; mean: embed none
    rescore_margin: float | None = 0.05  # concat=pairs: embed longer runs where the path's merges/splits score this close; None: off
    similarity: SimilarityConfig = field(default_factory=SimilarityConfig)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Alignment:
    beads: list[Bead]
    n_src: int
    n_tgt: int
    config: AlignConfig
    embedded_texts: int = 0  # texts sent to the encoder (0 with a warm cache or precomputed vectors)


def _anchor_scores(E: np.ndarray, F: np.ndarray, k: int):
    """First-pass scores: cosine for a row's top-k columns inside the band, 0 elsewhere."""
    n, m = len(E), len(F)

    def scores(a, b, rows, cols):
        if a == 0 or b == 0:
            return np.zeros(cols.shape)
        sims = np.full(cols.shape, -np.inf)
        valid = (rows[:, None] >= 1) & (rows[:, None] <= n) & (cols >= 1) & (cols <= m)
        r, w = np.nonzero(valid)
        if len(r):
            sims[r, w] = np.einsum("kd,kd->k", E[rows[r] - 1], F[cols[r, w] - 1])
        kk = min(k, sims.shape[1])
        if kk == 0:
            return np.zeros(cols.shape)
        thresh = np.partition(sims, sims.shape[1] - kk, axis=1)[:, sims.shape[1] - kk][:, None]
        return np.where(valid & (sims >= thresh), sims, 0.0)

    return scores


def anchors(E: np.ndarray, F: np.ndarray, band: Band | None, k: int) -> list[tuple[int, int]]:
    """States (i, j) right after each 1-1 link of the best top-k chain."""
    path = band_search(len(E), len(F), [(1, 0), (0, 1), (1, 1)], _anchor_scores(E, F, k), band)
    out, i, j = [], 0, 0
    for a, b in path:
        i, j = i + a, j + b
        if (a, b) == (1, 1):
            out.append((i, j))
    return out


def align_embeddings(
    src: SpanEmbeddings,
    tgt: SpanEmbeddings,
    src_texts: Sequence[str],
    tgt_texts: Sequence[str],
    config: AlignConfig = AlignConfig(),
    translations: Sequence[str] | None = None,
    src_headings: np.ndarray | None = None,
    tgt_headings: np.ndarray | None = None,
    embed_runs=None,
) -> list[Bead]:
    """The search, given span embeddings of both documents.

    ``src_headings[s]`` (optional) marks headings: they pair only with headings and stand alone.
    ``embed_runs(side, k, starts)`` (optional; side "src" or "tgt") returns the exact vectors of
    those runs of k sentences, for re-scoring (see :meth:`SpanEmbeddings.set_runs`).
    """
    n, m = src.n, tgt.n
    if n == 0 or m == 0:
        return [Bead((i,), ()) for i in range(n)] + [Bead((), (j,)) for j in range(m)]
    E, F = src.spans[1], tgt.spans[1]
    band = coarse_band(E, F, margin=config.band_margin, exhaustive_cells=config.exhaustive_cells)
    links = anchors(E, F, band, config.top_k)
    final_band = band_from_anchors(links, n, m, config.window, config.row_window)
    pair_level = float(np.median([E[i - 1] @ F[j - 1] for i, j in links])) if links else None
    if band is not None:  # never look outside the coarse band
        final_band = Band(np.maximum(final_band.lo, band.lo), np.minimum(final_band.hi, band.hi))
        final_band = Band(np.minimum(final_band.lo, final_band.hi), final_band.hi)

    def search():
        scorer = BeadScorer(src, tgt, list(src_texts), list(tgt_texts), config.similarity,
                            list(translations) if translations is not None else None, pair_level=pair_level,
                            src_headings=src_headings, tgt_headings=tgt_headings, band=band)
        return path_to_beads(band_search(n, m, bead_types(config.max_size, config.max_side), scorer, final_band)), scorer

    path, scorer = search()
    if embed_runs is not None and config.rescore_margin is not None:
        runs = close_runs(path, scorer, config, src.exact, tgt.exact)
        for side, spans in (("src", src), ("tgt", tgt)):
            for k in range(2, spans.max_side + 1):
                if k not in spans.exact:  # from now on only the runs embedded here
                    starts = np.array(sorted(runs[side].get(k, ())), dtype=np.int64)
                    spans.set_runs(k, starts, embed_runs(side, k, starts))
        path, scorer = search()
    return [Bead(tuple(s), tuple(t), scorer.bead_score(s, t) if len(s) and len(t) else None) for s, t in path]


def close_runs(path: list[tuple[range, range]], scorer: BeadScorer, config: AlignConfig,
               src_exact: set[int], tgt_exact: set[int]) -> dict[str, dict[int, set[int]]]:
    """Runs not embedded exactly (start ids by side and size) that the re-scoring needs: those of
    the path's beads, and of each merge of two adjacent beads or split of one bead in two that
    scores within ``config.rescore_margin`` of the beads it replaces."""
    runs: dict[str, dict[int, set[int]]] = {"src": {}, "tgt": {}}

    def need(beads):
        for s, t in beads:
            if not len(s) or not len(t):  # skips use no runs
                continue
            for side, r, exact in (("src", s, src_exact), ("tgt", t, tgt_exact)):
                if len(r) not in exact:
                    runs[side].setdefault(len(r), set()).add(r.start)

    def fits(s, t):
        return len(s) <= config.max_side and len(t) <= config.max_side and len(s) + len(t) <= config.max_size

    margin = config.rescore_margin
    scores = [scorer.bead_score(s, t) for s, t in path]
    need(path)
    for k in range(len(path) - 1):
        (s1, t1), (s2, t2) = path[k], path[k + 1]
        merged = (range(s1.start, s2.stop), range(t1.start, t2.stop))
        if len(merged[0]) and len(merged[1]) and fits(*merged):
            if scorer.bead_score(*merged) > scores[k] + scores[k + 1] - margin:
                need([merged])
    for (s, t), score in zip(path, scores):
        if not len(s) or not len(t) or len(s) + len(t) < 3:
            continue
        for p in range(len(s) + 1):
            for q in range(len(t) + 1):
                if (p, q) in ((0, 0), (len(s), len(t))):
                    continue
                halves = [(s[:p], t[:q]), (s[p:], t[q:])]
                if sum(scorer.bead_score(x, y) for x, y in halves) > score - margin:
                    need(halves)
    return runs


def build_spans(texts: Sequence[str], encoder, config: AlignConfig, precomputed: np.ndarray | None = None) -> SpanEmbeddings:
    """Sentence and run embeddings for one document, embedding only what ``concat`` asks for."""
    texts = list(texts)
    lengths = np.array([len(t) for t in texts], dtype=np.float64)
    if precomputed is not None:
        spans = SpanEmbeddings(precomputed, config.max_side, lengths)
    else:
        vectors = encoder.encode(texts) if texts else np.zeros((0, 384), np.float32)
        spans = SpanEmbeddings(vectors, config.max_side, lengths)
        if config.concat != "mean" and encoder is not None:
            sizes = [2] if config.concat == "pairs" else list(range(2, config.max_side + 1))
            for k in sizes:
                runs = span_texts(texts, k)
                if runs:
                    spans.set_exact(k, encoder.encode(runs))
    spans.fill()
    return spans


def align(
    src_texts: Sequence[str],
    tgt_texts: Sequence[str],
    *,
    encoder=None,
    config: AlignConfig = AlignConfig(),
    translations: Sequence[str] | None = None,
    src_embeddings: np.ndarray | None = None,
    tgt_embeddings: np.ndarray | None = None,
    src_headings: np.ndarray | None = None,
    tgt_headings: np.ndarray | None = None,
) -> Alignment:
    """Align two lists of sentences. ``encoder`` is needed unless both embeddings are given."""
    if config.concat not in CONCAT_MODES:
        raise ValueError(f"concat must be one of {CONCAT_MODES}")
    if translations is not None and len(translations) != len(src_texts):
        raise ValueError(f"{len(translations)} translations for {len(src_texts)} source sentences")
    before = encoder.stats.embedded if encoder is not None and hasattr(encoder, "stats") else 0
    src = build_spans(src_texts, encoder, config, src_embeddings)
    tgt = build_spans(tgt_texts, encoder, config, tgt_embeddings)
    fuse = translations is not None and encoder is not None and config.similarity.mt_fusion
    if fuse:
        src = src.fused(build_spans(translations, encoder, config), config.similarity.mt_fusion)

    def embed_runs(side: str, k: int, starts: np.ndarray) -> np.ndarray:
        """Exact vectors of the runs of ``k`` sentences at ``starts`` (fused like the rest of the side)."""
        if not len(starts):
            return np.zeros((0, src.spans[1].shape[1]), np.float32)
        texts = src_texts if side == "src" else tgt_texts
        vecs = encoder.encode(span_texts(list(texts), k, starts))
        if side == "src" and fuse:
            vecs = mix(vecs, encoder.encode(span_texts(list(translations), k, starts)), config.similarity.mt_fusion)
        return vecs

    rescore = config.concat == "pairs" and encoder is not None and src_embeddings is None and tgt_embeddings is None
    beads = align_embeddings(src, tgt, src_texts, tgt_texts, config, translations, src_headings, tgt_headings,
                             embed_runs if rescore else None)
    after = encoder.stats.embedded if encoder is not None and hasattr(encoder, "stats") else 0
    return Alignment(beads, len(src_texts), len(tgt_texts), config, after - before)


@dataclass
class DocumentAlignment:
    """An alignment of two segmented documents: beads over their alignable units."""

    src_units: list  # corpus.segment.Sentence, all of them (boilerplate included)
    tgt_units: list
    beads: list[Bead]  # ids are unit ids
    alignment: Alignment


def align_documents(src_units, tgt_units, *, encoder=None, config: AlignConfig = AlignConfig(),
                    translations: Sequence[str] | None = None,
                    src_embeddings: np.ndarray | None = None,
                    tgt_embeddings: np.ndarray | None = None) -> DocumentAlignment:
    """Align the alignable units (text and headings) of two segmented documents.

    ``translations`` and the embeddings, when given, have one row per
    *alignable* unit. Bead ids are unit ids, so boilerplate ids never appear.
    """
    src_keep = [u for u in src_units if u.alignable]
    tgt_keep = [u for u in tgt_units if u.alignable]
    result = align([u.text for u in src_keep], [u.text for u in tgt_keep], encoder=encoder, config=config,
                   translations=translations, src_embeddings=src_embeddings, tgt_embeddings=tgt_embeddings,
                   src_headings=np.array([u.label == "heading" for u in src_keep], dtype=bool),
                   tgt_headings=np.array([u.label == "heading" for u in tgt_keep], dtype=bool))
    beads = [Bead(tuple(src_keep[i].id for i in b.src), tuple(tgt_keep[j].id for j in b.tgt), b.score)
             for b in result.beads]
    return DocumentAlignment(list(src_units), list(tgt_units), beads, result)
