"""Subcommands of this package, registered on the ``diptych`` parser."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def cmd_report(args: argparse.Namespace) -> int:
    """Write the HTML report of a dataset folder (thin: the work is in :mod:`framing.report`)."""
    from .report import write_report

    stories = write_report(args.out_dir, args.output, title=args.title, show_boilerplate=args.show_boilerplate)
    rows = sum(len(s.rows) for s in stories)
    print(f"wrote {args.output}: {len(stories)} stor{'y' if len(stories) == 1 else 'ies'}, {rows} rows",
          file=sys.stderr)
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
