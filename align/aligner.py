"""Sentences in, beads out: the whole alignment pipeline behind one function.

1. Embed every sentence and every pair of consecutive sentences (each distinct
   text once, cached on disk); runs of three or more are approximated from the
   pairs inside them (see ``concat``).
2. Find a band: exhaustive for short documents, Vecalign's coarse-to-fine
   block averages for long ones (time and memory linear in length).
3. Anchor pass (Bertalign's first pass): within the band, keep each source
   sentence's top-k target sentences and find the best monotone chain of
   such 1-1 links. Confident links pin the alignment down globally, and their
   median score is the unit (sigma) of the bead scorer.
4. Exact runs where they matter (``concat=pairs``): every bead over a run of
   three or more sentences that lies on some path scoring within
   ``rescore_margin`` x sigma of the best one (its max-marginal, from a
   forward and a backward pass) gets its runs embedded exactly; runs nobody
   could use stay approximations, and from then on beads over runs of that
   size may use only the exact ones.
5. Final pass: every bead type up to ``max_size`` in a window around the
   anchors, scored by :class:`align.similarity.BeadScorer`, with affine gaps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from .beads import Bead
from .search import Band, band_from_anchors, band_search, bead_types, coarse_band, near_optimal_beads, path_to_beads
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
    rescore_margin: float | None = 0.5  # concat=pairs: embed the longer runs of beads this close (x sigma) to the best path
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
    translation_weight: float | None = None  # weight of the translation's embedding, when one was given


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
    src_headings: np.ndarray | None = None,
    tgt_headings: np.ndarray | None = None,
    embed_runs=None,
) -> list[Bead]:
    """The search, given span embeddings of both documents.

    ``src_headings[s]`` (optional) marks headings: they pair only with headings and stand alone.
    ``embed_runs(side, k, starts)`` (optional; side "src" or "tgt") returns the exact vectors of
    those runs of k sentences, for step 4 (see :meth:`SpanEmbeddings.set_runs`).
    """
    n, m = src.n, tgt.n
    if n == 0 or m == 0:
        return [Bead((i,), ()) for i in range(n)] + [Bead((), (j,)) for j in range(m)]
    E, F = src.spans[1], tgt.spans[1]
    band = coarse_band(E, F, margin=config.band_margin, exhaustive_cells=config.exhaustive_cells)
    links = anchors(E, F, band, config.top_k)
    final_band = band_from_anchors(links, n, m, config.window, config.row_window)
    if band is not None:  # never look outside the coarse band
        final_band = Band(np.maximum(final_band.lo, band.lo), np.minimum(final_band.hi, band.hi))
        final_band = Band(np.minimum(final_band.lo, final_band.hi), final_band.hi)
    types = bead_types(config.max_size, config.max_side)
    sim = config.similarity

    def scorer() -> BeadScorer:
        return BeadScorer(src, tgt, list(src_texts), list(tgt_texts), sim, anchors=links,
                          src_headings=src_headings, tgt_headings=tgt_headings)

    score = scorer()
    if embed_runs is not None and config.rescore_margin is not None:
        approx_src = {k for k in range(2, src.max_side + 1) if k not in src.exact}
        approx_tgt = {k for k in range(2, tgt.max_side + 1) if k not in tgt.exact}
        near = near_optimal_beads(n, m, types, score, final_band, config.rescore_margin * score.sigma,
                                  wanted=lambda a, b: a in approx_src or b in approx_tgt)
        for side, spans, sizes in (("src", src, approx_src), ("tgt", tgt, approx_tgt)):
            for k in sorted(sizes):
                starts = sorted({(i - a if side == "src" else j - b) for a, b, i, j in near
                                 if (a if side == "src" else b) == k})
                starts = np.array(starts, dtype=np.int64)
                spans.set_runs(k, starts, embed_runs(side, k, starts))
        score = scorer()
    path = path_to_beads(band_search(n, m, types, score, final_band, gap_extend=sim.gap_extend))
    return [Bead(tuple(s), tuple(t), v) for (s, t), v in zip(path, score.bead_scores(path))]


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
    if translations is not None and encoder is None:
        raise ValueError("translations need an encoder to embed them (precomputed embeddings have none)")
    if translations is not None and len(translations) != len(src_texts):
        raise ValueError(f"{len(translations)} translations for {len(src_texts)} source sentences")
    before = encoder.stats.embedded if encoder is not None and hasattr(encoder, "stats") else 0
    src = build_spans(src_texts, encoder, config, src_embeddings)
    tgt = build_spans(tgt_texts, encoder, config, tgt_embeddings)
    weight = None
    if translations is not None and encoder is not None:
        mt = build_spans(translations, encoder, config)
        weight = translation_weight(src, mt, tgt, config)
        src = src.fused(mt, weight)

    def embed_runs(side: str, k: int, starts: np.ndarray) -> np.ndarray:
        """Exact vectors of the runs of ``k`` sentences at ``starts`` (fused like the rest of the side)."""
        if not len(starts):
            return np.zeros((0, src.spans[1].shape[1]), np.float32)
        texts = src_texts if side == "src" else tgt_texts
        vecs = encoder.encode(span_texts(list(texts), k, starts))
        if side == "src" and weight:
            vecs = mix(vecs, encoder.encode(span_texts(list(translations), k, starts)), weight)
        return vecs

    rescore = config.concat == "pairs" and encoder is not None and src_embeddings is None and tgt_embeddings is None
    beads = align_embeddings(src, tgt, src_texts, tgt_texts, config, src_headings, tgt_headings,
                             embed_runs if rescore else None)
    after = encoder.stats.embedded if encoder is not None and hasattr(encoder, "stats") else 0
    return Alignment(beads, len(src_texts), len(tgt_texts), config, after - before, weight)


def translation_weight(src: SpanEmbeddings, mt: SpanEmbeddings, tgt: SpanEmbeddings, config: AlignConfig,
                       grid: Sequence[float] = tuple(np.round(np.arange(0, 0.91, 0.1), 1))) -> float:
    """How much of the translation's embedding to mix into the source side, measured on this pair.

    The source (a cross-lingual view) and its translation (a monolingual one) are two noisy
    views of the same alignment. For each weight on ``grid``, the mixed view's separation d'
    (median cosine of the links both views agree on, minus the mean cosine of random pairs,
    over their spread) says how well it tells translations from chance in this pair; the
    weight with the largest d' wins. A weak MT system, or one in the wrong language,
    separates less and gets little or no weight; 0 is on the grid.
    """
    E, T, F = src.spans[1], mt.spans[1], tgt.spans[1]
    n, m = len(E), len(F)
    if n < 2 or m < 2:
        return 0.0

    def links(X: np.ndarray) -> set[tuple[int, int]]:
        band = coarse_band(X, F, margin=config.band_margin, exhaustive_cells=config.exhaustive_cells)
        return set(anchors(X, F, band, config.top_k))

    agreed = sorted(links(E) & links(T))
    if len(agreed) < 3:
        return 0.0
    li = np.array([a for a, _ in agreed]) - 1
    lj = np.array([b for _, b in agreed]) - 1
    rng = np.random.default_rng(0)
    i, j = rng.integers(0, n, 20000), rng.integers(0, m, 20000)
    best, best_d = 0.0, -np.inf
    for w in grid:
        X = mix(E, T, float(w)) if w else E
        chance = np.einsum("kd,kd->k", X[i], F[j])
        d = (float(np.median(np.einsum("kd,kd->k", X[li], F[lj]))) - chance.mean()) / float(chance.std() + 1e-9)
        if best_d == -np.inf or d > best_d + 1e-4 * abs(best_d):  # a real gain, not rounding
            best, best_d = float(w), d
    return best


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
