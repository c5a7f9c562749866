"""Bertalign's published algorithm, the reference diptych is measured against.

Written from the paper (Liu & Zhu 2022, "Bertalign: Improved word embedding-based
sentence alignment for Chinese-English parallel corpora of literary texts", DSH)
and the documented behaviour of its release, not from its code. It runs on any
encoder's vectors, so benchmarks compare algorithms on the same embeddings.

1. Every run of 1 to ``max_align - 1`` consecutive sentences is embedded
   (Bertalign's "overlaps"; runs are the sentences joined by one space).
2. First pass: each source sentence keeps its ``top_k`` most similar target
   sentences (over the whole target). A DP over 0-1, 1-0 and 1-1 moves, in a
   diagonal band of half-width max(250, 6% of the longer text), where a 1-1
   move gains the cosine only if the target is among the source's top-k and
   skips gain nothing, finds a monotone chain of confident 1-1 links.
3. Second pass: between consecutive links, the target range from the
   previous link to the next, widened by ``win``, is searched with every bead
   type a-b (a, b >= 1, a + b <= ``max_align``) plus 1-0 and 0-1. A bead scores
   the cosine of its two runs minus the mean cosine of each run with the
   sentences just outside the other run (the neighbour margin), times
   log2(1 + min/max) of the runs' lengths in UTF-8 bytes (target lengths
   scaled by the documents' byte ratio); a skip scores ``skip``.

Released behaviour kept on purpose, since it changes results: the first
search row (no source sentence used yet) is never scored, so leading target
sentences are skipped for free; of equal scores, the earlier bead type in
the order 0-1, 1-0, 1-1, 1-2, ..., 2-1, ... wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .beads import Bead


@dataclass(frozen=True)
class BertalignConfig:
    max_align: int = 5  # sentences in a bead, both sides together
    top_k: int = 3  # first pass: candidate targets per source sentence
    win: int = 5  # second pass: target sentences searched around the first-pass links
    skip: float = -0.1  # score of a 1-0 or 0-1 bead
    margin: bool = True  # subtract the neighbour cosine
    len_penalty: bool = True  # multiply by log2(1 + min/max) of the runs' lengths

    def as_dict(self) -> dict:
        return asdict(self)


def alignment_types(max_align: int) -> list[tuple[int, int]]:
    """0-1, 1-0, then a-b for a, b >= 1 with a + b <= max_align, a-major: Bertalign's order."""
    return [(0, 1), (1, 0)] + [(a, b) for a in range(1, max_align) for b in range(1, max_align) if a + b <= max_align]


def run_texts(sentences: Sequence[str], k: int) -> list[str]:
    """Every run of ``k`` consecutive sentences, joined by one space (index = first sentence)."""
    return [" ".join(sentences[s : s + k]) for s in range(len(sentences) - k + 1)]


def embed_runs(sentences: Sequence[str], encoder, max_run: int) -> dict[int, np.ndarray]:
    """Bertalign's embedding workload: ``{k: vectors of every run of k sentences}`` for k = 1..max_run."""
    out = {}
    for k in range(1, max_run + 1):
        texts = run_texts(sentences, k)
        out[k] = encoder.encode(texts) if texts else np.zeros((0, 0), np.float32)
    return out


def run_lengths(sentences: Sequence[str], max_run: int) -> dict[int, np.ndarray]:
    """UTF-8 byte length of every run's text (separators included), as Bertalign measures it."""
    b = np.array([len(s.encode("utf-8")) for s in sentences], dtype=np.float64)
    c = np.concatenate([[0.0], np.cumsum(b)])
    return {k: c[k:] - c[:-k] + (k - 1) for k in range(1, max_run + 1) if len(b) >= k}


def first_pass_band(n: int, m: int, min_win: int = 250, percent: float = 0.06) -> tuple[np.ndarray, np.ndarray]:
    """The first pass's diagonal band: rows 0..n, target range around int(i * m / n)."""
    w = max(min_win, int(max(n, m) * percent))
    centre = (np.arange(n + 1) * (m / n)).astype(np.int64) if n else np.zeros(1, np.int64)
    return np.maximum(0, centre - w), np.minimum(centre + w, m)


def first_pass(E: np.ndarray, F: np.ndarray, top_k: int) -> list[tuple[int, int]]:
    """Lattice states (i, j) right after each 1-1 link of the best top-k chain."""
    n, m = len(E), len(F)
    k = min(top_k, m)
    sims = E @ F.T
    top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    lo, hi = first_pass_band(n, m)
    cost = [np.zeros(hi[0] - lo[0] + 1)]
    ptr = [np.zeros(hi[0] - lo[0] + 1, dtype=np.int8)]  # row 0: 0-1 moves, never scored
    for i in range(1, n + 1):
        cols = np.arange(lo[i], hi[i] + 1)
        W = len(cols)
        other = np.full(W, -np.inf)
        arg = np.full(W, -1, dtype=np.int8)
        plo, phi = lo[i - 1], hi[i - 1]
        ok = (cols >= plo) & (cols <= phi)  # 1-0 from (i-1, j)
        other[ok] = cost[i - 1][cols[ok] - plo]
        arg[ok] = 1
        g = np.zeros(W)  # a 1-1 move into (i, j) gains the cosine if target j-1 is a top-k of source i-1
        at = top[i - 1] + 1 - lo[i]
        keep = (at >= 0) & (at < W)
        g[at[keep]] = sims[i - 1, top[i - 1][keep]]
        ok = (cols - 1 >= plo) & (cols - 1 <= phi) & (cols >= 1)  # 1-1 from (i-1, j-1)
        cand = np.full(W, -np.inf)
        cand[ok] = cost[i - 1][cols[ok] - 1 - plo] + g[ok]
        better = cand > other
        other[better], arg[better] = cand[better], 2
        # 0-1 from (i, j-1) gains nothing and wins ties: the row is a running maximum
        run = np.maximum.accumulate(other)
        left = np.concatenate([[-np.inf], run[:-1]])
        from_left = left >= other
        from_left[0] = False
        arg[from_left] = 0
        cost.append(run)
        ptr.append(arg)
    types = [(0, 1), (1, 0), (1, 1)]
    links, i, j = [], n, m
    while i > 0 or j > 0:
        t = int(ptr[i][j - lo[i]])
        if t == 2:
            links.append((i, j))
        a, b = types[t]
        i, j = i - a, j - b
    return links[::-1]


def second_pass_band(links: list[tuple[int, int]], n: int, m: int, win: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows after each link up to the next may use the targets between them, widened by ``win``."""
    links = list(links)
    if not links:
        links = [(n, m)]
    elif links[-1][0] != n:
        if links[-1][1] == m:
            links.pop()
        links.append((n, m))
    elif links[-1][1] != m:
        links.pop()
        links.append((n, m))
    lo = np.zeros(n + 1, dtype=np.int64)
    hi = np.zeros(n + 1, dtype=np.int64)
    prev_i = prev_j = 0
    for i, j in links:
        lo[prev_i + 1 : i + 1] = max(0, prev_j - win)
        hi[prev_i + 1 : i + 1] = min(m, j + win)
        prev_i, prev_j = i, j
    lo[0], hi[0] = lo[1] if n else 0, hi[1] if n else m
    return lo, hi


def _neighbour_sims(vecs: np.ndarray, ones: np.ndarray, before: np.ndarray, after: np.ndarray) -> np.ndarray:
    """Mean cosine of each vector with the sentence before its run and the one after (those that exist)."""
    count = len(ones)
    has_before, has_after = before >= 0, after < count
    left = np.where(has_before, np.einsum("kd,kd->k", vecs, ones[np.clip(before, 0, count - 1)]), 0.0)
    right = np.where(has_after, np.einsum("kd,kd->k", vecs, ones[np.clip(after, 0, count - 1)]), 0.0)
    return np.where(has_before & has_after, (left + right) / 2, left + right)


def second_pass(src_runs: dict[int, np.ndarray], tgt_runs: dict[int, np.ndarray],
                src_lens: dict[int, np.ndarray], tgt_lens: dict[int, np.ndarray],
                lo: np.ndarray, hi: np.ndarray, config: BertalignConfig) -> list[tuple[tuple[int, ...], tuple[int, ...]]]:
    n, m = len(src_runs[1]), len(tgt_runs[1])
    types = alignment_types(config.max_align)
    ratio = src_lens[1].sum() / tgt_lens[1].sum()
    E, F = src_runs[1], tgt_runs[1]
    cost = [np.zeros(hi[0] - lo[0] + 1)]
    ptr = [np.zeros(hi[0] - lo[0] + 1, dtype=np.int8)]  # row 0: 0-1 moves, never scored
    for i in range(1, n + 1):
        cols = np.arange(lo[i], hi[i] + 1)
        W = len(cols)
        other = np.full(W, -np.inf)
        arg = np.full(W, -1, dtype=np.int8)
        for t, (a, b) in enumerate(types):
            if a == 0 or i - a < 0:
                continue
            p = i - a
            plo, phi = lo[p], hi[p]
            pj = cols - b
            ok = (pj >= plo) & (pj <= phi) & (pj >= 0)
            if not ok.any():
                continue
            prev = np.full(W, -np.inf)
            prev[ok] = cost[p][pj[ok] - plo]
            ok &= prev > -np.inf
            if not ok.any():
                continue
            if b == 0:
                score = np.full(W, config.skip)
            else:
                score = np.full(W, -np.inf)
                j0 = pj[ok]
                u = np.broadcast_to(src_runs[a][p], (len(j0), E.shape[1]))
                v = tgt_runs[b][j0]
                s = v @ src_runs[a][p]
                if config.margin:
                    tgt_nb = _neighbour_sims(u, F, j0 - 1, j0 + b)
                    src_nb = _neighbour_sims(v, E, np.full(len(j0), p - 1), np.full(len(j0), i))
                    s = s - (tgt_nb + src_nb) / 2
                if config.len_penalty:
                    ls = src_lens[a][p]
                    lt = tgt_lens[b][j0] * ratio
                    s = s * np.log2(1 + np.minimum(ls, lt) / np.maximum(ls, lt))
                score[ok] = s
            cand = np.where(ok, prev + score, -np.inf)
            better = cand > other
            other[better], arg[better] = cand[better], t
        # 0-1 from (i, j-1) scores skip and wins ties: resolved left to right
        row = other.copy()
        for w in range(1, W):
            left = row[w - 1] + config.skip
            if row[w - 1] > -np.inf and left >= other[w]:
                row[w], arg[w] = left, 0
        cost.append(row)
        ptr.append(arg)
    beads, i, j = [], n, m
    while i > 0 or j > 0:
        t = int(ptr[i][j - lo[i]])
        if t < 0:
            raise RuntimeError(f"no path reaches ({i}, {j})")
        a, b = types[t]
        beads.append((tuple(range(i - a, i)), tuple(range(j - b, j))))
        i, j = i - a, j - b
    return beads[::-1]


def bertalign(src_runs: dict[int, np.ndarray], tgt_runs: dict[int, np.ndarray],
              src_texts: Sequence[str], tgt_texts: Sequence[str],
              config: BertalignConfig = BertalignConfig()) -> list[Bead]:
    """Align two documents given their run embeddings (see :func:`embed_runs`); beads in order."""
    n, m = len(src_texts), len(tgt_texts)
    if n == 0 or m == 0:
        return [Bead((i,), ()) for i in range(n)] + [Bead((), (j,)) for j in range(m)]
    max_run = config.max_align - 1
    src = {k: np.asarray(v, np.float32) for k, v in src_runs.items() if k <= max_run and len(v)}
    tgt = {k: np.asarray(v, np.float32) for k, v in tgt_runs.items() if k <= max_run and len(v)}
    links = first_pass(src[1], tgt[1], config.top_k)
    lo, hi = second_pass_band(links, n, m, config.win)
    beads = second_pass(src, tgt, run_lengths(src_texts, max_run), run_lengths(tgt_texts, max_run), lo, hi, config)
    return [Bead(s, t) for s, t in beads]
