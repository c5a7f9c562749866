"""``diptych eval-mt`` and ``diptych export-sources``, registered on the ``diptych`` parser.

Thin: parse arguments, read inputs, call :func:`mteval.evaluate.evaluate`,
print or write. Bad input raises :class:`~corpus.errors.CorpusError`, which
``diptych`` prints as one line with exit status 2.
"""

from __future__ import annotations

import argparse
import re
import sys
from contextlib import nullcontext
from pathlib import Path

from corpus.errors import CorpusError
from pipeline.options import number, path, write_stdout

from .significance import AR_TRIALS, AR_TRIALS_MAX, BOOTSTRAP_MAX, BOOTSTRAP_SAMPLES, DEFAULT_SEED


class _AddSystem(argparse.Action):
    """--hyp and --model append to one list, so the command line's order (and baseline) is kept."""

    def __call__(self, parser, namespace, values, option_string=None):  # noqa: ANN001
        systems = list(getattr(namespace, "systems", None) or [])
        systems.append((self.const, values))
        namespace.systems = systems


def _split_name(value: str, kind: str) -> tuple[str | None, str]:
    """``NAME=FILE`` or ``NAME=SPEC``; without ``NAME=`` the name is derived later."""
    pattern = r"([^=:/\\]+)=(.+)" if kind == "model" else r"([^=/\\]+)=(.+)"
    m = re.fullmatch(pattern, value)
    if m:
        return m.group(1), m.group(2)
    if value.startswith("="):
        raise CorpusError(None, f"--{kind} {value}: the name before '=' is empty")
    return None, value


def _model_name(spec: str) -> str:
    name, _, arg = spec.partition(":")
    return f"{name}:{Path(arg.rstrip('/')).name or arg}" if arg else spec


def _load_systems(args: argparse.Namespace, test_set, out_tmp: Path | None):  # noqa: ANN001, ANN202
    from corpus.atomic import write_text
    from corpus.exports import format_lines

    from .data import read_hypotheses
    from .evaluate import System

    entries = getattr(args, "systems", None) or []
    if not entries:
        raise CorpusError(None, "nothing to score: give --hyp NAME=FILE (one or more) or --model SPEC")
    resolved = []
    for kind, value in entries:
        name, target = _split_name(value, kind)
        resolved.append((kind, name or (Path(target).stem if kind == "hyp" else _model_name(target)), target))
    names = [name for _, name, _ in resolved]
    if dup := next((n for n in names if names.count(n) > 1), None):
        raise CorpusError(None, f"two systems are named {dup!r}; give each --hyp/--model a distinct NAME=")
    if out_tmp is None and (model := next((t for k, _, t in resolved if k == "model"), None)):
        raise CorpusError(None, f"--model {model} needs -o DIR: its translations are saved there next to the scores")
    # Files first: a wrong line count should not wait for a model to translate.
    hyps = {name: read_hypotheses(Path(target), test_set) for kind, name, target in resolved if kind == "hyp"}
    systems = []
    for kind, name, target in resolved:
        if kind == "hyp":
            systems.append(System(name, f"file:{target}", hyps[name]))
            continue
        translations = _translate(target, test_set, no_cache=args.no_cache, quiet=args.quiet)
        write_text(out_tmp / "translations" / f"{_file_name(name)}.{test_set.tgt_lang}.txt", format_lines(translations))
        systems.append(System(name, f"model:{target}", translations))
    return systems


def _file_name(name: str) -> str:
    return re.sub(r"[^\w.+-]", "_", name).strip("._") or "system"


def _translate(spec: str, test_set, *, no_cache: bool, quiet: bool) -> list[str]:  # noqa: ANN001
    """The test set's sources translated by a model: batched, cached, on the GPU when there is one."""
    from align.cache import TranslationCache
    from align.translators import CachingTranslator, get_translator

    translator = get_translator(spec)  # a path that is not a model, a hub id with no network: one line
    cached = CachingTranslator(translator, None if no_cache else TranslationCache(), progress=not quiet)
    hyps = cached.translate(test_set.sources, test_set.src_lang, test_set.tgt_lang)
    if not quiet:
        print(f"{spec}: translated {cached.translated} of {len(set(test_set.sources))} distinct sources "
              "(the rest from the cache)", file=sys.stderr)
    return hyps


def cmd_eval_mt(args: argparse.Namespace) -> int:
    try:
        return _eval_mt(args)
    except MemoryError:  # numpy's ArrayMemoryError included; -o DIR is removed on the way out, as on any error
        raise CorpusError(args.dataset, f"out of memory while scoring (--bootstrap {args.bootstrap}, --ar-trials "
                          f"{args.ar_trials}); try fewer resamples or trials") from None


def _eval_mt(args: argparse.Namespace) -> int:
    from corpus.atomic import claim_output, output_dir, write_text

    from .comet import CometScorer, comet_status
    from .data import load_pairs
    from .evaluate import evaluate
    from .metrics import MetricConfig
    from .report import render, sentence_table, to_json
    from .significance import check_seed

    fmt = "json" if args.json else args.format
    config = MetricConfig(tokenize=args.tokenize or ("spm" if args.spm_model else "13a"), spm_model=args.spm_model)
    check_seed(args.seed)  # cheap checks first: nothing should fail after a model has translated
    if args.output:
        hyps = [_split_name(v, "hyp")[1] for kind, v in getattr(args, "systems", None) or [] if kind == "hyp"]
        claim_output(args.output, folder=True, overwrite=args.overwrite,
                     inputs=[args.dataset, args.comet, args.spm_model, *hyps])
    test_set = load_pairs(args.dataset, args.src, args.tgt)
    status = comet_status(args.comet)
    writing = output_dir(args.output, overwrite=args.overwrite) if args.output else nullcontext(None)
    with writing as tmp:  # created up front: a taken -o DIR fails before any translating
        systems = _load_systems(args, test_set, tmp)
        scorer = CometScorer(args.comet, quiet=args.quiet).score if status.used else None
        report = evaluate(test_set, systems, config, seed=args.seed, bootstrap_samples=args.bootstrap,
                          ar_trials=args.ar_trials, comet_status=status, comet=scorer)
        text = render(report, fmt)
        if tmp is not None:
            write_text(tmp / "scores.json", to_json(report))
            write_text(tmp / "sentence_scores.tsv", sentence_table(test_set, report))
            ext = {"text": "txt", "markdown": "md", "latex": "tex", "json": "json"}[fmt]
            if fmt != "json":
                write_text(tmp / f"scores.{ext}", text)
    write_stdout(text)
    if args.output and not args.quiet:
        print(f"wrote {args.output}", file=sys.stderr)
    return 0


def cmd_export_sources(args: argparse.Namespace) -> int:
    from corpus.atomic import claim_output, write_text
    from corpus.exports import format_lines

    from .data import load_side

    if args.output:
        claim_output(args.output, inputs=[args.dataset])
    text = format_lines(load_side(args.dataset, args.lang))
    if args.output:
        write_text(args.output, text)
    else:
        write_stdout(text)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to ``diptych``."""
    e = sub.add_parser(
        "eval-mt", help="score MT systems on a built dataset's aligned pairs (BLEU, chrF, chrF++, TER)",
        description="Score one or more systems' translations of the `pairs` config, line-parallel to it in its "
        "order, against its --tgt side, with sacrebleu: BLEU, chrF, chrF++ and TER with their signatures, "
        "per-segment scores, 95% confidence intervals, and with two or more systems paired bootstrap and "
        "approximate randomization against the first. Breakdowns by alignment type and by whether a row "
        "carries framing differences.")
    e.add_argument("dataset", type=path, metavar="OUT_DIR", help="dataset folder written by `diptych build`")
    e.add_argument("--src", required=True, help="source language code (a field of `translation`, e.g. fa)")
    e.add_argument("--tgt", required=True, help="target language code; its side of `pairs` is the reference")
    e.add_argument("--hyp", action=_AddSystem, const="hyp", metavar="NAME=FILE",
                   help="a system's output, one line per pairs row, UTF-8 (repeatable; the first system given "
                   "is the baseline)")
    e.add_argument("--model", action=_AddSystem, const="model", metavar="[NAME=]SPEC",
                   help="translate the sources with transformers:<hub id or path> or ctranslate2:<path> and "
                   "score it (repeatable; needs -o, where the translations are saved)")
    e.add_argument("--tokenize", choices=("13a", "intl", "char", "none", "spm"), default=None,
                   help="BLEU tokenizer (default 13a; spm with --spm-model)")
    e.add_argument("--spm-model", type=path, metavar="PATH",
                   help="local SentencePiece .model file for --tokenize spm (e.g. a downloaded flores200 model)")
    e.add_argument("--comet", type=path, metavar="PATH",
                   help="local COMET checkpoint; used when unbabel-comet is installed, otherwise reported as skipped")
    e.add_argument("--seed", type=number(int, 1), default=DEFAULT_SEED,
                   help=f"random seed of the paired tests, a positive integer (default {DEFAULT_SEED})")
    e.add_argument("--bootstrap", type=number(int, 0, BOOTSTRAP_MAX), default=BOOTSTRAP_SAMPLES, metavar="N",
                   help=f"bootstrap resamples, at most {BOOTSTRAP_MAX:,} (default {BOOTSTRAP_SAMPLES:,}; 0 skips)")
    e.add_argument("--ar-trials", type=number(int, 0, AR_TRIALS_MAX), default=AR_TRIALS, metavar="N",
                   help=f"approximate randomization trials, at most {AR_TRIALS_MAX:,} (default {AR_TRIALS:,}; "
                   "0 skips)")
    e.add_argument("--format", choices=("text", "markdown", "latex", "json"), default="text",
                   help="output: a terminal table (default), Markdown or LaTeX (booktabs) tables, or JSON")
    e.add_argument("--json", action="store_true", help="same as --format json")
    e.add_argument("-o", "--output", type=path, metavar="DIR",
                   help="also write scores.json, sentence_scores.tsv, the table and model translations here "
                   "(written whole or not at all)")
    e.add_argument("--overwrite", action="store_true", help="replace DIR if it exists")
    e.add_argument("--no-cache", action="store_true", help="with --model: do not read or write the translation cache")
    e.add_argument("-q", "--quiet", action="store_true", help="no progress bars or notes on standard error")
    e.set_defaults(func=cmd_eval_mt, systems=[])

    x = sub.add_parser(
        "export-sources", help="write one language's side of a dataset's pairs, one line per row",
        description="Write the --lang side of the `pairs` config, one line per row in its order (line breaks "
        "inside a text become spaces): the input to translate for `eval-mt`.")
    x.add_argument("dataset", type=path, metavar="OUT_DIR", help="dataset folder written by `diptych build`")
    x.add_argument("--lang", required=True, help="language code, a field of `translation` (e.g. fa)")
    x.add_argument("-o", "--output", type=path, help="write here (atomically) instead of standard output")
    x.set_defaults(func=cmd_export_sources)
