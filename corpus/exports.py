"""The ``pairs`` config in the formats MT tools read: TMX 1.4, Moses plain text, JSON Lines.

Pure functions from rows to text; the build writes them under ``exports/``.
Each keeps the rows' order, so line ``i`` of every export is ``pairs`` row ``i``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape, quoteattr


# Everything str.splitlines() breaks on. A text written one per line must not
# contain any of them, or the file would have more lines than there are rows.
_LINE_BREAKS = re.compile("\r\n|[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")


def one_line(text: str) -> str:
    """``text`` with every line break made a space, so one segment is one line of a file."""
    return _LINE_BREAKS.sub(" ", text)


def format_lines(texts: Iterable[str]) -> str:
    """A line-parallel file's content: one text per line, each ending in a newline."""
    return "".join(one_line(t) + "\n" for t in texts)


def tmx_export(rows: Sequence[dict], langs: Sequence[str], version: str) -> str:
    """A TMX 1.4 document, one ``<tu>`` per pair, ``tuid`` = the row id.

    No creation date is written, so a rebuild is byte-identical.
    """
    a, b = sorted(langs)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<tmx version="1.4">',
        f'  <header creationtool="diptych" creationtoolversion={quoteattr(version)} datatype="plaintext" '
        f'segtype="sentence" adminlang="en" srclang={quoteattr(a)} o-tmf="diptych-parquet"/>',
        "  <body>",
    ]
    for r in rows:
        out.append(f"    <tu tuid={quoteattr(r['id'])}>")
        out.append(f'      <prop type="x-story">{escape(r["story_id"])}</prop>')
        out.append(f'      <prop type="x-alignment-type">{escape(r["alignment_type"])}</prop>')
        if r.get("score") is not None:
            out.append(f'      <prop type="x-score">{r["score"]}</prop>')
        for lang in (a, b):
            out.append(f"      <tuv xml:lang={quoteattr(lang)}><seg>{escape(r['translation'][lang])}</seg></tuv>")
        out.append("    </tu>")
    out += ["  </body>", "</tmx>", ""]
    return "\n".join(out)


def moses_export(rows: Sequence[dict], lang: str) -> str:
    """One language side of ``pairs``, one segment a line (Moses' line-parallel convention)."""
    return format_lines(r["translation"][lang] for r in rows)


def jsonl_export(rows: Sequence[dict]) -> str:
    """``{"id": ..., "translation": {"ar": ..., "fa": ...}}`` a line, as transformers' run_translation.py reads."""
    return "".join(json.dumps({"id": r["id"], "translation": r["translation"]}, ensure_ascii=False) + "\n"
                   for r in rows)
