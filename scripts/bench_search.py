"""Speed and memory of the search alone, on long synthetic documents with precomputed embeddings.

Builds a source of N random unit vectors (dimension 384, like multilingual-e5-small)
and a target that is a noisy copy with some sentences dropped, some inserted and some
pairs merged, then aligns them through ``align.aligner.align`` with
``src_embeddings``/``tgt_embeddings`` (runs of sentences are then normalised sums:
nothing is embedded). Prints wall time, peak resident memory and the accuracy of the
recovered beads for each size, and the time ratio between consecutive sizes.

    python scripts/bench_search.py --sizes 20000 40000
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time

import numpy as np


def synthetic(n: int, dim: int = 384, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, dim)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ys, gold, j = [], [], 0
    i = 0
    while i < n:
        r = rng.random()
        if r < 0.03:  # source sentence with no counterpart
            gold.append(((i,), ()))
            i += 1
            continue
        if r < 0.06:  # inserted target sentence
            ys.append(rng.normal(size=dim))
            gold.append(((), (j,)))
            j += 1
            continue
        if r < 0.12 and i + 1 < n:  # 2-1 merge
            ys.append(x[i] + x[i + 1] + 0.3 * rng.normal(size=dim) / np.sqrt(dim) * 10)
            gold.append(((i, i + 1), (j,)))
            i, j = i + 2, j + 1
            continue
        ys.append(x[i] + 0.6 * rng.normal(size=dim) / np.sqrt(dim) * 10)
        gold.append(((i,), (j,)))
        i, j = i + 1, j + 1
    y = np.array(ys, dtype=np.float32)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return x, y, gold


def run_one(n: int) -> None:
    from align.aligner import align
    from align.scoring import score_alignments

    x, y, gold = synthetic(n)
    texts_x = ["s" * 100] * len(x)
    texts_y = ["t" * 100] * len(y)
    t = time.perf_counter()
    result = align(texts_x, texts_y, src_embeddings=x, tgt_embeddings=y)
    dt = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    score = score_alignments([gold], [result.beads])
    print(f"{n}\t{len(y)}\t{dt:.1f}\t{peak:.0f}\t{score.f1_strict:.3f}", flush=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[20000, 40000])
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size in a fresh process
    args = p.parse_args()
    if args.one:
        run_one(args.one)
        return
    print("source\ttarget\tseconds\tpeak_MiB\tstrict_F1")
    times = []
    for n in args.sizes:  # each size in its own process, so peak memory is its own
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        print(out.stdout.strip(), flush=True)
        times.append(float(out.stdout.split("\t")[2]))
    for (a, ta), (b, tb) in zip(zip(args.sizes, times), zip(args.sizes[1:], times[1:])):
        print(f"time ratio {b}/{a}: {tb / ta:.2f}")


if __name__ == "__main__":
    main()
