"""The ``diptych`` command. Thin: parse arguments, call the library, print.

It lives in ``corpus`` because the project layout has no neutral package for
it; each subcommand imports what it needs when it runs, so ``align`` and later
modules are loaded only by the subcommands that use them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import CorpusError


def _progress(iterable, *, quiet: bool, desc: str, total: int | None = None):  # noqa: ANN001, ANN202
    if quiet:
        return iterable
    from tqdm import tqdm

    return tqdm(iterable, desc=desc, total=total, unit="doc", file=sys.stderr, leave=False)


def cmd_segment(args: argparse.Namespace) -> int:
    from .documents import read_document
    from .manifest import entry_for_file
    from .segment import segment

    doc = read_document(args.file, args.lang, check_lang=not args.no_lang_check)
    outlet = args.outlet
    if outlet is None and (entry := entry_for_file(args.file)):
        outlet = entry.outlet  # the file is listed in a manifest beside it
    units = segment(doc.text, doc.lang, outlet=outlet, presegmented=args.presegmented)
    out = sys.stdout
    for u in units:
        if args.format == "jsonl":
            out.write(json.dumps(u.to_dict(), ensure_ascii=False) + "\n")
        else:
            label = f"{u.label}:{u.reason}" if u.reason else u.label
            out.write(f"{u.id}\t{u.paragraph}\t{label}\t{u.text}\n")
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from .manifest import load_corpus
    from .segment import segment_document

    corpus = load_corpus(args.corpus)
    print(f"{corpus.root}: {len(corpus.stories)} stories, {len(corpus.documents)} documents")
    for e in corpus.entries:
        units = segment_document(corpus.documents[e.id])
        n = {lab: sum(u.label == lab for u in units) for lab in ("text", "heading", "boilerplate")}
        print(f"  {e.id}\t{e.lang}\t{e.role}\t{e.story}\t{e.outlet or 'unknown'}\t"
              f"{n['text']} sentences, {n['heading']} headings, {n['boilerplate']} boilerplate")
    return 0


def cmd_build(args: argparse.Namespace) -> int:
    from .atomic import output_dir
    from .manifest import load_corpus
    from .segment import segment_document

    corpus = load_corpus(args.corpus)
    with output_dir(args.output, overwrite=args.overwrite) as tmp:
        docs, sents = [], []
        for e in _progress(corpus.entries, quiet=args.quiet, desc="segmenting"):
            d = corpus.documents[e.id]
            docs.append({"id": d.id, "story_id": d.story_id, "lang": d.lang, "outlet": d.outlet,
                         "role": d.role, "file": e.file, "text": d.text})
            for u in segment_document(d):
                sents.append({"doc_id": d.id, "story_id": d.story_id, "lang": d.lang, **u.to_dict()})
        for name, rows in (("documents.jsonl", docs), ("sentences.jsonl", sents)):
            (tmp / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), "utf-8")
    if not args.quiet:
        print(f"wrote {args.output}: {len(docs)} documents, {len(sents)} units", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="diptych",
        description="Align two language versions of a news report and show how they frame it differently.",
    )
    p.add_argument("--version", action="version", version=f"diptych {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("segment", help="split one article into labelled sentences (for inspection)",
                       description="Print a file's units one per line: id, paragraph, label[:reason], text.")
    s.add_argument("file", type=Path, help="UTF-8 text file")
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
    c.add_argument("corpus", nargs="?", type=Path, help="corpus folder with manifest.toml (default: the bundled story)")
    c.set_defaults(func=cmd_check)

    b = sub.add_parser("build", help="build the dataset from a corpus (default: the bundled story)",
                       description="Segment every document of a corpus and write OUT_DIR atomically.")
    b.add_argument("corpus", nargs="?", type=Path, help="corpus folder with manifest.toml (default: the bundled story)")
    b.add_argument("-o", "--output", required=True, type=Path, help="output folder (written whole or not at all)")
    b.add_argument("--overwrite", action="store_true", help="replace OUT_DIR if it exists")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    b.set_defaults(func=cmd_build)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CorpusError as e:
        print(f"diptych: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("diptych: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
