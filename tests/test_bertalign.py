"""The reference Bertalign against paths and scores worked out by hand on tiny documents."""

from __future__ import annotations

import math

import numpy as np
import pytest

from align.bertalign import (BertalignConfig, alignment_types, bertalign, first_pass, run_lengths, second_pass,
                             second_pass_band)


def unit(*xs):
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def runs_of(vectors: np.ndarray, max_run: int = 4) -> dict[int, np.ndarray]:
    """Run vectors as normalised sums (any vectors will do: the algorithm only takes dot products)."""
    out = {}
    for k in range(1, max_run + 1):
        if len(vectors) >= k:
            s = np.stack([vectors[i : i + k].sum(0) for i in range(len(vectors) - k + 1)])
            out[k] = (s / np.linalg.norm(s, axis=1, keepdims=True)).astype(np.float32)
    return out


def test_alignment_types_in_bertalign_order():
    assert alignment_types(3) == [(0, 1), (1, 0), (1, 1), (1, 2), (2, 1)]
    assert len(alignment_types(5)) == 2 + 10  # 1-1 .. 4-1 with a + b <= 5


def test_first_pass_keeps_the_best_monotone_chain_of_top_k_links():
    # sims = E @ F.T with F the identity: rows are the cosines themselves
    sims = np.array([[0.90, 0.10, 0.00, 0.00],
                     [0.85, 0.10, 0.80, 0.00],
                     [0.00, 0.00, 0.00, 0.70]])
    F = np.eye(4)
    # top-1: source 1's best (target 0) crosses source 0's link: the chain takes 0.9 + 0.7, not 0.85 + 0.7
    assert first_pass(sims, F, top_k=1) == [(1, 1), (3, 4)]
    # top-2 also offers target 2 for source 1: 0.9 + 0.8 + 0.7
    assert first_pass(sims, F, top_k=2) == [(1, 1), (2, 3), (3, 4)]


def test_second_pass_band_runs_from_each_link_to_the_next_widened_by_win():
    lo, hi = second_pass_band([(1, 1), (3, 4)], 4, 6, win=1)
    # rows 1 (up to the first link), 2-3 (to the second), 4 (to the end state (4, 6)); row 0 copies row 1
    assert lo.tolist() == [0, 0, 0, 0, 3]
    assert hi.tolist() == [2, 2, 5, 5, 6]
    # a last link on the last row but not the last column is replaced by the end state
    lo, hi = second_pass_band([(1, 1), (4, 5)], 4, 6, win=0)
    assert lo.tolist() == [0, 0, 1, 1, 1] and hi.tolist() == [1, 1, 6, 6, 6]


def test_a_two_to_one_bead_worked_out_by_hand():
    # source: two sentences, target: their one-sentence translation (the normalised sum)
    src_texts, tgt_texts = ["aaaa", "bbbb"], ["cccccccc"]
    E = np.stack([unit(1, 0), unit(0, 1)])
    F = np.stack([unit(1, 1)])
    config = BertalignConfig()
    lo, hi = np.array([0, 0, 0]), np.array([1, 1, 1])
    beads = second_pass(runs_of(E), runs_of(F), run_lengths(src_texts, 4), run_lengths(tgt_texts, 4), lo, hi, config)
    # 2-1: cosine 1, no neighbours on either side; lengths 9 and 8 bytes (ratio 8/8): log2(1 + 8/9)
    two_one = 1.0 * math.log2(1 + 8 / 9)
    # 1-1 then 1-0: cosine 1/sqrt2 minus half the source neighbour (sentence 1, also 1/sqrt2), times
    # log2(1 + 4/8); then a skip
    one_one = (1 / math.sqrt(2) - (0 + 1 / math.sqrt(2)) / 2) * math.log2(1.5) - 0.1
    assert two_one > one_one
    assert beads == [((0, 1), (0,))]


def brute_force(src_runs, tgt_runs, src_texts, tgt_texts, config):
    """Every monotone segmentation scored with the published formula; leading target skips are free."""
    n, m = len(src_texts), len(tgt_texts)
    ls, lt = run_lengths(src_texts, 4), run_lengths(tgt_texts, 4)
    ratio = ls[1].sum() / lt[1].sum()
    E, F = src_runs[1], tgt_runs[1]

    def nb(vec, ones, before, after):
        left = float(vec @ ones[before]) if before >= 0 else 0.0
        right = float(vec @ ones[after]) if after < len(ones) else 0.0
        return (left + right) / 2 if before >= 0 and after < len(ones) else left + right

    def score(i0, a, j0, b):
        u, v = src_runs[a][i0], tgt_runs[b][j0]
        s = float(u @ v) - (nb(u, F, j0 - 1, j0 + b) + nb(v, E, i0 - 1, i0 + a)) / 2
        l1, l2 = ls[a][i0], lt[b][j0] * ratio
        return s * math.log2(1 + min(l1, l2) / max(l1, l2))

    types = alignment_types(config.max_align)
    best = (-math.inf, None)

    def walk(i, j, total, beads):
        nonlocal best
        if (i, j) == (n, m):
            if total > best[0] + 1e-12:
                best = (total, list(beads))
            return
        for a, b in types:
            if i + a > n or j + b > m:
                continue
            if a == 0:
                gain = 0.0 if i == 0 else config.skip  # the first row is never scored
            elif b == 0:
                gain = config.skip
            else:
                gain = score(i, a, j, b)
            beads.append((tuple(range(i, i + a)), tuple(range(j, j + b))))
            walk(i + a, j + b, total + gain, beads)
            beads.pop()

    walk(0, 0, 0.0, [])
    return best


@pytest.mark.parametrize("seed", range(12))
def test_second_pass_finds_the_best_path_of_the_published_score(seed):
    rng = np.random.default_rng(seed)
    n, m = rng.integers(1, 5), rng.integers(1, 5)
    base = rng.normal(size=(max(n, m) + 2, 6))
    E = base[:n] + 0.4 * rng.normal(size=(n, 6))  # related documents, so paths are not all skips
    F = base[rng.permutation(max(n, m) + 2)[:m]] if seed % 3 == 0 else base[:m] + 0.4 * rng.normal(size=(m, 6))
    src_texts = ["x" * int(k) for k in rng.integers(3, 40, n)]
    tgt_texts = ["y" * int(k) for k in rng.integers(3, 40, m)]
    src, tgt = runs_of(E), runs_of(F)
    config = BertalignConfig()
    lo, hi = np.zeros(n + 1, dtype=np.int64), np.full(n + 1, m, dtype=np.int64)  # the whole lattice
    got = second_pass(src, tgt, run_lengths(src_texts, 4), run_lengths(tgt_texts, 4), lo, hi, config)
    best_total, best_beads = brute_force(src, tgt, src_texts, tgt_texts, config)
    assert got == best_beads, (best_total, got)


def test_bertalign_end_to_end_with_a_deletion_and_a_merge():
    rng = np.random.default_rng(7)
    topics = rng.normal(size=(8, 32))
    # source: 0, 1, 2a, 2b, 3, junk, 4 ; target: 0, 1, 2, 3, 4
    E = np.stack([topics[0], topics[1], topics[2] + 0.3 * topics[6], topics[2] - 0.3 * topics[6],
                  topics[3], topics[7], topics[4]])
    F = np.stack([topics[0], topics[1], topics[2], topics[3], topics[4]])
    src_texts = ["s" * 40, "s" * 40, "s" * 20, "s" * 19, "s" * 40, "s" * 40, "s" * 40]
    tgt_texts = ["t" * 40] * 5
    beads = bertalign(runs_of(E), runs_of(F), src_texts, tgt_texts)
    assert [(b.src, b.tgt) for b in beads] == [((0,), (0,)), ((1,), (1,)), ((2, 3), (2,)), ((4,), (3,)),
                                               ((5,), ()), ((6,), (4,))]


def test_one_empty_side():
    E = np.eye(3, dtype=np.float32)
    assert [(b.src, b.tgt) for b in bertalign(runs_of(E), {}, ["a", "b", "c"], [])] == [((0,), ()), ((1,), ()),
                                                                                        ((2,), ())]
