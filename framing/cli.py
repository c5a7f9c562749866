"""Subcommands of this package, registered on the ``diptych`` parser."""

from __future__ import annotations

import argparse
import sys
from pipeline.options import path, write_stdout


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML report of a dataset folder (thin: the work is in :mod:`framing.report`)."""
    from corpus.atomic import claim_output

    from .report import write_report

    claim_output(args.output, inputs=[args.out_dir])
    stories = write_report(args.out_dir, args.output, title=args.title, show_boilerplate=args.show_boilerplate)
    rows = sum(len(s.rows) for s in stories)
    print(f"wrote {args.output}: {len(stories)} stor{'y' if len(stories) == 1 else 'ies'}, {rows} rows",
          file=sys.stderr)
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """Print the cross-outlet links and conflicts of a built dataset (reads only; the build did the work)."""
    import json

    from corpus.errors import CorpusError
    from corpus.shards import data_pattern

    from .report import load_dataset_rows

    data = load_dataset_rows(args.out_dir)  # the checks `diptych report` makes, the comparable table's columns included
    where = data.root / "comparable"
    if data.comparable is None:
        raise CorpusError(where, f"no {data_pattern('comparable')} shards: the dataset was built before other "
                          f"outlets' coverage was compared; rebuild it with `diptych build -o {data.root}`")
    rows = data.comparable
    if args.story is not None:
        stories = sorted({str(r["story_id"]) for r in (*data.segments, *rows)})
        if args.story not in stories:
            shown = ", ".join(stories[:5]) + (f" and {len(stories) - 5} more" if len(stories) > 5 else "")
            raise CorpusError(data.root, f"--story {args.story!r}: no such story in the dataset; it has "
                              f"{shown or 'none'}")
        rows = [r for r in rows if str(r["story_id"]) == args.story]
    try:  # every line first: a row that cannot be printed must not leave half the listing printed
        if args.json:
            out = [json.dumps(r, ensure_ascii=False) for r in rows]
        else:
            out = ["\t".join(("doc", "sentence", "status", "ref", "score", "conflicts", "text", "ref_text"))]
            out += [_compare_line(r) for r in rows
                    if r["status"] != "boilerplate" and (r["status"] != "unlinked" or args.unlinked)]
    except KeyError as e:  # the columns `diptych report` needs are there, but not these
        raise CorpusError(where, f"not a diptych comparable table: no column or field {e.args[0]}") from None
    except (TypeError, ValueError, AttributeError, IndexError) as e:
        raise CorpusError(where, f"not a diptych comparable table: a value of the wrong type ({e})") from None
    if out:
        write_stdout("\n".join(out) + "\n")
    return 0


def _compare_line(r: dict) -> str:
    conflicts = "; ".join(f"{c['kind']}: {c['note']}" for c in r["conflicts"])
    score = "" if r["score"] is None else f"{r['score']:.3f}"
    ref = ",".join(r["ref_ids"] or [])
    if r.get("via_ids"):  # carried through the parallel versions' alignment (older datasets lack the column)
        ref += f" (via {','.join(r['via_ids'])})"
    return "\t".join((r["doc_id"], r["ids"][0], r["status"], ref, score, conflicts,
                      r["text"], r["ref_text"] or ""))


def register(sub: argparse._SubParsersAction) -> None:
    """Add this package's subcommands to ``diptych``."""
    r = sub.add_parser("report", help="write a self-contained HTML report of a built dataset",
                       description="Show the two versions of each story side by side, aligned row by row, with "
                       "one-sided passages set apart and framing differences highlighted by kind. One HTML file, "
                       "no network needed to open it.")
    r.add_argument("out_dir", type=path, metavar="OUT_DIR", help="dataset folder written by `diptych build -o OUT_DIR`")
    r.add_argument("-o", "--output", required=True, type=path, help="HTML file to write (atomically)")
    r.add_argument("--show-boilerplate", action="store_true",
                   help="show page furniture rows (hidden by default; the page has a switch for them)")
    r.add_argument("--title", help="page title (default: the language pair)")
    r.set_defaults(func=cmd_report)

    c = sub.add_parser("compare", help="print how other outlets' sentences link to the parallel versions",
                       description="List the links of a built dataset's `comparable` config: each sentence of "
                       "another outlet's coverage that reports a fact of a parallel version, the sentence it links "
                       "to, the link's margin and its conflicts (figures, dates, names, attribution, hedges, loaded "
                       "words). Tab-separated; --json prints every row as JSON Lines.")
    c.add_argument("out_dir", type=path, metavar="OUT_DIR", help="dataset folder written by `diptych build -o OUT_DIR`")
    c.add_argument("--story", help="only this story")
    c.add_argument("--unlinked", action="store_true", help="also list the sentences that link to nothing "
                   "(what only that outlet reports)")
    c.add_argument("--json", action="store_true", help="every row of the config (boilerplate included) as JSON Lines")
    c.set_defaults(func=cmd_compare)
