"""The HTML report: both versions side by side, one-sided passages set apart, differences marked.

One self-contained file (inline CSS, system fonts, no scripts, no network) so it
can be mailed, archived or opened offline, and printed. It reads a dataset
folder written by ``diptych build`` (:mod:`corpus.schema`): every sentence of
both versions is in exactly one ``segments`` row, so the page shows each text
whole, in document order, with its aligned counterpart on the same table row.

Where the folder has a ``comparable`` config (other outlets' coverage of the
same event, linked sentence by sentence to the parallel versions), each story
ends with a coverage view: a matrix of the claims of one parallel version by
outlet, factual conflicts (figures, dates) marked, then what each outlet alone
reports. Older folders without that config still render, without the view.

Rendering is pure (:func:`render_report` takes rows and returns a string) so it
is testable without files; :func:`load_dataset_rows` and :func:`write_report`
are the thin I/O around it.
"""

from __future__ import annotations

import html
import os
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from corpus.errors import CorpusError
from corpus.languages import english_name
from corpus.schema import DIFFERENCE_KINDS
from corpus.shards import config_files

# Scripts written right to left (ISO 639-1/-3 codes a dataset may use).
RTL_LANGS = frozenset({"ar", "arz", "ckb", "dv", "fa", "he", "iw", "ks", "ku-arab", "prs", "ps", "sd", "syr",
                       "ug", "ur", "yi"})


@dataclass(frozen=True)
class Kind:
    """How a difference kind looks: Okabe-Ito colours (colour-blind safe) plus a distinct underline
    style, so kinds stay apart in greyscale print and for readers who cannot tell the hues apart."""

    label: str
    description: str
    colour: str  # underline and legend swatch
    tint: str  # background
    line: str  # CSS text-decoration-style


KINDS: dict[str, Kind] = {
    "number": Kind("number", "a number, date or quantity differs or is missing", "#E69F00", "#FCE6B8", "solid"),
    "entity": Kind("entity", "a person, place or organisation named in one version only", "#0072B2", "#CFE3F3",
                   "double"),
    "attribution": Kind("attribution", "who says it: the source or attribution differs", "#CC79A7", "#F5DCEA",
                        "dashed"),
    "hedge": Kind("hedge", "certainty differs: hedges, 'reportedly', 'claimed'", "#009E73", "#C9EDE2", "dotted"),
    "evaluative": Kind("evaluative", "loaded or evaluative wording", "#D55E00", "#F8D9C4", "wavy"),
    "content": Kind("content", "a detail one version adds or leaves out", "#56B4E9", "#DDF0FB", "solid"),
}
OTHER = Kind("other", "a difference of another kind", "#777777", "#E6E6E6", "solid")
assert set(KINDS) == set(DIFFERENCE_KINDS), "framing.report.KINDS must cover corpus.schema.DIFFERENCE_KINDS"

_ID_UNSAFE = re.compile(r"[^A-Za-z0-9_.:-]")
_CLASS_SAFE = re.compile(r"^[a-z][a-z0-9-]*$")


def is_rtl(lang: str) -> bool:
    return lang.lower() in RTL_LANGS or lang.lower().split("-")[0] in RTL_LANGS


def lang_dir(lang: str) -> str:
    return "rtl" if is_rtl(lang) else "ltr"


def _esc(text: object) -> str:
    return html.escape("" if text is None else str(text), quote=True)


def _html_id(*parts: object) -> str:
    return "-".join(_ID_UNSAFE.sub("_", str(p)) for p in parts)


def _kind(kind: str | None) -> tuple[str, Kind]:
    """CSS-safe class suffix and style of a kind; unknown kinds are drawn as ``other``."""
    k = (kind or "").strip().lower()
    if k in KINDS:
        return k, KINDS[k]
    return "other", OTHER


# -- data ---------------------------------------------------------------------------------------


@dataclass
class DatasetRows:
    """The parts of a dataset folder the report reads."""

    root: Path
    langs: tuple[str, str]
    segments: list[dict]
    documents: list[dict]
    comparable: list[dict] | None = None  # None: a folder built before the config existed


@dataclass
class StoryView:
    """One story as the report shows it: its rows in order, column headers, summary."""

    story_id: str
    langs: tuple[str, str]
    rows: list[dict]
    summary: object | None = None  # framing.summary.StorySummary (duck-typed: it is being enriched)
    sources: dict[str, list[dict]] = field(default_factory=dict)  # lang -> documents rows shown in its column
    reasons: dict[str, str] = field(default_factory=dict)  # sentence id -> boilerplate reason
    coverage: Coverage | None = None  # other outlets' coverage, where the dataset has a comparable config


def _read_config(root: Path, config: str) -> tuple[list[str], list[dict]]:
    """Column names and rows of one config (parquet, read with pyarrow: no ``datasets`` import needed)."""
    from corpus.dataset import read_config

    table = read_config(root, config)
    return table.column_names, table.to_pylist()


def dataset_langs(columns: Iterable[str], source: object = None) -> tuple[str, str]:
    """The pair's two codes, from the ``<code>_ids`` columns (each with its ``<code>`` text column)."""
    cols = set(columns)
    langs = sorted(c[: -len("_ids")] for c in cols if c.endswith("_ids") and c[: -len("_ids")] in cols)
    if len(langs) != 2:
        raise CorpusError(source, f"expected two languages (columns <code> and <code>_ids), found {langs or 'none'}")
    return langs[0], langs[1]


def load_dataset_rows(out_dir: str | os.PathLike[str]) -> DatasetRows:
    """Read ``segments`` and ``documents`` of a dataset folder, checking it is one."""
    root = Path(out_dir)
    seg_cols, segments = _read_config(root, "segments")
    doc_cols, documents = _read_config(root, "documents")
    seg_path = root / "segments"
    langs = dataset_langs(seg_cols, seg_path)
    missing = {"id", "story_id", "status", "differences"} - set(seg_cols)
    if missing:
        raise CorpusError(seg_path, f"not a diptych segments table: no column {', '.join(sorted(missing))}")
    if not {"id", "lang"} <= set(doc_cols):
        raise CorpusError(root / "documents", "not a diptych documents table: no id or lang column")
    _check_segment_values(segments, langs, seg_path)
    comparable = None
    if config_files(root, "comparable"):  # absent from folders built before it existed: no coverage view
        cmp_cols, comparable = _read_config(root, "comparable")
        missing = {"story_id", "doc_id", "status", "text", "ids", "ref_doc_id", "ref_ids", "conflicts"} - set(cmp_cols)
        if missing:
            raise CorpusError(root / "comparable",
                              f"not a diptych comparable table: no column {', '.join(sorted(missing))}")
    return DatasetRows(root, langs, segments, documents, comparable)


def _check_segment_values(rows: list[dict], langs: tuple[str, str], where: Path) -> None:
    """The values the report relies on: a known status, ``doc:unit`` ids, and differences whose offsets
    fall inside their side's text (the highlight is cut there)."""
    statuses = {"aligned", "boilerplate", *(f"{x}_only" for x in langs)}
    for n, r in enumerate(rows):
        if r.get("status") not in statuses:
            raise CorpusError(where, f"row {n}: status {r.get('status')!r} is not one of {', '.join(sorted(statuses))}")
        for lang in langs:
            for sid in r.get(f"{lang}_ids") or []:
                if not isinstance(sid, str) or ":" not in sid:
                    raise CorpusError(where, f"row {n}: sentence id {sid!r} is not <document id>:<unit id>")
        for d in r.get("differences") or []:
            text = r.get(d.get("lang")) if d.get("lang") in langs else None
            start, end = d.get("start"), d.get("end")
            if text is None or not isinstance(start, int) or not isinstance(end, int) \
                    or not 0 <= start <= end <= len(text):
                raise CorpusError(where, f"row {n}: a difference at [{start}, {end}) in {d.get('lang')!r} is "
                                  "outside that side's text")


def _doc_id(sentence_id: str) -> str:
    return str(sentence_id).rsplit(":", 1)[0]


def build_stories(data: DatasetRows) -> list[StoryView]:
    """Group rows by story (in order of first appearance) and attach headers, reasons and summaries."""
    from framing.summary import summarise

    a, b = data.langs
    by_story: dict[str, list[dict]] = {}
    for r in data.segments:
        by_story.setdefault(str(r.get("story_id") or ""), []).append(r)
    docs = {str(d["id"]): d for d in data.documents}
    reasons: dict[str, str] = {}
    for d in data.documents:
        for s in d.get("sentences") or []:
            if s.get("label") == "boilerplate" and s.get("reason"):
                sid = str(s["id"])
                reasons[sid if ":" in sid else f"{d['id']}:{sid}"] = s["reason"]
    stories = []
    for story_id, rows in by_story.items():
        sources: dict[str, list[dict]] = {}
        for lang in (a, b):
            ids = list(dict.fromkeys(_doc_id(i) for r in rows for i in (r.get(f"{lang}_ids") or [])))
            found = [docs[i] for i in ids if i in docs]
            if not found:  # rows without ids: fall back on the story's parallel documents in that language
                found = [d for d in data.documents if d.get("story_id") == story_id and d.get("lang") == lang
                         and d.get("role") in (None, "parallel")]
            sources[lang] = found
        coverage = None if data.comparable is None else build_coverage(story_id, data.comparable, rows,
                                                                        data.documents)
        stories.append(StoryView(story_id, (a, b), rows, summarise(rows, (a, b)), sources, reasons, coverage))
    return stories


# -- coverage by other outlets --------------------------------------------------------------------

# Conflicts on facts a reader can check (a figure, a date): marked in the matrix itself, the other kinds
# (who is named, how it is attributed, hedged or worded) are listed as tags beside the mark.
FACTUAL = ("number", "date")


@dataclass(frozen=True)
class Link:
    """A ``comparable`` row placed on a claim: directly, or through the alignment when it links to a
    sentence of the other parallel version (``via``: that sentence's id)."""

    row: Mapping
    via: str | None = None


@dataclass
class Claim:
    """A sentence of the reference version that at least one outlet reports, and who links to it."""

    sentence_id: str
    lang: str
    text: str
    cells: dict[str, list[Link]] = field(default_factory=dict)  # outlet document id -> its links


@dataclass
class Coverage:
    """One story as the other outlets cover it: claims by outlet, then what each outlet alone reports."""

    story_id: str
    reference: Mapping | None  # documents row of the parallel version whose sentences are the claims
    outlets: list[Mapping]  # documents rows of the comparable documents, the matrix columns
    claims: list[Claim]
    elsewhere: dict[str, list[Mapping]]  # outlet -> links to another version that no claim row takes
    only: dict[str, list[Mapping]]  # outlet -> its unlinked sentences, in document order
    sentences: dict[str, int] = field(default_factory=dict)  # outlet -> its sentences, boilerplate aside


def _sentence_ids(doc: Mapping) -> list[str]:
    """A documents row's sentence ids, qualified with the document id (older folders may omit it)."""
    out = []
    for s in doc.get("sentences") or []:
        sid = str(s.get("id"))
        out.append(sid if ":" in sid else f"{doc.get('id')}:{sid}")
    return out


def _unit_key(sentence_id: str) -> tuple[int, int | str]:
    """Document order of a sentence id ``<doc>:<unit>`` when ``documents`` does not give it."""
    unit = str(sentence_id).rsplit(":", 1)[-1]
    return (0, int(unit)) if unit.isdigit() else (1, unit)


def build_coverage(story_id: str, comparable: Sequence[Mapping], segments: Sequence[Mapping],
                   documents: Sequence[Mapping]) -> Coverage | None:
    """The coverage view of one story, or None when no other outlet covers it.

    The claims are the sentences of the parallel version most links point to (ties: the smaller
    document id), so the matrix has one row per claim however many versions the outlets link to; a
    link to the other version is placed on the claim the ``segments`` row aligns it with, and kept
    aside (``elsewhere``) when that row has no sentence of the reference version.
    """
    rows = [r for r in comparable if str(r.get("story_id") or "") == story_id]
    if not rows:
        return None
    docs = {str(d.get("id")): d for d in documents}
    linked = [r for r in rows if r.get("status") == "linked" and r.get("ref_doc_id")]
    counts = Counter(str(r["ref_doc_id"]) for r in linked)
    if counts:
        ref_id: str | None = min(counts, key=lambda d: (-counts[d], d))
    else:
        parallel = sorted(str(d.get("id")) for d in documents
                          if d.get("story_id") == story_id and d.get("role") in (None, "parallel"))
        ref_id = parallel[0] if parallel else None
    reference = docs.get(ref_id or "")
    if reference is None and ref_id is not None:
        ref_lang = next((r.get("ref_lang") for r in linked if str(r["ref_doc_id"]) == ref_id), None) or ""
        reference = {"id": ref_id, "lang": ref_lang, "outlet": None}

    # The reference version's sentences: their order and text (documents), else what the links quote.
    order: dict[str, int] = {}
    texts: dict[str, str] = {}
    if reference is not None:
        body = str(reference.get("text") or "")
        for n, (sid, s) in enumerate(zip(_sentence_ids(reference), reference.get("sentences") or [], strict=True)):
            order[sid] = n
            texts[sid] = _clip(body, s.get("start"), s.get("end"))
    for r in linked:
        for sid in r.get("ref_ids") or []:
            if not texts.get(sid) and str(r["ref_doc_id"]) == ref_id:
                texts[sid] = str(r.get("ref_text") or "")

    # Sentences of the other versions -> the reference sentences aligned with them in a segments row.
    through: dict[str, list[str]] = {}
    for seg in segments:
        if seg.get("status") == "boilerplate":
            continue
        ids = [str(i) for k, v in seg.items() if k.endswith("_ids") for i in (v or [])]
        mine = [i for i in ids if _doc_id(i) == ref_id]
        for i in ids:
            if mine and _doc_id(i) != ref_id:
                through.setdefault(i, []).extend(x for x in mine if x not in through.get(i, []))

    cells: dict[str, dict[str, list[Link]]] = {}  # claim -> outlet -> links
    elsewhere: dict[str, list[Mapping]] = {}
    for r in linked:
        outlet = str(r.get("doc_id"))
        placed = False
        for ref in r.get("ref_ids") or []:
            ref = str(ref)
            targets = [(ref, None)] if _doc_id(ref) == ref_id else [(t, ref) for t in through.get(ref, [])]
            for claim, via in targets:
                cells.setdefault(claim, {}).setdefault(outlet, []).append(Link(r, via))
                placed = True
        if not placed:
            elsewhere.setdefault(outlet, []).append(r)
    ref_lang = str((reference or {}).get("lang") or "")
    claims = [Claim(sid, ref_lang, texts.get(sid, ""), by_outlet)
              for sid, by_outlet in sorted(cells.items(), key=lambda kv: (order.get(kv[0], len(order)),
                                                                           _unit_key(kv[0])))]

    outlets = [d for d in documents if d.get("story_id") == story_id and d.get("role") == "comparable"]
    known = {str(d.get("id")) for d in outlets}
    for r in rows:  # documents should list them all; a folder that does not still gets a column per outlet
        if str(r.get("doc_id")) not in known:
            known.add(str(r.get("doc_id")))
            outlets.append({"id": str(r.get("doc_id")), "lang": r.get("lang"), "outlet": None})
    only: dict[str, list[Mapping]] = {}
    sentences: dict[str, set[str]] = {}
    for r in rows:
        outlet = str(r.get("doc_id"))
        if r.get("status") != "boilerplate":
            sentences.setdefault(outlet, set()).update(str(i) for i in r.get("ids") or [])
        if r.get("status") == "unlinked":
            only.setdefault(outlet, []).append(r)
    for outlet, found in only.items():
        place = {sid: n for n, sid in enumerate(_sentence_ids(docs.get(outlet) or {}))}

        def key(r: Mapping, place: dict[str, int] = place) -> tuple:
            first = str((r.get("ids") or [""])[0])
            return (place.get(first, len(place)), _unit_key(first))

        found.sort(key=key)
    return Coverage(story_id, reference, outlets, claims, elsewhere, only,
                    {k: len(v) for k, v in sentences.items()})


# -- highlighting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str
    note: str
    ref: int | None = None  # number in the story's list of differences


def spans_for(row: Mapping, lang: str, refs: Mapping[int, int] | None = None) -> list[Span]:
    """The row's differences in ``lang`` as spans clipped to its text; empty or foreign ones dropped."""
    text = row.get(lang) or ""
    out = []
    for i, d in enumerate(row.get("differences") or []):
        if d.get("lang") not in (None, lang):
            continue
        try:
            start, end = max(0, int(d.get("start"))), min(len(text), int(d.get("end")))
        except (TypeError, ValueError):
            continue
        if start < end:
            out.append(Span(start, end, str(d.get("kind") or ""), str(d.get("note") or ""),
                            None if refs is None else refs.get(i)))
    return out


def highlight(text: str, spans: Sequence[Span]) -> str:
    """Escaped ``text`` with ``<mark>`` elements for ``spans``.

    Overlapping spans cannot nest reliably (they may cross), so the text is cut at
    every span boundary and each piece covered by some span becomes one mark: its
    class is the innermost (shortest) covering span's kind, its title lists every
    covering span's note. Marks therefore never overlap and the markup stays valid
    whatever the offsets.
    """
    if not spans:
        return _esc(text)
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    out = []
    for lo, hi in zip(cuts, cuts[1:], strict=False):
        piece = _esc(text[lo:hi])
        cover = sorted((s for s in spans if s.start <= lo and hi <= s.end), key=lambda s: s.end - s.start)
        if not cover:
            out.append(piece)
            continue
        kinds = list(dict.fromkeys(_kind(s.kind)[0] for s in cover))
        title = "\n".join(f"{s.kind or 'difference'}: {s.note}" if s.note else (s.kind or "difference")
                          for s in cover)
        attrs = [f'class="diff diff-{kinds[0]}{" diff-multi" if len(cover) > 1 else ""}"',
                 f'data-kind="{_esc(cover[0].kind or "other")}"', f'title="{_esc(title)}"']
        if len(kinds) > 1:
            attrs.append(f'data-kinds="{_esc(" ".join(kinds))}"')
        ends = [str(s.ref) for s in cover if s.ref is not None and s.end == hi]
        if ends:
            attrs.append(f'data-ref="{",".join(ends)}"')
        out.append(f"<mark {' '.join(attrs)}>{piece}</mark>")
    return "".join(out)


# -- rendering ----------------------------------------------------------------------------------

_FONT_ARABIC = '"Noto Naskh Arabic", "Noto Sans Arabic", "Vazirmatn", "Tahoma", "DejaVu Sans", sans-serif'
_FONT_PERSIAN = '"Vazirmatn", "Noto Naskh Arabic", "Noto Sans Arabic", "Tahoma", "DejaVu Sans", sans-serif'
_FONT_HEBREW = '"Noto Sans Hebrew", "Arial Hebrew", "Tahoma", "DejaVu Sans", sans-serif'
_FONT_LATIN = 'system-ui, -apple-system, "Segoe UI", "Noto Sans", Roboto, "Helvetica Neue", Arial, "DejaVu Sans", sans-serif'


def _css() -> str:
    kinds = "\n".join(
        f".diff-{name} {{ --c: {k.colour}; --t: {k.tint}; --line: {k.line}; }}"
        for name, k in [*KINDS.items(), ("other", OTHER)])
    return f"""
:root {{ color-scheme: light; --ink: #1d1d1f; --muted: #5f6368; --rule: #d0d3d8; --paper: #fff; --soft: #f5f6f8; }}
* {{ box-sizing: border-box; }}
html {{ -webkit-print-color-adjust: exact; print-color-adjust: exact; }}
body {{ margin: 0 auto; max-width: 1600px; padding: 1.2rem 1.5rem 3rem; color: var(--ink); background: var(--paper);
  font: 15px/1.5 {_FONT_LATIN}; }}
:lang(ar) {{ font-family: {_FONT_ARABIC}; }}
:lang(fa), :lang(ur), :lang(ps), :lang(prs), :lang(ckb) {{ font-family: {_FONT_PERSIAN}; }}
:lang(he), :lang(yi) {{ font-family: {_FONT_HEBREW}; }}
:lang(en) {{ font-family: {_FONT_LATIN}; }}
h1 {{ font-size: 1.6rem; margin: 0 0 .2rem; }}
h2 {{ font-size: 1.3rem; margin: 2rem 0 .6rem; padding-top: .8rem; border-top: 3px solid var(--ink); }}
h3 {{ font-size: 1rem; margin: .2rem 0 .3rem; }}
.sub, .muted {{ color: var(--muted); }}
a {{ color: #0a58a8; }}
.controls {{ margin: .6rem 0; }}
.controls label {{ cursor: pointer; user-select: none; }}
.legend {{ display: flex; flex-wrap: wrap; gap: .4rem 1.2rem; padding: .6rem .8rem; margin: .6rem 0;
  background: var(--soft); border: 1px solid var(--rule); border-radius: 6px; list-style: none; }}
.legend li {{ display: flex; align-items: baseline; gap: .4rem; }}
.swatch {{ display: inline-block; min-width: 5.5em; padding: 0 .35em; background: var(--t);
  text-decoration: underline 3px var(--c); text-decoration-style: var(--line); text-underline-offset: .25em; }}
.swatch-gap {{ background: repeating-linear-gradient(135deg, #e4e6ea 0 6px, #fff 6px 12px); border: 1px dashed #9aa0a6; }}
.swatch-bp {{ opacity: .55; border: 1px dotted #9aa0a6; background: var(--soft); }}
{kinds}
mark.diff {{ color: inherit; background: var(--t); text-decoration-line: underline; text-decoration-color: var(--c);
  text-decoration-style: var(--line); text-decoration-thickness: 2px; text-underline-offset: .3em;
  text-decoration-skip-ink: none; border-radius: 2px; box-decoration-break: clone; -webkit-box-decoration-break: clone; }}
mark.diff:hover {{ outline: 2px solid var(--c); }}
mark.diff-multi {{ text-decoration-thickness: 3px; }}
.summary {{ display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: .8rem; margin: .4rem 0 1rem; }}
.card {{ border: 1px solid var(--rule); border-radius: 6px; padding: .6rem .8rem; background: var(--paper); }}
.card ul {{ margin: .2rem 0; padding-inline-start: 1.2rem; }}
.card li {{ margin: .15rem 0; }}
.stats {{ display: flex; flex-wrap: wrap; gap: .2rem 1rem; margin: 0; padding: 0; list-style: none; }}
.stats b {{ font-variant-numeric: tabular-nums; }}
.excerpt {{ unicode-bidi: isolate; }}
.passages a {{ text-decoration: none; }}
.passages a:hover {{ text-decoration: underline; }}
table.diptych {{ width: 100%; border-collapse: collapse; table-layout: fixed; }}
table.diptych col.meta {{ width: 6.5rem; }}
table.diptych th, table.diptych td {{ border-bottom: 1px solid var(--rule); padding: .45rem .7rem; vertical-align: top; }}
table.diptych thead th {{ position: sticky; top: 0; z-index: 1; background: var(--ink); color: #fff; font-weight: 600; }}
table.diptych thead th .outlet {{ font-weight: 400; opacity: .9; }}
th[dir="rtl"], td[dir="rtl"] {{ text-align: right; }}
th[dir="ltr"], td[dir="ltr"] {{ text-align: left; }}
td.meta {{ font-size: .75rem; line-height: 1.35; color: var(--muted); font-variant-numeric: tabular-nums; }}
td.meta > span {{ display: block; }}
td.meta .rid {{ overflow: hidden; text-overflow: ellipsis; white-space: nowrap; font-weight: 600; }}
td.meta .why {{ overflow-wrap: break-word; }}
table.diptych td.meta, table.diptych th.meta {{ padding-left: .5rem; padding-right: .4rem; }}
td.text {{ overflow-wrap: anywhere; }}
td.text:lang(ar), td.text:lang(fa), td.text:lang(ur), td.text:lang(ps) {{ font-size: 1.15rem; line-height: 1.95; }}
tr.seg:nth-child(even) td.text {{ background: #fbfbfc; }}
tr.one-sided td.text {{ box-shadow: inset 4px 0 0 #6b7280; }}
tr.one-sided td.text[dir="rtl"] {{ box-shadow: inset -4px 0 0 #6b7280; }}
td.gap {{ background: repeating-linear-gradient(135deg, #eceef1 0 7px, #fff 7px 14px); vertical-align: middle;
  text-align: center; color: #4b5058; }}
td.gap .gap-label {{ display: inline-block; padding: .1rem .5rem; background: #fff; border: 1px dashed #9aa0a6;
  border-radius: 3px; font-size: .8rem; font-style: italic; }}
tr.boilerplate {{ display: none; }}
tr.boilerplate td {{ opacity: .55; font-size: .85rem; }}
tr.boilerplate td.text:lang(ar), tr.boilerplate td.text:lang(fa) {{ font-size: 1rem; }}
body:has(#show-boilerplate:checked) tr.boilerplate {{ display: table-row; }}
.diff-list ol {{ padding-inline-start: 2rem; }}
.diff-list li {{ margin: .25rem 0; }}
.diff-list .quote {{ unicode-bidi: isolate; }}
footer {{ margin-top: 2rem; font-size: .8rem; color: var(--muted); }}
h4 {{ font-size: .95rem; margin: 1rem 0 .3rem; }}
section.coverage {{ margin-top: 1.6rem; padding-top: .4rem; border-top: 1px solid var(--rule); }}
.cov-key {{ display: flex; flex-wrap: wrap; gap: .2rem 1.2rem; margin: .3rem 0 .6rem; padding: 0; list-style: none;
  font-size: .85rem; color: var(--muted); }}
.cov-scroll {{ overflow-x: auto; }}
table.coverage-matrix {{ border-collapse: collapse; width: 100%; }}
table.coverage-matrix th, table.coverage-matrix td {{ border: 1px solid var(--rule); padding: .3rem .5rem; vertical-align: top; }}
table.coverage-matrix thead th {{ background: var(--soft); font-weight: 600; font-size: .85rem; }}
table.coverage-matrix th.cov-outlet-col {{ width: 7.5rem; text-align: center; vertical-align: bottom; }}
table.coverage-matrix th.cov-id, table.coverage-matrix td.cov-id {{ width: 4.5rem; font-size: .75rem; color: var(--muted);
  font-weight: 400; font-variant-numeric: tabular-nums; white-space: nowrap; }}
td.claim {{ overflow-wrap: anywhere; }}
td.claim:lang(ar), td.claim:lang(fa), td.claim:lang(ur), td.claim:lang(ps) {{ font-size: 1.05rem; line-height: 1.8; }}
table.coverage-matrix td.cov-cell {{ text-align: center; vertical-align: middle; cursor: help; }}
td.cov-none {{ color: #b0b4ba; cursor: default; }}
td.cov-linked {{ background: #e3f2ec; }}
td.cov-conflict {{ background: #FCE6B8; box-shadow: inset 0 0 0 2px #E69F00; }}
.cov-mark {{ display: block; font-size: 1.15rem; font-weight: 700; line-height: 1.2; }}
td.cov-linked .cov-mark {{ color: #007a58; }}
td.cov-conflict .cov-mark {{ color: #8a5a00; }}
.cov-tags {{ display: flex; flex-wrap: wrap; justify-content: center; gap: .15rem; margin-top: .15rem; }}
.cov-tag {{ font-size: .68rem; line-height: 1.3; padding: 0 .3em; border-radius: 3px; background: var(--t);
  border-bottom: 2px var(--line) var(--c); color: var(--ink); }}
.cov-tag.factual {{ font-weight: 700; }}
table.coverage-matrix tfoot td {{ font-size: .8rem; color: var(--muted); text-align: center; }}
.cov-facts li, .cov-only li, .cov-elsewhere li {{ margin: .3rem 0; }}
.cov-only li:lang(ar), .cov-only li:lang(fa), .cov-elsewhere li:lang(ar), .cov-elsewhere li:lang(fa) {{ font-size: 1.05rem; line-height: 1.8; }}
li[dir="rtl"] {{ text-align: right; }}
.cov-items {{ display: block; font-size: .78rem; line-height: 1.5; color: var(--muted); }}
.cov-item {{ display: inline-block; margin-inline-end: .35rem; }}
.cov-item b {{ font-weight: 600; color: var(--ink); }}
.cov-sid {{ font-size: .75rem; color: var(--muted); font-variant-numeric: tabular-nums; }}
@media print {{
  body {{ max-width: none; padding: 0; font-size: 11pt; }}
  .controls {{ display: none; }}
  table.diptych thead {{ display: table-header-group; }}
  table.diptych thead th {{ position: static; color: var(--ink); background: #e8e8e8; }}
  tr.seg {{ break-inside: avoid; }}
  section.story {{ break-before: page; }}
  section.story:first-of-type {{ break-before: auto; }}
  section.coverage {{ break-before: page; }}
  table.coverage-matrix tr {{ break-inside: avoid; }}
  mark.diff[data-ref]::after {{ content: "[" attr(data-ref) "]"; font: 600 .65em/1 {_FONT_LATIN};
    vertical-align: super; color: #333; background: #fff; }}
  a {{ color: inherit; text-decoration: none; }}
}}
"""


def _kind_legend() -> str:
    items = [f'<li><span class="swatch diff-{name}">{_esc(k.label)}</span> <span class="muted">{_esc(k.description)}</span></li>'
             for name, k in KINDS.items()]
    items.append('<li><span class="swatch swatch-gap">only in …</span> '
                 '<span class="muted">a passage the other version lacks (its side is hatched)</span></li>')
    items.append('<li><span class="swatch swatch-bp">boilerplate</span> '
                 '<span class="muted">page furniture, not aligned; hidden unless shown above</span></li>')
    return ('<ul class="legend" aria-label="Legend">' + "".join(items) + "</ul>")


def _source_label(docs: Sequence[Mapping]) -> str:
    parts = []
    for d in docs:
        outlet = d.get("outlet")
        who = f'<bdi class="outlet">{_esc(outlet)}</bdi>' if outlet else '<span class="outlet" lang="en">unknown outlet</span>'
        parts.append(f'{who} <span class="outlet" lang="en" dir="ltr">({_esc(d.get("id"))})</span>')
    return " · ".join(parts)


def _summary(story: StoryView) -> str:
    """Counts, then per language: its one-sided passages, what only it names, its highlighted share."""
    a, b = story.langs
    rows = story.rows
    status = Counter(str(r.get("status")) for r in rows)
    kinds = Counter(_kind(d.get("kind"))[0] for r in rows for d in (r.get("differences") or []))
    def stat(n: int, what: str, plural: str, tail: str = "") -> str:
        return f"<li><b>{n}</b> {what if n == 1 else plural}{tail}</li>"

    stats = [stat(status.get("aligned", 0), "aligned row", "aligned rows")]
    stats += [stat(status.get(f"{lang}_only", 0), "row", "rows", f" only in {_esc(english_name(lang))}")
              for lang in (a, b)]
    stats.append(stat(status.get("boilerplate", 0), "boilerplate row", "boilerplate rows"))
    ndiff = sum(kinds.values())
    by_kind = ", ".join(f"{n} {_esc(k)}" for k, n in kinds.most_common())
    stats.append(stat(ndiff, "difference", "differences", f" ({by_kind})" if by_kind else ""))
    cards = [f'<div class="card"><h3>Rows</h3><ul class="stats">{"".join(stats)}</ul></div>']

    s = story.summary
    passages: Mapping = getattr(s, "passages", None) or {}
    only: Mapping = getattr(s, "only", None) or {}
    share: Mapping = getattr(s, "highlighted_share", None) or {}
    anchors = {str(r.get("id")): _html_id("seg", story.story_id, r.get("id")) for r in rows}
    for lang in (a, b):
        name = _esc(english_name(lang))
        items = []
        ps = list(passages.get(lang) or [])
        nseg = sum(len(getattr(p, "segment_ids", []) or []) for p in ps)
        line = f"{_plural(len(ps), 'passage')} only in {name} ({_plural(nseg, 'row')})"
        if lang in share and share[lang] is not None:
            line += f" · {float(share[lang]):.0%} of its aligned text highlighted"
        items.append(f"<p>{line}</p>")
        if ps:
            lis = []
            for p in ps[:12]:
                text = str(getattr(p, "text", "") or "")
                short = text if len(text) <= 160 else text[:157].rstrip() + "…"
                ids = getattr(p, "segment_ids", None) or []
                anchor = anchors.get(str(ids[0])) if ids else None
                body = f'<span class="excerpt" lang="{_esc(lang)}" dir="{lang_dir(lang)}">{_esc(short)}</span>'
                lis.append(f'<li><a href="#{anchor}">{body}</a></li>' if anchor else f"<li>{body}</li>")
            more = f'<li class="muted">and {len(ps) - 12} more</li>' if len(ps) > 12 else ""
            items.append(f'<ul class="passages">{"".join(lis)}{more}</ul>')
        named = only.get(lang) or {}
        if named:
            lis = []
            for kind, things in named.items():
                vals = " · ".join(f'<bdi lang="{_esc(lang)}">{_esc(t)}</bdi>' for t in (things or []))
                lis.append(f'<li><span class="swatch diff-{_kind(kind)[0]}">{_esc(kind)}</span> {vals}</li>')
            items.append(f"<p>Only {name} has:</p><ul>{''.join(lis)}</ul>")
        cards.append(f'<div class="card" data-lang="{_esc(lang)}"><h3>{name}</h3>{"".join(items)}</div>')
    return f'<div class="summary">{"".join(cards)}</div>'


def _clip(text: str, start: object, end: object) -> str:
    try:
        return text[max(0, int(start)): max(0, int(end))]  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return ""


def _short_id(rid: str, story_id: str) -> str:
    """A row id without its story prefix (``crocus-2024/00012`` -> ``00012``): the section names the story."""
    if story_id and rid.startswith(story_id) and rid[len(story_id):len(story_id) + 1] in ("/", ":", "-", "_", "#"):
        return rid[len(story_id) + 1:] or rid
    return rid


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n == 1 else (plural or word + 's')}"


def _row(story: StoryView, r: Mapping, refs: Mapping[int, int]) -> str:
    a, b = story.langs
    status = str(r.get("status") or "")
    rid = str(r.get("id") or "")
    solo = status[: -len("_only")] if status.endswith("_only") else None
    classes = ["seg"]
    if status == "boilerplate":
        classes.append("boilerplate")
    elif solo:
        classes.append("one-sided")
    meta = [f'<span class="rid" title="row {_esc(rid)}">{_esc(_short_id(rid, story.story_id))}</span>']
    if status == "boilerplate":
        ids = [*(r.get(f"{a}_ids") or []), *(r.get(f"{b}_ids") or [])]
        reason = next((story.reasons[i] for i in ids if i in story.reasons), None)
        meta.append(f'<span class="why">boilerplate{": " + _esc(reason) if reason else ""}</span>')
    else:
        bits = []
        if r.get("alignment_type"):
            bits.append(f'<span title="sentences: {_esc(a)}-{_esc(b)}">{_esc(r["alignment_type"])}</span>')
        if isinstance(r.get("score"), int | float):
            bits.append(f'<span title="alignment score">{r["score"]:.2f}</span>')
        if bits:
            meta.append(f'<span class="how">{" · ".join(bits)}</span>')
    cells = [f'<td class="meta">{"".join(meta)}</td>']
    for lang in (a, b):
        text = r.get(lang) or ""
        if solo and solo != lang and not text:
            label = f"only in {english_name(solo)}"
            cells.append(f'<td class="gap" data-missing="{_esc(lang)}" lang="en" dir="ltr">'
                         f'<span class="gap-label">{_esc(label)}</span></td>')
        else:
            body = highlight(text, spans_for(r, lang, refs))
            cells.append(f'<td class="text" data-lang="{_esc(lang)}" lang="{_esc(lang)}" dir="{lang_dir(lang)}">{body}</td>')
    hid = _html_id("seg", story.story_id, rid)
    return (f'<tr id="{hid}" class="{" ".join(classes)}" data-status="{_esc(status)}">'
            + "".join(cells) + "</tr>")


def _outlet_name(doc: Mapping) -> str:
    """An outlet's name, isolated (it is usually in another script than the page), or a plain stand-in."""
    outlet = doc.get("outlet")
    if outlet:
        return f'<bdi lang="{_esc(doc.get("lang") or "")}">{_esc(outlet)}</bdi>'
    return '<span lang="en">unknown outlet</span>'


def _outlet_plain(doc: Mapping) -> str:
    """The outlet's name as text (for tooltips), with its document id."""
    return f"{doc.get('outlet') or 'unknown outlet'} ({doc.get('id')})"


def _shorten(text: str, limit: int = 220) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _conflicts(links: Sequence[Link]) -> list[Mapping]:
    return [c for link in links for c in (link.row.get("conflicts") or [])]


def _cell(claim: Claim, outlet: Mapping) -> str:
    """One matrix cell: whether the outlet carries the claim, and how (the notes are in its tooltip)."""
    doc = str(outlet.get("id"))
    links = claim.cells.get(doc) or []
    if not links:
        return (f'<td class="cov-cell cov-none" data-doc="{_esc(doc)}" data-state="none">'
                f'<span class="cov-mark" aria-label="not reported">–</span></td>')
    conflicts = _conflicts(links)
    factual = list(dict.fromkeys(str(c.get("kind")) for c in conflicts if c.get("kind") in FACTUAL))
    others = list(dict.fromkeys(str(c.get("kind") or "other") for c in conflicts if c.get("kind") not in FACTUAL))
    lines = [f"{_outlet_plain(outlet)} carries {claim.sentence_id}"
             + (f", with a {' and '.join(factual)} conflict" if factual else "")]
    for link in links:
        r = link.row
        ids = ", ".join(str(i) for i in r.get("ids") or [])
        refs = ", ".join(str(i) for i in r.get("ref_ids") or [])
        how = f"{ids} → {refs}" + (f" (aligned with {claim.sentence_id})" if link.via else "")
        if isinstance(r.get("score"), int | float):
            how += f", score {r['score']:.2f}"
        lines += ["", how, f"“{_shorten(str(r.get('text') or ''), 160)}”"]
        lines += [f"{c.get('kind')}: {c.get('note')}" for c in sorted(r.get("conflicts") or [],
                                                                      key=lambda c: c.get("kind") not in FACTUAL)]
        lines += [f"not in {refs}: “{d.get('text')}”" for d in r.get("differences") or [] if d.get("kind") == "content"]
    tags = "".join(f'<span class="cov-tag factual diff-{_kind("number")[0]}">{_esc(k)}</span>' for k in factual)
    tags += "".join(f'<span class="cov-tag diff-{_kind(k)[0]}">{_esc(k)}</span>' for k in others)
    state = "conflict" if factual else "linked"
    mark = ('<span class="cov-mark" aria-label="reported, with a different figure or date">≠</span>' if factual
            else '<span class="cov-mark" aria-label="reported">✓</span>')
    return (f'<td class="cov-cell cov-{state}" data-doc="{_esc(doc)}" data-state="{state}" '
            f'data-factual="{_esc(" ".join(factual))}" data-kinds="{_esc(" ".join(others))}" '
            f'title="{_esc(chr(10).join(lines))}">{mark}'
            + (f'<span class="cov-tags" lang="en" dir="ltr">{tags}</span>' if tags else "") + "</td>")


def _typed_items(text: str, lang: str) -> list[tuple[str, str, str]]:
    """Names, sources and figures a sentence carries, as ``(kind, English label, words)``, once each.

    The same lexicons as the story summary, so the reader sees at a glance what an outlet adds.
    """
    from framing.lexicon import load_concepts, load_lexicon

    lex, concepts = load_lexicon(lang), load_concepts()
    out: dict[tuple[str, str], tuple[str, str, str]] = {}
    for it in lex.items(text, lex.words(text)):
        if it.kind in ("entity", "source", "number") and not it.ambiguous:
            out.setdefault((it.kind, it.concept), (it.kind, concepts.label(it.kind, it.concept), text[it.start:it.end]))
    return list(out.values())


def _sentence_li(r: Mapping, extra: str = "") -> str:
    lang = str(r.get("lang") or "")
    sid = ", ".join(str(i) for i in r.get("ids") or [])
    items = _typed_items(str(r.get("text") or ""), lang)
    chips = "".join(f'<span class="cov-item" title="{_esc(kind)}: {_esc(words)}">{_esc(kind)} <b>{_esc(label)}</b></span>'
                    for kind, label, words in items)
    return (f'<li data-id="{_esc(sid)}" lang="{_esc(lang)}" dir="{lang_dir(lang)}">'
            f'<span class="cov-sid" lang="en" dir="ltr">{_esc(sid)}</span> {_esc(r.get("text") or "")}{extra}'
            + (f'<span class="cov-items" lang="en" dir="ltr">{chips}</span>' if chips else "") + "</li>")


def _coverage(story: StoryView) -> str:
    """The coverage view: claims by outlet (conflicts marked), the factual conflicts in full, then per
    outlet what no parallel version says."""
    cov = story.coverage
    if cov is None:
        return ""
    ref = cov.reference or {}
    ref_lang = str(ref.get("lang") or "")
    ref_label = (f'the {_esc(english_name(ref_lang))} version ({_esc(ref.get("id"))}, {_outlet_name(ref)})'
                 if ref else "a parallel version")
    sid = cov.story_id
    head = ['<th class="cov-id" scope="col" lang="en">sentence</th>',
            f'<th class="claim-col" scope="col">Claim in {ref_label}</th>']
    for d in cov.outlets:
        head.append(f'<th class="cov-outlet-col" scope="col" data-doc="{_esc(d.get("id"))}" '
                    f'lang="{_esc(d.get("lang") or "")}" dir="{lang_dir(str(d.get("lang") or ""))}">'
                    f'{_outlet_name(d)}<br><span class="cov-sid" lang="en" dir="ltr">{_esc(d.get("id"))}</span></th>')
    body = []
    for c in cov.claims:
        cells = "".join(_cell(c, d) for d in cov.outlets)
        body.append(f'<tr class="claim-row" data-claim="{_esc(c.sentence_id)}">'
                    f'<td class="cov-id" lang="en" dir="ltr">{_esc(c.sentence_id)}</td>'
                    f'<td class="claim" lang="{_esc(c.lang)}" dir="{lang_dir(c.lang)}">{_esc(c.text)}</td>{cells}</tr>')
    foot = []
    for d in cov.outlets:
        doc = str(d.get("id"))
        carried = sum(1 for c in cov.claims if c.cells.get(doc))
        foot.append(f'<td data-doc="{_esc(doc)}">{carried} carried · {len(cov.only.get(doc) or [])} own</td>')
    if cov.claims:
        matrix = (f'<div class="cov-scroll"><table class="coverage-matrix"><thead><tr>{"".join(head)}</tr></thead>\n'
                  f'<tbody>\n{chr(10).join(body)}\n</tbody>\n'
                  f'<tfoot><tr><td></td><td lang="en">{_plural(len(cov.claims), "claim")} carried by other outlets; '
                  f'per outlet: claims carried · sentences of its own</td>'
                  f'{"".join(foot)}</tr></tfoot></table></div>')
    else:
        matrix = '<p class="muted">No sentence of the other outlets links to a sentence of the parallel versions.</p>'

    facts = []
    for c in cov.claims:
        for d in cov.outlets:
            for link in c.cells.get(str(d.get("id"))) or []:
                r = link.row
                for k in (k for k in (r.get("conflicts") or []) if k.get("kind") in FACTUAL):
                    ids = ", ".join(str(i) for i in r.get("ids") or [])
                    refs = ", ".join(str(i) for i in r.get("ref_ids") or [])
                    facts.append(f'<li><span class="swatch diff-number">{_esc(k.get("kind"))}</span> {_outlet_name(d)} '
                                 f'<span class="cov-sid">{_esc(ids)} → {_esc(refs)}</span> {_esc(k.get("note"))}</li>')
    facts_html = (f'<section class="cov-facts"><h4>Figures and dates that differ ({len(facts)})</h4>'
                  f'<ol>{"".join(facts)}</ol></section>') if facts else ""

    blocks = []
    for d in cov.outlets:
        doc = str(d.get("id"))
        own = cov.only.get(doc) or []
        total = cov.sentences.get(doc, 0)
        parts = [f'<h4>Only {_outlet_name(d)} <span class="cov-sid">({_esc(doc)})</span> reports</h4>',
                 f'<p class="muted">{_plural(len(own), "sentence")} of {total} (boilerplate aside) '
                 f'link to no sentence of the parallel versions.</p>']
        lang = str(d.get("lang") or "")
        if own:  # the list runs in the outlet's direction, so its numbers sit at the start of each line
            parts.append(f'<ol class="cov-only" lang="{_esc(lang)}" dir="{lang_dir(lang)}">'
                         f'{"".join(_sentence_li(r) for r in own)}</ol>')
        away = cov.elsewhere.get(doc) or []
        if away:
            lis = []
            for r in away:
                rl = str(r.get("ref_lang") or "")
                refs = ", ".join(str(i) for i in r.get("ref_ids") or [])
                lis.append(_sentence_li(r, f' <span class="cov-sid" lang="en" dir="ltr">→ {_esc(refs)}</span> '
                                           f'<q lang="{_esc(rl)}" dir="{lang_dir(rl)}">{_esc(r.get("ref_text") or "")}</q>'))
            parts.append(f'<p>Linked to a sentence of another version that {ref_label} has no counterpart for:</p>'
                         f'<ol class="cov-elsewhere" lang="{_esc(lang)}" dir="{lang_dir(lang)}">{"".join(lis)}</ol>')
        blocks.append(f'<div class="cov-outlet" data-doc="{_esc(doc)}" id="{_html_id("coverage", sid, doc)}">'
                      f'{"".join(parts)}</div>')
    key = ('<ul class="cov-key" lang="en"><li><b>✓</b> reports the claim</li>'
           '<li><b>≠</b> reports it with a different figure or date</li>'
           '<li><span class="cov-tag diff-entity">kind</span> other differences on the link (names, sources, '
           'hedges, wording)</li><li>– not reported</li><li>hover over a cell for the sentences and notes</li></ul>')
    n = len(cov.outlets)
    return (f'<section class="coverage" id="{_html_id("coverage", sid)}" data-story="{_esc(sid)}">\n'
            f'<h3>Coverage by other outlets ({n} {"document" if n == 1 else "documents"})</h3>\n'
            f'<p class="muted">Rows: the sentences of {ref_label} that another outlet reports, in its order; links '
            f'to the other version are placed on the sentence it is aligned with.</p>\n'
            f'{key}\n{matrix}\n{facts_html}\n{"".join(blocks)}\n</section>')


def _story(story: StoryView, index: int) -> str:
    a, b = story.langs
    # Number every difference in row order (first language first): marks and the notes list share them.
    numbered: list[tuple[Mapping, Mapping, int]] = []  # (row, difference, ref)
    refs_by_row: list[dict[int, int]] = []
    rank = {a: 0, b: 1}
    for r in story.rows:
        refs: dict[int, int] = {}
        diffs = list(r.get("differences") or [])
        order = sorted(range(len(diffs)), key=lambda i: (rank.get(diffs[i].get("lang"), 2), diffs[i].get("start") or 0))
        for i in ([] if r.get("status") == "boilerplate" else order):
            refs[i] = len(numbered) + 1
            numbered.append((r, diffs[i], refs[i]))
        refs_by_row.append(refs)
    heads = ['<th class="meta" lang="en" dir="ltr" scope="col">row</th>']
    for lang in (a, b):
        name = _esc(english_name(lang))
        src = _source_label(story.sources.get(lang) or [])
        heads.append(f'<th class="col" scope="col" data-lang="{_esc(lang)}" lang="{_esc(lang)}" dir="{lang_dir(lang)}">'
                     f'<span lang="en" dir="ltr">{name} ({_esc(lang)})</span>{"<br>" + src if src else ""}</th>')
    body = "\n".join(_row(story, r, refs) for r, refs in zip(story.rows, refs_by_row, strict=True))
    notes = ""
    if numbered:
        lis = []
        for r, d, ref in numbered:
            lang = str(d.get("lang") or "")
            name, _k = _kind(d.get("kind"))
            quote = str(d.get("text") or "") or _clip(r.get(lang) or "", d.get("start"), d.get("end"))
            anchor = _html_id("seg", story.story_id, r.get("id"))
            lis.append(f'<li value="{ref}"><span class="swatch diff-{name}">{_esc(d.get("kind") or "other")}</span> '
                       f'<span class="muted">{_esc(lang)}</span> '
                       f'<q class="quote" lang="{_esc(lang)}" dir="{lang_dir(lang)}">{_esc(quote)}</q> '
                       f'{_esc(d.get("note") or "")} <a href="#{anchor}">row {_esc(_short_id(str(r.get("id") or ""), story.story_id))}</a></li>')
        notes = (f'<section class="diff-list"><h3>Differences, with notes ({len(numbered)})</h3>'
                 f'<ol>{"".join(lis)}</ol></section>')
    sid = _esc(story.story_id)
    jump = ""
    if story.coverage is not None:
        jump = (f'<p><a href="#{_html_id("coverage", story.story_id)}">How other outlets cover this story</a> '
                f'<span class="muted">({_plural(len(story.coverage.outlets), "document")})</span></p>\n')
    return (f'<section class="story" id="{_html_id("story", index)}" data-story="{sid}">\n'
            f'<h2>Story <bdi>{sid or "(no id)"}</bdi></h2>\n{_summary(story)}\n{jump}'
            f'<table class="diptych"><colgroup><col class="meta"><col class="col"><col class="col"></colgroup>\n'
            f'<thead><tr>{"".join(heads)}</tr></thead>\n<tbody>\n{body}\n</tbody></table>\n{notes}\n'
            f'{_coverage(story)}\n</section>')


def render_report(stories: Sequence[StoryView], *, title: str | None = None, show_boilerplate: bool = False,
                  source: str | None = None) -> str:
    """The whole page: header, legend, one section per story."""
    from corpus import __version__

    langs = stories[0].langs if stories else ("", "")
    title = title or ("diptych: " + " / ".join(english_name(x) for x in langs if x))
    nbp = sum(1 for s in stories for r in s.rows if r.get("status") == "boilerplate")
    toc = ""
    if len(stories) > 1:
        toc = ('<nav class="toc"><p>Stories:</p><ol>' + "".join(
            f'<li><a href="#{_html_id("story", i)}"><bdi>{_esc(s.story_id)}</bdi></a> '
            f'<span class="muted">({len(s.rows)} rows)</span></li>' for i, s in enumerate(stories)) + "</ol></nav>")
    checked = " checked" if show_boilerplate else ""
    sub = f"{_plural(len(stories), 'story', 'stories')}, {' and '.join(english_name(x) for x in langs if x)}"
    if source:
        sub += f" · dataset <code>{_esc(source)}</code>"
    body = "\n".join(_story(s, i) for i, s in enumerate(stories))
    if not stories:
        body = '<p class="muted">The dataset has no segments.</p>'
    return f"""<!DOCTYPE html>
<html lang="en" dir="ltr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="diptych {_esc(__version__)}">
<title>{_esc(title)}</title>
<style>{_css()}</style>
</head>
<body>
<header>
<h1>{_esc(title)}</h1>
<p class="sub">{sub}. Rows pair what the two versions say; hover over a highlight to read its note.</p>
<div class="controls"><label><input type="checkbox" id="show-boilerplate"{checked}> show boilerplate rows ({nbp})</label></div>
{_kind_legend()}
{toc}
</header>
<main>
{body}
</main>
<footer>Made by diptych {_esc(__version__)}. Highlights mark spans of one version that the other words differently or lacks.</footer>
</body>
</html>
"""


def write_report(out_dir: str | os.PathLike[str], output: str | os.PathLike[str], *, title: str | None = None,
                 show_boilerplate: bool = False) -> list[StoryView]:
    """Read a dataset folder and write its report atomically; returns the stories shown."""
    from corpus.atomic import write_text

    out = Path(output)
    if out.is_dir():
        raise CorpusError(out, "is a folder; give the report's file name, e.g. report.html")
    data = load_dataset_rows(out_dir)
    stories = build_stories(data)
    write_text(out, render_report(stories, title=title, show_boilerplate=show_boilerplate,
                                  source=Path(out_dir).name))
    return stories
