"""Dynamic programming over beads, in a band, coarse to fine.

The core (:func:`band_search`) finds the highest-scoring sequence of beads
through the lattice of (source sentences used, target sentences used), but
only inside a band of allowed cells: its time and memory are O(cells in band).
:func:`coarse_band` builds that band the way Vecalign does: align block
averages of the embeddings at a coarse resolution (exhaustively, when small),
project the path one level down, widen it by a margin, align again there, and
so on to the sentences. Every level costs O(length x band width), so the whole
search grows linearly with document length.

Scores are supplied by the caller (see :mod:`align.similarity`): the DP knows
nothing of embeddings or translations, which keeps it testable on hand-made
matrices.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

NEG = -np.inf

# scores(a, b, rows, cols) -> array like cols: score of the bead made of source
# sentences [i-a, i) and target sentences [j-b, j) for i in rows (shape (R,)),
# j in cols (shape (R, W)); cells outside the documents may hold anything.
BeadScores = Callable[[int, int, np.ndarray, np.ndarray], np.ndarray]


def bead_types(max_size: int, max_side: int | None = None) -> list[tuple[int, int]]:
    """(a, b) sentence counts: 1-0 and 0-1, then every a, b >= 1 with a + b <= max_size."""
    max_side = max_side or max_size
    types = [(1, 0), (0, 1)]
    types += [(a, b) for a in range(1, max_side + 1) for b in range(1, max_side + 1) if a + b <= max_size]
    return types


@dataclass(frozen=True)
class Band:
    """Allowed target range ``lo[i] <= j <= hi[i]`` for each source state i in 0..n."""

    lo: np.ndarray
    hi: np.ndarray

    @property
    def width(self) -> int:
        return int((self.hi - self.lo).max()) + 1

    @staticmethod
    def full(n: int, m: int) -> Band:
        return Band(np.zeros(n + 1, dtype=np.int64), np.full(n + 1, m, dtype=np.int64))

    def cells(self) -> int:
        return int((self.hi - self.lo + 1).sum())


def band_search(
    n: int,
    m: int,
    types: list[tuple[int, int]],
    scores: BeadScores,
    band: Band | None = None,
    chunk: int | None = None,
    gap_extend: float | None = None,
) -> list[tuple[int, int]]:
    """Best path from (0, 0) to (n, m) as the list of bead types taken, in order.

    ``types`` must include (0, 1) and (1, 0) so that a path always exists.
    One-sided beads score what ``scores`` says for each sentence. With
    ``gap_extend`` (a ratio in [0, 1]), consecutive one-sided beads on the same
    side form one gap: its first sentence scores in full, every further one
    ``gap_extend`` times its score (Gotoh's affine gaps, three states per cell).
    Omissions come in blocks (a paragraph left out, a run of photo captions),
    so evidence for an omission belongs to the block, not to each sentence.
    The 0-1 beads stay in the same row, so they are resolved with a running
    maximum instead of a Python loop over cells.
    """
    tables = _forward(n, m, types, scores, band, chunk, gap_extend)
    return _backtrack(n, m, types, tables)


@dataclass
class _Tables:
    band: Band
    M: np.ndarray  # best score of a path ending at the cell with a two-sided bead (or the start)
    S: np.ndarray  # ... ending with a 1-0 bead
    T: np.ndarray  # ... ending with a 0-1 bead
    pM: np.ndarray  # two-sided bead type index * 3 + state before it; -2 at the start
    pS: np.ndarray  # state before the 1-0 bead
    pT: np.ndarray  # state before the 0-1 bead

    def best(self, i: int, w) -> np.ndarray:
        return np.maximum(np.maximum(self.M[i, w], self.S[i, w]), self.T[i, w])


def _rows_per_chunk(width: int) -> int:
    """Rows scored in one callback: bounds the callbacks' memory whatever the band's width."""
    return max(8, min(256, 32768 // width))


def _check_band(n: int, m: int, band: Band) -> None:
    lo, hi = band.lo, band.hi
    if lo[0] != 0 or hi[n] != m or np.any(lo > hi) or np.any(np.diff(lo) < 0) or np.any(np.diff(hi) < 0):
        raise ValueError("band must start at (0, 0), end at (n, m) and be monotone")


def _forward(n, m, types, scores, band, chunk, gap_extend) -> _Tables:
    band = band or Band.full(n, m)
    _check_band(n, m, band)
    if (0, 1) not in types or (1, 0) not in types:
        raise ValueError("bead types must include 1-0 and 0-1")
    rho = 1.0 if gap_extend is None else float(gap_extend)
    lo, hi = band.lo, band.hi
    W = band.width
    chunk = chunk or _rows_per_chunk(W)
    offsets = np.arange(W)
    M, S, T = (np.full((n + 1, W), NEG) for _ in range(3))
    pM = np.full((n + 1, W), -1, dtype=np.int16)
    pS = np.zeros((n + 1, W), dtype=np.int8)
    pT = np.zeros((n + 1, W), dtype=np.int8)
    two_sided = list(enumerate(ab for ab in types if ab[0] > 0 and ab[1] > 0))

    cache: dict[tuple[int, int], np.ndarray] = {}
    cache_start = -1
    for i in range(n + 1):
        if cache_start < 0 or i >= cache_start + chunk:
            cache_start = i
            rows = np.arange(i, min(n, i + chunk - 1) + 1)
            chunk_cols = lo[rows][:, None] + offsets[None, :]  # (R, W); cells past hi are ignored
            chunk_valid = chunk_cols <= hi[rows][:, None]
            cache = {ab: np.asarray(scores(ab[0], ab[1], rows, chunk_cols), dtype=np.float64) for ab in types}
        r = i - cache_start
        cols = chunk_cols[r]
        valid = chunk_valid[r]
        best = np.full(W, NEG)
        arg = np.full(W, -1, dtype=np.int16)
        if i == 0:
            best[0], arg[0] = 0.0, -2  # the start state (0, 0)
        for t, (a, b) in two_sided:
            p = i - a
            if p < 0:
                continue
            src_cols = cols - b - lo[p]
            ok = valid & (src_cols >= 0) & (src_cols <= hi[p] - lo[p]) & (cols - b >= 0)
            if not ok.any():
                continue
            w = src_cols[ok]
            prev = np.stack([M[p, w], S[p, w], T[p, w]])
            state = prev.argmax(0)
            cand = np.full(W, NEG)
            cand[ok] = prev[state, np.arange(len(w))] + cache[(a, b)][r][ok]
            better = cand > best
            best[better] = cand[better]
            code = np.zeros(W, dtype=np.int16)
            code[ok] = t * 3 + state
            arg[better] = code[better]
        M[i] = np.where(valid, best, NEG)
        pM[i] = arg
        if i > 0:  # 1-0 beads: from row i-1, same column; a new gap, or one more sentence of a gap
            p = i - 1
            src_cols = cols - lo[p]
            ok = valid & (src_cols >= 0) & (src_cols <= hi[p] - lo[p])
            w = src_cols[ok]
            s10 = cache[(1, 0)][r][ok]
            from_m, from_t, from_s = M[p, w] + s10, T[p, w] + s10, S[p, w] + rho * s10
            opened = np.maximum(from_m, from_t)
            row = np.full(W, NEG)
            row[ok] = np.maximum(opened, from_s)
            code = np.zeros(W, dtype=np.int8)
            code[ok] = np.where(from_s > opened, 1, np.where(from_m >= from_t, 0, 2))
            S[i], pS[i] = row, code
        # 0-1 beads within the row: T[j] = max(max(M, S)[j-1] + s[j], T[j-1] + rho * s[j]), a running maximum
        s01 = np.where(valid, cache[(0, 1)][r], 0.0)
        ms = np.maximum(M[i], S[i])
        base = np.full(W, NEG)
        base[1:] = ms[:-1] + s01[1:]
        ext = rho * s01
        ext[0] = 0.0
        C = np.cumsum(ext)
        Y = base - C
        run = np.maximum.accumulate(Y)
        T[i] = np.where(valid, run + C, NEG)
        left = np.concatenate([[NEG], run[:-1]])
        opened = Y >= left
        from_m = np.concatenate([[NEG], M[i, :-1]]) >= np.concatenate([[NEG], S[i, :-1]])
        pT[i] = np.where(opened, np.where(from_m, 0, 1), 2)
    return _Tables(band, M, S, T, pM, pS, pT)


def _backtrack(n: int, m: int, types, tb: _Tables) -> list[tuple[int, int]]:
    lo = tb.band.lo
    two_sided = [ab for ab in types if ab[0] > 0 and ab[1] > 0]
    path: list[tuple[int, int]] = []
    i, j = n, m
    w = j - lo[i]
    state = int(np.argmax([tb.M[i, w], tb.S[i, w], tb.T[i, w]]))
    if not np.isfinite(max(tb.M[i, w], tb.S[i, w], tb.T[i, w])):
        raise RuntimeError(f"no path reaches ({n}, {m}); the band is too narrow")
    while i > 0 or j > 0:
        w = j - lo[i]
        if state == 0:
            code = int(tb.pM[i, w])
            if code < 0:
                raise RuntimeError(f"no path reaches ({i}, {j}); the band is too narrow")
            a, b = two_sided[code // 3]
            state = code % 3
        elif state == 1:
            a, b = 1, 0
            state = int(tb.pS[i, w])
        else:
            a, b = 0, 1
            state = int(tb.pT[i, w])
        path.append((a, b))
        i, j = i - a, j - b
    path.reverse()
    return path


def near_optimal_beads(
    n: int,
    m: int,
    types: list[tuple[int, int]],
    scores: BeadScores,
    band: Band | None,
    margin: float,
    wanted=lambda a, b: True,
) -> list[tuple[int, int, int, int]]:
    """Every two-sided bead ``(a, b, i, j)`` (ending at state (i, j)) of a wanted type that lies on
    some path scoring within ``margin`` of the best one (its max-marginal), one-sided beads scored
    independently. A forward pass and the same pass over the reversed documents give, for each
    cell, the best path into it and the best path out of it."""
    band = band or Band.full(n, m)
    fwd = _forward(n, m, types, scores, band, None, None)
    rev_band = Band(m - band.hi[::-1], m - band.lo[::-1])

    def rev_scores(a, b, rows, cols):
        return scores(a, b, n - np.asarray(rows) + a, m - np.asarray(cols) + b)

    bwd = _forward(n, m, types, rev_scores, rev_band, None, None)
    lo, hi = band.lo, band.hi
    W = band.width
    offsets = np.arange(W)
    end = fwd.best(n, m - lo[n])
    out = []
    chunk = _rows_per_chunk(W)
    for a, b in types:
        if a == 0 or b == 0 or not wanted(a, b):
            continue
        for start in range(a, n + 1, chunk):
            rows = np.arange(start, min(n, start + chunk - 1) + 1)
            cols = lo[rows][:, None] + offsets[None, :]
            s = np.asarray(scores(a, b, rows, cols), dtype=np.float64)
            for r, i in enumerate(rows):
                p = i - a
                src = cols[r] - b - lo[p]
                ok = (cols[r] <= hi[i]) & (src >= 0) & (src <= hi[p] - lo[p]) & (cols[r] - b >= 0) & np.isfinite(s[r])
                if not ok.any():
                    continue
                j = cols[r][ok]
                into = fwd.best(p, src[ok])
                ri, rj = n - i, m - j  # the reversed documents' state for (i, j)
                out_of = bwd.best(ri, rj - rev_band.lo[ri])
                total = into + s[r][ok] + out_of
                for jj in j[total >= end - margin - 1e-9 * max(1.0, abs(end))]:  # rounding of the two sums
                    out.append((a, b, int(i), int(jj)))
    return out


def path_to_beads(path: list[tuple[int, int]]) -> list[tuple[range, range]]:
    """Bead types in order -> (source range, target range) per bead."""
    beads, i, j = [], 0, 0
    for a, b in path:
        beads.append((range(i, i + a), range(j, j + b)))
        i, j = i + a, j + b
    return beads


def band_around(path: list[tuple[int, int]], n: int, m: int, margin: int, factor: int = 1) -> Band:
    """The band covering a (coarser) path scaled by ``factor``, widened by ``margin`` cells."""
    rows_lo = np.full(n + 1, m, dtype=np.int64)
    rows_hi = np.zeros(n + 1, dtype=np.int64)
    i = j = 0
    for a, b in [(0, 0), *path]:
        i2, j2 = i + a, j + b
        r0, r1 = min(i * factor, n), min(i2 * factor, n)
        c0, c1 = min(j * factor, m), min(j2 * factor, m)
        rows_lo[r0 : r1 + 1] = np.minimum(rows_lo[r0 : r1 + 1], c0)
        rows_hi[r0 : r1 + 1] = np.maximum(rows_hi[r0 : r1 + 1], c1)
        i, j = i2, j2
    # a coarse block may end past n (or m): make sure the last row/col are covered
    rows_hi[n] = m
    rows_lo = np.minimum.accumulate(rows_lo[::-1])[::-1]  # monotone
    rows_hi = np.maximum.accumulate(rows_hi)
    idx = np.arange(n + 1)
    lo = np.maximum(rows_lo[np.maximum(idx - margin, 0)] - margin, 0)
    hi = np.minimum(rows_hi[np.minimum(idx + margin, n)] + margin, m)
    lo[0] = 0
    hi[n] = m
    return Band(lo, hi)


def band_from_anchors(anchors: list[tuple[int, int]], n: int, m: int, window: int, row_window: int = 0) -> Band:
    """The final-pass band: between two consecutive anchor states, every row from
    the first anchor's to the second's may use the target range between them,
    widened by ``window`` on each side (Bertalign's second-pass path, extended to
    the first anchor's own row so that a run of unaligned target sentences right
    after it stays reachable). ``row_window`` widens it along the source too:
    row i may use every column that rows i - row_window .. i + row_window may,
    so one wrong anchor (a caption matched just before a run of skipped target
    lines) cannot cut the true path out of the band.

    ``anchors`` are lattice states (i, j) reached right after a confident 1-1
    bead, in increasing order.
    """
    pts = [(i, j) for i, j in anchors if 0 < i <= n and 0 < j <= m]
    if not pts or pts[-1] != (n, m):
        pts.append((n, m))
    lo = np.full(n + 1, m, dtype=np.int64)
    hi = np.zeros(n + 1, dtype=np.int64)
    prev_i, prev_j = 0, 0
    for i, j in pts:
        lo[prev_i : i + 1] = np.minimum(lo[prev_i : i + 1], max(0, prev_j - window))
        hi[prev_i : i + 1] = np.maximum(hi[prev_i : i + 1], min(m, j + window))
        prev_i, prev_j = i, j
    lo = np.minimum.accumulate(lo[::-1])[::-1]
    hi = np.maximum.accumulate(hi)
    if row_window:
        idx = np.arange(n + 1)
        lo, hi = lo[np.maximum(idx - row_window, 0)], hi[np.minimum(idx + row_window, n)]
    lo[0], hi[n] = 0, m
    return Band(lo, hi)


def downsample(x: np.ndarray, factor: int) -> np.ndarray:
    """Normalised block means of consecutive rows (the coarse 'sentences')."""
    n = len(x)
    k = -(-n // factor)
    pad = np.zeros((k * factor - n, x.shape[1]), dtype=x.dtype)
    blocks = np.concatenate([x, pad]).reshape(k, factor, -1).sum(axis=1)
    norms = np.linalg.norm(blocks, axis=1, keepdims=True)
    return blocks / np.maximum(norms, 1e-9)


def block_scores(x: np.ndarray, y: np.ndarray, skip: float) -> BeadScores:
    """1-1 scores of coarse blocks: cosine of block means minus the background cosine."""
    n, m = len(x), len(y)
    rng = np.random.default_rng(0)
    k = min(n, m, 256)
    background = float((x[rng.choice(n, k, replace=False)] @ y[rng.choice(m, k, replace=False)].T).mean()) if k else 0.0

    def scores(a: int, b: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
        if a == 0 or b == 0:
            return np.full(cols.shape, skip)
        out = np.full(cols.shape, NEG)
        ok = (rows >= 1)[:, None] & (cols >= 1) & (cols <= m)
        r, w = np.nonzero(ok)
        if len(r):
            out[r, w] = np.einsum("kd,kd->k", x[rows[r] - 1], y[cols[r, w] - 1]) - background
        return out

    return scores


def coarse_band(
    x: np.ndarray,
    y: np.ndarray,
    *,
    margin: int = 8,
    factor: int = 2,
    exhaustive_cells: int = 160_000,
    coarse_skip: float = -0.05,
) -> Band | None:
    """The sentence-level band found on block averages of ``x`` and ``y`` (rows
    L2-normalised sentence embeddings), or None when the full lattice has at
    most ``exhaustive_cells`` cells and can be searched whole."""
    levels = [(x, y)]
    while (len(levels[-1][0]) + 1) * (len(levels[-1][1]) + 1) > exhaustive_cells and min(map(len, levels[-1])) > 1:
        levels.append((downsample(levels[-1][0], factor), downsample(levels[-1][1], factor)))
    if len(levels) == 1:
        return None
    coarse_types = [(1, 0), (0, 1), (1, 1)]
    path: list[tuple[int, int]] | None = None
    for level in range(len(levels) - 1, 0, -1):
        xl, yl = levels[level]
        band = None if path is None else band_around(path, len(xl), len(yl), margin, factor)
        path = band_search(len(xl), len(yl), coarse_types, block_scores(xl, yl, coarse_skip), band)
    return band_around(path, len(x), len(y), margin, factor)


def coarse_to_fine(
    x: np.ndarray,
    y: np.ndarray,
    types: list[tuple[int, int]],
    scores: BeadScores,
    **band_options,
) -> list[tuple[int, int]]:
    """Best sentence-level path, searched inside :func:`coarse_band` (see there for options)."""
    return band_search(len(x), len(y), types, scores, coarse_band(x, y, **band_options))
