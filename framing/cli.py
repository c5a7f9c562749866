"""Subcommands of this package, registered on the ``diptych`` parser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML report of a dataset folder (thin: the work is in :mod:`framing.report`)."""
    from corpus.atomic import claim_output

    from .report import write_report

    claim_output(args.output)
    stories = write_report(args.out_dir, args.output, title=args.title, show_boilerplate=args.show_boilerplate)
    rows = sum(len(s.rows) for s in stories)
    print(f"wrote {args.output}: {len(stories)} stor{'y' if len(stories) == 1 else 'ies'}, {rows} rows",
          file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Print the cross-outlet links and conflicts of a built dataset (reads only; the build did the work)."""
    import json

    from corpus.dataset import read_config

    rows = read_config(args.out_dir, "comparable").to_pylist()
    if args.story:
        rows = [r for r in rows if r["story_id"] == args.story]
    if args.json:
        for r in rows:
            print(json.dumps(r, ensure_ascii=False))
        return 0
    out = ["\t".join(("doc", "sentence", "status", "ref", "score", "conflicts", "text", "ref_text"))]
    for r in rows:
        if r["status"] == "boilerplate" or (r["status"] == "unlinked" and not args.unlinked):
            continue
        conflicts = "; ".join(f"{c['kind']}: {c['note']}" for c in r["conflicts"])
        score = "" if r["score"] is None else f"{r['score']:.3f}"
        out.append("\t".join((r["doc_id"], r["ids"][0], r["status"], ",".join(r["ref_ids"] or []), score,
                              conflicts, r["text"], r["ref_text"] or "")))
    print("\n".join(out))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to ``diptych``."""
    r = sub.add_parser("report", help="write a self-contained HTML report of a built dataset",
                       description="Show the two versions of each story side by side, aligned row by row, with "
                       "one-sided passages set apart and framing differences highlighted by kind. One HTML file, "
                       "no network needed to open it.")
    r.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="dataset folder written by `diptych build -o OUT_DIR`")
    r.add_argument("-o", "--output", required=True, type=Path, help="HTML file to write (atomically)")
    r.add_argument("--show-boilerplate", action="store_true",
                   help="show page furniture rows (hidden by default; the page has a switch for them)")
    r.add_argument("--title", help="page title (default: the language pair)")
    r.set_defaults(func=cmd_report)

    c = sub.add_parser("compare", help="print how other outlets' sentences link to the parallel versions",
                       description="List the links of a built dataset's `comparable` config: each sentence of "
                       "another outlet's coverage that reports a fact of a parallel version, the sentence it links "
                       "to, the link's margin and its conflicts (figures, dates, names, attribution, hedges, loaded "
                       "words). Tab-separated; --json prints every row as JSON Lines.")
    c.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="dataset folder written by `diptych build -o OUT_DIR`")
    c.add_argument("--story", help="only this story")
    c.add_argument("--unlinked", action="store_true", help="also list the sentences that link to nothing "
                   "(what only that outlet reports)")
    c.add_argument("--json", action="store_true", help="every row of the config (boilerplate included) as JSON Lines")
    c.set_defaults(func=cmd_compare)
