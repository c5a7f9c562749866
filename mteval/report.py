"""A :class:`~mteval.evaluate.Report` as a terminal table, Markdown, LaTeX, JSON, or per-segment TSV.

The three table formats share one model (:class:`Table`): the same rows,
rendered differently, so a paper's table says exactly what the terminal said.
JSON carries every figure unrounded, with signatures, for machines.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from corpus.exports import one_line

from .data import TestSet
from .evaluate import Report

FORMATS = ("text", "markdown", "latex", "json")
_BY = {"alignment_type": "alignment type", "differences": "framing differences"}


@dataclass(frozen=True)
class Table:
    title: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    numeric: tuple[bool, ...]  # right-aligned columns


def _fmt(metric: str, x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:.4f}" if metric == "COMET" else f"{x:.1f}"


def _p(x: float | None) -> str:
    return "-" if x is None else f"{x:.4f}"


def _direction(report: Report) -> str:
    return f"{report.src}->{report.tgt}"


def tables(report: Report) -> list[Table]:
    """The scores, the paired tests (when run) and the breakdowns, as tables."""
    cols = report.columns
    main = Table(
        title=f"{_direction(report)}: {report.segments} segments of {report.dataset}",
        headers=("System", *cols),
        rows=[(s.name, *(_fmt(m, s.comet if m == "COMET" else s.scores[m]) for m in cols)) for s in report.systems],
        numeric=(False, *(True for _ in cols)),
    )
    out = [main]
    if report.bootstrap or report.ar:
        parts = []
        if report.bootstrap:
            parts.append(f"paired bootstrap, {report.bootstrap.samples} samples")
        if report.ar:
            parts.append(f"approximate randomization, {report.ar.samples} trials")
        compare = len(report.systems) > 1
        headers = ("System", "Metric", "Score", "Mean ± 95% CI")
        if compare:
            headers = (*headers[:3], "Δ", headers[3], "p (bootstrap)", *(("p (AR)",) if report.ar else ()))
        rows = []
        for s in report.systems:
            for m in report.metrics:
                b = s.bootstrap[m] if s.bootstrap else None
                ci = f"{b.mean:.1f} ± {b.ci:.1f}" if b and b.mean is not None else "-"
                row = (s.name, m, _fmt(m, s.scores[m]), ci)
                if compare:
                    delta = "-" if s.name == report.baseline else f"{s.scores[m] - report.systems[0].scores[m]:+.1f}"
                    row = (*row[:3], delta, ci, _p(b.p_value if b else None),
                           *((_p(s.ar[m].p_value),) if report.ar else ()))
                rows.append(row)
        out.append(Table(title=f"Paired tests against {report.baseline} ({'; '.join(parts)}; seed {report.seed})"
                         if compare else f"95% confidence intervals ({'; '.join(parts)}; seed {report.seed})",
                         headers=headers, rows=rows, numeric=(False, False, *(True for _ in headers[2:]))))
    rows = []
    for g in report.groups:
        for s in report.systems:
            rows.append((_BY.get(g.by, g.by), g.value, str(g.segments), s.name,
                         *(_fmt(m, g.scores[s.name].get(m)) for m in cols)))
    out.append(Table(title="Breakdowns", headers=("Subset", "Value", "Rows", "System", *cols), rows=rows,
                     numeric=(False, False, True, False, *(True for _ in cols))))
    return out


def _signature_lines(report: Report) -> list[str]:
    lines = [f"{m}: {sig}" for m, sig in report.signatures.items()]
    lines += [f"{m} (sentence level): {sig}" for m, sig in report.sentence_signatures.items()]
    for test in (report.bootstrap, report.ar):
        if test:
            name = "paired bootstrap" if test.test == "bs" else "approximate randomization"
            lines += [f"{m} ({name}): {sig}" for m, sig in test.signatures.items()]
    return lines


# --- text --------------------------------------------------------------------------------------


def _text_table(t: Table) -> str:
    widths = [max(len(r[i]) for r in [t.headers, *t.rows]) for i in range(len(t.headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if num else c.ljust(w)
                         for c, w, num in zip(cells, widths, t.numeric, strict=True)).rstrip()

    return "\n".join([t.title, line(t.headers), line(["-" * w for w in widths]), *map(line, t.rows)]) + "\n"


def to_text(report: Report) -> str:
    parts = [_text_table(t) for t in tables(report)]
    parts.append("sacrebleu signatures\n" + "".join(f"  {s}\n" for s in _signature_lines(report)))
    parts.append("Notes\n" + "".join(f"  - {n}\n" for n in report.notes))
    return "\n".join(parts)


# --- markdown ----------------------------------------------------------------------------------


def _md_cell(s: str) -> str:
    return s.replace("\\", "\\\\").replace("|", "\\|")


def _md_table(t: Table) -> str:
    head = "| " + " | ".join(map(_md_cell, t.headers)) + " |"
    rule = "|" + "|".join("---:" if num else ":---" for num in t.numeric) + "|"
    body = ["| " + " | ".join(map(_md_cell, r)) + " |" for r in t.rows]
    return "\n".join([f"**{_md_cell(t.title)}**", "", head, rule, *body]) + "\n"


def to_markdown(report: Report) -> str:
    parts = [_md_table(t) for t in tables(report)]
    parts.append("sacrebleu signatures:\n\n" + "".join(f"- `{s}`\n" for s in _signature_lines(report)))
    parts.append("".join(f"> {_md_cell(n)}\n" for n in report.notes))
    return "\n".join(parts)


# --- latex -------------------------------------------------------------------------------------

_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
        "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def tex_escape(s: str) -> str:
    out = "".join(_TEX.get(c, c) for c in s)
    return out.replace("±", r"$\pm$").replace("Δ", r"$\Delta$").replace("->", r"$\rightarrow$")


def _tex_table(t: Table) -> str:
    spec = "".join("r" if num else "l" for num in t.numeric)
    row = lambda cells: " & ".join(map(tex_escape, cells)) + r" \\"  # noqa: E731
    return "\n".join([
        r"\begin{table}[t]", r"\centering", rf"\caption{{{tex_escape(t.title)}}}",
        rf"\begin{{tabular}}{{{spec}}}", r"\toprule", row(t.headers), r"\midrule", *map(row, t.rows),
        r"\bottomrule", r"\end{tabular}", r"\end{table}",
    ]) + "\n"


def to_latex(report: Report) -> str:
    """Tables for a paper (booktabs); signatures and notes as comments, so they travel with the source."""
    head = ["% diptych eval-mt; needs \\usepackage{booktabs}"]
    head += [f"% {one_line(s)}" for s in _signature_lines(report)]
    head += [f"% note: {one_line(n)}" for n in report.notes]
    return "\n".join(head) + "\n\n" + "\n".join(_tex_table(t) for t in tables(report))


# --- json --------------------------------------------------------------------------------------


def to_dict(report: Report) -> dict:
    systems = []
    for s in report.systems:
        d = {"name": s.name, "origin": s.origin, "scores": s.scores, "comet": s.comet}
        d["bootstrap"] = {m: asdict(e) for m, e in s.bootstrap.items()} if s.bootstrap else None
        d["approximate_randomization"] = ({m: {"p_value": e.p_value} for m, e in s.ar.items()} if s.ar else None)
        systems.append(d)
    tests = {}
    for test in (report.bootstrap, report.ar):
        if test:
            tests["bootstrap" if test.test == "bs" else "approximate_randomization"] = {
                "samples": test.samples, "seed": test.seed, "signatures": test.signatures}
    return {
        "dataset": report.dataset, "src": report.src, "tgt": report.tgt, "segments": report.segments,
        "metrics": list(report.columns), "signatures": report.signatures,
        "sentence_signatures": report.sentence_signatures, "baseline": report.baseline, "seed": report.seed,
        "systems": systems, "significance": tests,
        "breakdowns": [asdict(g) for g in report.groups],
        "comet": asdict(report.comet), "notes": report.notes,
    }


def to_json(report: Report) -> str:
    return json.dumps(to_dict(report), ensure_ascii=False, indent=2) + "\n"


def render(report: Report, fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    return {"text": to_text, "markdown": to_markdown, "latex": to_latex, "json": to_json}[fmt](report)


def sentence_table(test_set: TestSet, report: Report) -> str:
    """Per-segment scores as TSV, one line per segment and system, in the test set's order."""
    cols = report.columns
    lines = ["\t".join(("id", "story_id", "alignment_type", "differences", "system", *cols))]
    for s in report.systems:
        for i, seg in enumerate(test_set.segments):
            cells = (seg.id, seg.story_id, seg.alignment_type, "yes" if seg.has_differences else "no", s.name)
            lines.append("\t".join((*(one_line(c).replace("\t", " ") for c in cells),
                                     *(repr(s.sentences[m][i]) for m in cols))))
    return "\n".join(lines) + "\n"
