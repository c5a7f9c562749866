"""The DP core on small hand-made similarity matrices with known optimal paths."""

from __future__ import annotations

import numpy as np
import pytest

from align.search import Band, band_around, band_search, bead_types, coarse_to_fine, path_to_beads


def matrix_scores(sim: np.ndarray, skip: float = -0.2, merge: dict | None = None):
    """1-1 beads score sim[i, j]; a-b beads score `merge[(a, b, i0, j0)]` or -1; skips cost `skip`."""
    n, m = sim.shape
    merge = merge or {}

    def scores(a, b, rows, cols):
        out = np.full(cols.shape, -1.0)
        if a == 0 or b == 0:
            return np.full(cols.shape, skip)
        for r, i in enumerate(rows):
            for k, j in enumerate(cols[r]):
                i0, j0 = i - a, j - b
                if i0 < 0 or j0 < 0 or j > m:
                    continue
                if (a, b) == (1, 1):
                    out[r, k] = sim[i0, j0]
                else:
                    out[r, k] = merge.get((a, b, i0, j0), -1.0)
        return out

    return scores


def beads_of(path):
    return [(list(s), list(t)) for s, t in path_to_beads(path)]


def test_diagonal_is_all_one_to_one():
    sim = np.eye(5) * 0.9
    path = band_search(5, 5, bead_types(4), matrix_scores(sim))
    assert beads_of(path) == [([i], [i]) for i in range(5)]


def test_insertion_and_deletion():
    # source 2 has no counterpart; target 1 has none either
    sim = np.full((4, 4), -0.5)
    for i, j in [(0, 0), (1, 2), (3, 3)]:
        sim[i, j] = 0.9
    path = band_search(4, 4, bead_types(4), matrix_scores(sim, skip=-0.1))
    assert beads_of(path) == [([0], [0]), ([], [1]), ([1], [2]), ([2], []), ([3], [3])]


def test_all_wider_bead_types_are_reachable():
    sim = np.full((8, 9), -0.5)
    sim[0, 0] = 0.9
    merge = {(1, 2, 1, 1): 3.0, (2, 1, 2, 3): 3.0, (2, 2, 4, 4): 4.0, (2, 3, 6, 6): 5.0}
    path = band_search(8, 9, bead_types(5), matrix_scores(sim, merge=merge))
    assert beads_of(path) == [([0], [0]), ([1], [1, 2]), ([2, 3], [3]), ([4, 5], [4, 5]), ([6, 7], [6, 7, 8])]
    assert [f"{a}-{b}" for a, b in path] == ["1-1", "1-2", "2-1", "2-2", "2-3"]


def test_bead_types_respect_max_size():
    assert set(bead_types(3)) == {(1, 0), (0, 1), (1, 1), (1, 2), (2, 1)}
    assert (2, 2) in bead_types(4) and (3, 2) not in bead_types(4)


@pytest.mark.parametrize("n, m", [(0, 0), (0, 3), (3, 0)])
def test_empty_documents_and_one_empty_side(n, m):
    path = band_search(n, m, bead_types(4), matrix_scores(np.zeros((n, m))))
    assert beads_of(path) == [([i], []) for i in range(n)] + [([], [j]) for j in range(m)]


def test_skips_beat_bad_pairs_and_pairs_beat_skips():
    sim = np.array([[-0.9]])
    beads = beads_of(band_search(1, 1, bead_types(2), matrix_scores(sim, skip=-0.1)))
    assert sorted(beads) == [([], [0]), ([0], [])]
    sim = np.array([[0.1]])
    assert beads_of(band_search(1, 1, bead_types(2), matrix_scores(sim, skip=-0.1))) == [([0], [0])]


def test_band_restricts_the_search():
    sim = np.eye(6) * 0.9
    sim[2, 5] = 5.0  # tempting, but outside the band
    band = Band(np.array([0, 0, 1, 2, 3, 4, 5]), np.array([1, 2, 3, 4, 5, 6, 6]))
    path = band_search(6, 6, bead_types(2), matrix_scores(sim), band=band)
    assert beads_of(path) == [([i], [i]) for i in range(6)]
    with pytest.raises(ValueError):
        band_search(6, 6, bead_types(2), matrix_scores(sim), band=Band(np.array([1] * 7), np.array([6] * 7)))


def test_band_around_a_coarse_path_covers_the_fine_path():
    coarse = [(1, 1), (1, 2), (1, 0), (1, 1)]  # on 4 x 4 blocks of 2 sentences
    band = band_around(coarse, 8, 8, margin=1, factor=2)
    assert band.lo[0] == 0 and band.hi[8] == 8
    assert np.all(np.diff(band.lo) >= 0) and np.all(np.diff(band.hi) >= 0)
    assert band.lo[2] <= 2 <= band.hi[2] and band.lo[4] <= 6 <= band.hi[4]


def test_coarse_to_fine_finds_the_diagonal_of_a_long_document():
    rng = np.random.default_rng(1)
    n = 3000
    x = rng.normal(size=(n, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = x + 0.3 * rng.normal(size=x.shape).astype(np.float32)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    y = np.delete(y, [100, 1500], axis=0)  # two target sentences missing

    def scores(a, b, rows, cols):
        if a == 0 or b == 0:
            return np.full(cols.shape, -0.1)
        if (a, b) != (1, 1):
            return np.full(cols.shape, -1.0)
        i = np.clip(rows - 1, 0, n - 1)[:, None]
        j = np.clip(cols - 1, 0, len(y) - 1)
        return np.einsum("rd,rwd->rw", x[i[:, 0]], y[j])

    path = coarse_to_fine(x, y, bead_types(2), scores, margin=4)
    beads = beads_of(path)
    assert ([100], []) in beads and ([1500], []) in beads
    assert sum(len(s) == 1 and len(t) == 1 for s, t in beads) == n - 2


def brute_force_best(n, m, types, scores):
    """Exhaustive DP over every cell, one cell at a time: the reference for band_search."""
    best = {(0, 0): 0.0}
    for i in range(n + 1):
        for j in range(m + 1):
            if (i, j) == (0, 0):
                continue
            cands = [best[(i - a, j - b)] + scores(a, b, np.array([i]), np.array([[j]]))[0, 0]
                     for a, b in types if i - a >= 0 and j - b >= 0]
            best[(i, j)] = max(cands)
    return best[(n, m)]


def random_scores(rng, types, rows: int, cols: int):
    """A scores callback reading a random table per bead type, (rows + 1) x (cols + 1) cells,
    indices clipped into it; and the table, for brute-force checks."""
    table = {t: rng.normal(size=(rows + 1, cols + 1)) for t in types}

    def scores(a, b, r, c):
        return table[(a, b)][np.clip(np.asarray(r), 0, rows)[:, None] * np.ones_like(c), np.clip(c, 0, cols)]

    return scores, table


def test_band_search_is_optimal_on_random_scores():
    """Random scores for every bead type and cell, varying skip costs included."""
    rng = np.random.default_rng(0)
    types = bead_types(4)
    for _ in range(150):
        n, m = (int(x) for x in rng.integers(0, 7, 2))
        scores, _ = random_scores(rng, types, n + 1, m + 1)

        path = band_search(n, m, types, scores)
        i = j = 0
        total = 0.0
        for a, b in path:
            i, j = i + a, j + b
            total += scores(a, b, np.array([i]), np.array([[j]]))[0, 0]
        assert (i, j) == (n, m)
        assert total == pytest.approx(brute_force_best(n, m, types, scores))


def test_band_from_anchors_keeps_a_long_insertion_reachable():
    from align.search import band_from_anchors

    # anchors after sentence 3 (target 3) and after sentence 4 (target 12): 8 target sentences in between
    band = band_from_anchors([(3, 3), (4, 12)], 6, 14, window=2)
    assert band.lo[3] <= 3 and band.hi[3] >= 11  # the anchor's own row reaches the next anchor
    assert band.lo[0] == 0 and band.hi[6] == 14


def test_row_window_keeps_the_true_path_past_a_wrong_anchor():
    """Sentence 1 anchored to a caption (state (2, 3)) when its true match is target 10, after skipped lines."""
    from align.search import band_from_anchors

    anchors = [(0, 0), (1, 1), (2, 3), (4, 12), (5, 13)]
    narrow = band_from_anchors(anchors, 6, 14, window=1)
    wide = band_from_anchors(anchors, 6, 14, window=1, row_window=2)
    assert narrow.hi[1] < 11 <= wide.hi[1]  # the true state (1, 11) is inside the band only with the row window
    assert all(wide.lo[i] <= narrow.lo[i] and wide.hi[i] >= narrow.hi[i] for i in range(7))


def all_paths(n, m, types):
    """Every path from (0, 0) to (n, m) as a list of (a, b, i, j) beads (end states)."""
    out = []

    def walk(i, j, path):
        if (i, j) == (n, m):
            out.append(list(path))
            return
        for a, b in types:
            if i + a <= n and j + b <= m:
                path.append((a, b, i + a, j + b))
                walk(i + a, j + b, path)
                path.pop()

    walk(0, 0, [])
    return out


def affine_total(path, table, rho):
    """Score of a path when a one-sided bead right after one on the same side counts rho times."""
    total, prev = 0.0, None
    for a, b, i, j in path:
        s = table[(a, b)][i, j]
        kind = "two" if a and b else ("src" if a else "tgt")
        total += rho * s if kind != "two" and kind == prev else s
        prev = kind
    return total


@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0])
def test_affine_gaps_find_the_best_path_by_brute_force(rho):
    rng = np.random.default_rng(int(rho * 10))
    types = bead_types(3)
    for _ in range(60):
        n, m = (int(x) for x in rng.integers(0, 5, 2))
        scores, table = random_scores(rng, types, n, m)

        path = band_search(n, m, types, scores, gap_extend=rho)
        beads, i, j = [], 0, 0
        for a, b in path:
            i, j = i + a, j + b
            beads.append((a, b, i, j))
        best = max(affine_total(p, table, rho) for p in all_paths(n, m, types))
        assert affine_total(beads, table, rho) == pytest.approx(best)


def test_a_block_of_insertions_costs_one_gap():
    # target 1..4 are captions with no counterpart; pairing them with sources 1-2 scores a little,
    # skipping them one by one costs 4 x 0.3, as one gap 0.3 + 3 x 0.03
    sim = np.full((4, 7), -0.5)
    sim[0, 0], sim[1, 5], sim[2, 6] = 0.9, 0.25, 0.25
    merge = {(1, 2, 1, 1): 0.05, (1, 2, 2, 3): 0.05}
    plain = beads_of(band_search(3, 7, bead_types(3), matrix_scores(sim[:3], skip=-0.3, merge=merge)))
    gapped = beads_of(band_search(3, 7, bead_types(3), matrix_scores(sim[:3], skip=-0.3, merge=merge), gap_extend=0.1))
    assert ([1], [5]) not in plain
    assert gapped == [([0], [0]), ([], [1]), ([], [2]), ([], [3]), ([], [4]), ([1], [5]), ([2], [6])]


def test_near_optimal_beads_are_those_of_paths_within_the_margin():
    from align.search import near_optimal_beads

    rng = np.random.default_rng(3)
    types = bead_types(4)
    for _ in range(40):
        n, m = (int(x) for x in rng.integers(1, 5, 2))
        scores, table = random_scores(rng, types, n, m)

        paths = all_paths(n, m, types)
        totals = [affine_total(p, table, 1.0) for p in paths]
        best = max(totals)
        for margin in (0.0, 0.5, 2.0):
            expected = {bd for p, t in zip(paths, totals) if t >= best - margin - 1e-9 for bd in p if bd[0] and bd[1]}
            got = set(near_optimal_beads(n, m, types, scores, None, margin))
            assert got == expected, (n, m, margin)


@pytest.mark.parametrize("reverse", [False, True, "scattered"])
def test_bead_scores_from_shared_cosines_equal_those_computed_bead_by_bead(reverse):
    """The search asks the scorer for whole blocks of rows; it computes the cosines the block shares
    once (align.similarity._Cosines). Every score must be the bead-by-bead one to the last bit, for
    every bead type, in the forward pass, in the reversed one of near_optimal_beads, and for cells
    that follow no band at all."""
    from align.search import Band, band_from_anchors
    from align.similarity import BeadScorer, SimilarityConfig, SpanEmbeddings

    rng = np.random.default_rng(3)
    n, m, d = 90, 104, 24
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = np.concatenate([x[:50], rng.normal(size=(14, d)), x[50:]]).astype(np.float32)[:m]
    y += 0.4 * rng.normal(size=y.shape).astype(np.float32)
    src, tgt = SpanEmbeddings(x, 4, rng.integers(20, 90, n)), SpanEmbeddings(y, 4, rng.integers(20, 90, m))
    src.fill(), tgt.fill()
    texts_s, texts_t = ["a" * int(v) for v in src.lengths], ["b" * int(v) for v in tgt.lengths]
    anchors = [(i, i) for i in range(1, 50, 3)] + [(i, i + 14) for i in range(52, n, 3)]
    sc = BeadScorer(src, tgt, texts_s, texts_t, SimilarityConfig(support=0.5), anchors=anchors)
    band = band_from_anchors(anchors, n, m, window=5)
    if reverse is True:
        band = Band(m - band.hi[::-1], m - band.lo[::-1])
    W = band.width
    for start in range(0, n + 1, 16):
        rows = np.arange(start, min(n, start + 15) + 1)
        cols = band.lo[rows][:, None] + np.arange(W)[None, :]
        for a, b in bead_types(6, 4):
            if not (a and b):
                continue
            r_, c_ = (n - rows + a, m - cols + b) if reverse is True else (rows, cols)
            if reverse == "scattered":
                c_ = rng.integers(-3, m + 4, size=cols.shape)
            got = sc(a, b, r_, c_)
            i0 = r_ - a
            ok = ((i0 >= 0) & (r_ <= n))[:, None] & (c_ - b >= 0) & (c_ <= m)
            want = np.full(c_.shape, -np.inf)
            rr, ww = np.nonzero(ok)
            want[rr, ww] = sc.pair_scores(a, b, i0[rr], c_[rr, ww] - b)
            assert ok.any() or start > n - a
            assert np.array_equal(got, want), (start, a, b)
