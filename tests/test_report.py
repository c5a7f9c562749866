"""The HTML report (``diptych report``): markup unit tests, then the page as a real browser renders it.

The browser tests drive headless Chromium (Debian package ``chromium``). They do not
skip when it is missing: a report nobody has seen rendered is not tested. A copy of
the page gets a small probe script that writes what Chromium computed (directions,
marks by kind, layout of the two columns, loaded resources) into an attribute of
``<html>``, which ``--dump-dom`` then prints; console errors come from
``--enable-logging=stderr``.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import tempfile
import zlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.cli import main
from corpus.dataset import pair_rows
from corpus.schema import documents_schema, pairs_schema, segments_schema
from corpus.shards import shard_name
from framing.report import (
    DatasetRows,
    Span,
    build_coverage,
    build_stories,
    highlight,
    load_dataset_rows,
    render_report,
    spans_for,
)


def data_file(config: str) -> str:
    """The one shard a small dataset has."""
    return f"{config}/{shard_name(0, 1)}"


REPO = Path(__file__).resolve().parents[1]

# -- fixture datasets -----------------------------------------------------------------------------


def diff(text: str, lang: str, needle: str, kind: str, note: str) -> dict:
    """A difference on the first occurrence of ``needle`` in ``text`` (offsets are computed, not typed)."""
    start = text.index(needle)
    return {"lang": lang, "start": start, "end": start + len(needle), "text": needle, "kind": kind, "note": note}


def write_dataset(root: Path, langs: tuple[str, str], segments: list[dict], documents: list[dict]) -> Path:
    """A dataset folder in the published layout (corpus.schema), as ``diptych build`` writes it."""
    a, b = sorted(langs)
    for r in segments:
        r.setdefault("differences", [])
    pairs = pair_rows(segments, langs)
    for config, rows, schema in (("segments", segments, segments_schema(langs)), ("pairs", pairs, pairs_schema(langs)),
                                 ("documents", documents, documents_schema())):
        path = root / data_file(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    (root / "README.md").write_text(f"---\nlanguage: [{a}, {b}]\n---\n# fixture dataset\n", "utf-8")
    return root


def crocus_rows() -> tuple[list[dict], list[dict]]:
    """The bundled Persian and Arabic versions of the Reuters report, segmented and aligned with the gold
    beads (tests/data), boilerplate rows interleaved in document order, and hand-made differences."""
    from align.beads import Bead, read_beads
    from corpus import load_corpus
    from corpus.dataset import StoryPair, segment_rows
    from corpus.segment import segment_document

    corpus = load_corpus()
    docs = {"ar": corpus.documents["002"], "fa": corpus.documents["004"]}
    units = {lang: segment_document(d) for lang, d in docs.items()}
    entry = {e.id: e for e in corpus.entries}
    gold = read_beads(REPO / "tests/data/crocus-2024.fa-ar.beads")  # source fa, target ar
    beads = [Bead(b.tgt, b.src, 0.8 if b.src and b.tgt else None) for b in gold]  # as the build has them: ar, fa
    rows = segment_rows(StoryPair("crocus-2024", entry["002"], entry["004"]), units["ar"], units["fa"], beads)

    def row_with(lang: str, needle: str) -> dict:
        return next(r for r in rows if needle in r[lang] and r["status"] != "boilerplate")

    r = row_with("fa", "وزارت اطلاعات ايران")
    r["differences"] += [
        diff(r["fa"], "fa", "وزارت اطلاعات ايران", "attribution", "Persian credits Iran's intelligence ministry; "
             "the Arabic says only 'Iran'"),
        diff(r["fa"], "fa", "در 19 ژانويه", "number", "the date of the commander's arrest is in the Persian only"),
    ]
    r = row_with("fa", "قاسم سليماني")
    r["differences"] += [diff(r["fa"], "fa", "که در مراسم سالگرد قاسم سليماني رخ داده بود", "content",
                              "Persian adds that the bombings hit the Soleimani memorial"),
                         diff(r["fa"], "fa", "قاسم سليماني", "entity", "Qasem Soleimani is named only in Persian")]
    r = row_with("ar", "منذ الثورة الإسلامية عام 1979")
    r["differences"] += [diff(r["ar"], "ar", "وهي الأكثر دموية منذ الثورة الإسلامية عام 1979", "evaluative",
                              "Arabic calls them the deadliest since the 1979 revolution"),
                         diff(r["ar"], "ar", "1979", "number", "1979 appears only in Arabic")]
    r = row_with("fa", "به ادعاي رسانه انگليسي")
    r["differences"] += [diff(r["fa"], "fa", "به ادعاي رسانه انگليسي", "attribution",
                              "Persian calls Reuters 'the English media'"),
                         diff(r["fa"], "fa", "ادعاي", "hedge", "'claim' casts doubt on the report")]
    r = row_with("ar", "لا أعرف شيئًا عن هذا")
    r["differences"] += [diff(r["ar"], "ar", "تقرير \"رويترز\"", "attribution", "Arabic names Reuters here")]

    documents = []
    for lang, d in docs.items():
        documents.append({"id": d.id, "story_id": d.story_id, "lang": lang, "outlet": d.outlet, "role": d.role,
                          "file": Path(d.path or "").name, "sha256": None, "note": None, "text": d.text,
                          "sentences": [{"id": f"{d.id}:{u.id}", "start": u.start, "end": u.end,
                                         "paragraph": u.paragraph, "label": u.label, "reason": u.reason}
                                        for u in units[lang]]})
    return rows, documents


def latin_rows() -> tuple[list[dict], list[dict]]:
    """A German/French pair in two stories, with overlapping and adjacent spans and markup-like text."""
    def row(story: str, n: int, de: str, fr: str, status: str = "aligned", diffs: list | None = None) -> dict:
        doc = {"ecb": ("d1", "f1"), "vote": ("d2", "f2")}[story]
        return {"id": f"{story}:{n}", "story_id": story, "de": de, "fr": fr,
                "de_ids": [f"{doc[0]}:{n}"] if de else [], "fr_ids": [f"{doc[1]}:{n}"] if fr else [],
                "status": status, "alignment_type": f"{int(bool(de))}-{int(bool(fr))}",
                "score": 0.9 if status == "aligned" else None, "differences": diffs or []}

    de0 = "Die EZB senkt den Leitzins um 0,25 Prozentpunkte auf 3,75 Prozent."
    fr0 = "La BCE a abaissé son taux directeur d'un quart de point, à 3,75 %, selon des analystes."
    de2 = 'Ein Händler schrieb: "<img src=x onerror=alert(1)> & <b>Zinswende</b>" – eine Überraschung.'
    fr2 = "Un courtier a parlé d'un « tournant » & d'une surprise."
    rows = [
        row("ecb", 0, de0, fr0, diffs=[
            diff(de0, "de", "um 0,25 Prozentpunkte", "number", "German gives the cut in points"),
            diff(de0, "de", "0,25 Prozentpunkte auf 3,75", "content", "overlaps the number span"),  # crossing
            diff(fr0, "fr", "selon des analystes", "attribution", 'attributed to "analysts" <only> in French'),
            diff(fr0, "fr", "d'un quart de point", "hedge", "vaguer"),
            diff(fr0, "fr", ", à 3,75 %", "number", "adjacent to the hedge span"),  # adjacent
        ]),
        row("ecb", 1, "Die Entscheidung fiel einstimmig.", "", "de_only"),
        row("ecb", 2, de2, fr2, diffs=[diff(de2, "de", "<b>Zinswende</b>", "evaluative", "a loaded <b>word</b> & more")]),
        row("ecb", 3, "", "Les marchés ont salué la décision.", "fr_only"),
        row("ecb", 4, "", "Lire aussi", "boilerplate"),
        row("vote", 0, "Die Wahlbeteiligung lag bei 61 Prozent.", "La participation a atteint 61 %.",
            diffs=[{"lang": "fr", "start": 20, "end": 32, "text": "atteint 61 %", "kind": "mystery", "note": "a kind the report does not know"}]),
        row("vote", 1, "Mehr zum Thema", "", "boilerplate"),
    ]
    documents = [{"id": i, "story_id": story, "lang": lang, "outlet": outlet, "role": "parallel", "file": f"{i}.txt",
                  "sha256": None, "note": None, "text": "", "sentences": []}
                 for i, story, lang, outlet in (("d1", "ecb", "de", "Tagesblatt"), ("f1", "ecb", "fr", "Le Quotidien"),
                                                ("d2", "vote", "de", None), ("f2", "vote", "fr", "Le Quotidien"))]
    return rows, documents


@pytest.fixture(scope="module")
def crocus_dir(tmp_path_factory) -> Path:
    rows, docs = crocus_rows()
    return write_dataset(tmp_path_factory.mktemp("crocus"), ("ar", "fa"), rows, docs)


@pytest.fixture(scope="module")
def latin_dir(tmp_path_factory) -> Path:
    rows, docs = latin_rows()
    return write_dataset(tmp_path_factory.mktemp("latin"), ("de", "fr"), rows, docs)


# -- markup, without a browser --------------------------------------------------------------------


def test_highlight_escapes_text_and_notes():
    text = 'a <b>"x"</b> & y'
    out = highlight(text, [Span(3, 6, "entity", 'note <i> & "q"')])
    assert "<b>" not in out and "</b>" not in out and "&lt;/b&gt;" in out and "&amp; y" in out
    assert 'title="entity: note &lt;i&gt; &amp; &quot;q&quot;"' in out
    assert html.unescape(re.sub(r"<[^>]+>", "", out)) == text  # the text is all there, once


def test_offsets_become_marks_on_exactly_those_characters():
    text = "Die EZB senkt um 0,25 Punkte."
    out = highlight(text, [Span(17, 21, "number", "n")])
    assert out == ('Die EZB senkt um <mark class="diff diff-number" data-kind="number" title="number: n">'
                   '0,25</mark> Punkte.')


@pytest.mark.parametrize("spans", [
    [Span(0, 10, "number", "a"), Span(5, 15, "content", "b")],  # crossing
    [Span(0, 10, "number", "a"), Span(2, 4, "hedge", "b")],  # nested
    [Span(0, 5, "number", "a"), Span(5, 9, "hedge", "b")],  # adjacent
    [Span(3, 8, "entity", "a"), Span(3, 8, "entity", "b")],  # identical
])
def test_overlapping_spans_never_break_the_markup(spans):
    text = "0123456789abcdefghij"
    out = highlight(text, spans)
    assert re.sub(r"<[^>]+>", "", out) == text
    assert out.count("<mark") == out.count("</mark>")
    assert re.search(r"<mark[^>]*>[^<]*<mark", out) is None  # never nested
    covered = {i for s in spans for i in range(s.start, s.end)}
    pos, inside = 0, set()
    for m in re.finditer(r"<mark[^>]*>([^<]*)</mark>|([^<]+)", out):
        piece = m.group(1) if m.group(1) is not None else m.group(2)
        if m.group(1) is not None:
            inside |= set(range(pos, pos + len(piece)))
        pos += len(piece)
    assert inside == covered


def test_inner_span_wins_the_colour_and_both_notes_show():
    out = highlight("به ادعاي رسانه", [Span(0, 14, "attribution", "outer", 1), Span(3, 8, "hedge", "inner", 2)])
    inner = re.search(r'<mark ([^>]*)>ادعاي</mark>', out).group(1)
    assert 'data-kind="hedge"' in inner and "diff-multi" in inner and 'data-kinds="hedge attribution"' in inner
    assert 'title="hedge: inner\nattribution: outer"' in inner
    assert 'data-ref="2"' in inner and out.rstrip().endswith('data-ref="1"> رسانه</mark>')


def test_spans_are_clipped_to_the_text_and_other_languages_ignored():
    row = {"de": "kurz", "differences": [
        {"lang": "de", "start": 2, "end": 99, "kind": "number", "note": ""},
        {"lang": "de", "start": 3, "end": 3, "kind": "number", "note": ""},
        {"lang": "fr", "start": 0, "end": 2, "kind": "number", "note": ""},
        {"lang": "de", "start": -4, "end": 1, "kind": "weird kind!", "note": ""}]}
    assert spans_for(row, "de") == [Span(2, 4, "number", ""), Span(0, 1, "weird kind!", "")]
    out = highlight(row["de"], spans_for(row, "de"))
    assert 'class="diff diff-other"' in out and 'data-kind="weird kind!"' in out  # unknown kinds get a safe class


def test_latin_pair_markup(latin_dir):
    stories = build_stories(load_dataset_rows(latin_dir))
    assert [s.story_id for s in stories] == ["ecb", "vote"]
    page = render_report(stories)
    assert 'lang="de" dir="ltr"' in page and 'lang="fr" dir="ltr"' in page and ' dir="rtl">' not in page
    assert "<img" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count('<section class="story"') == 2
    assert 'only in French' in page and 'only in German' in page
    assert "unknown outlet" in page  # d2 has none
    assert '<tr id="seg-vote-vote:1" class="seg boilerplate"' in page
    assert "<b>1</b> row only in German" in page and "<b>1</b> difference (1 other)" in page


def test_crocus_markup(crocus_dir):
    data = load_dataset_rows(crocus_dir)
    assert data.langs == ("ar", "fa")
    page = render_report(build_stories(data), title="Crocus <test>")
    assert "<title>Crocus &lt;test&gt;</title>" in page
    assert 'th class="col" scope="col" data-lang="ar" lang="ar" dir="rtl"' in page
    assert "إرم نيوز" in page and "مردم‌سالاری آنلاین" in page  # outlets in the column headers
    assert "boilerplate: related-links" in page  # reasons from the documents config
    assert 'id="show-boilerplate">' in page  # unchecked by default
    assert 'id="show-boilerplate" checked>' in render_report(build_stories(data), show_boilerplate=True)


def test_page_is_self_contained(crocus_dir):
    page = render_report(build_stories(load_dataset_rows(crocus_dir)))
    assert re.search(r"<(script|link|img|iframe|object|embed)\b", page) is None
    assert re.search(r"\b(src|href)\s*=\s*\"(?!#)", page) is None
    assert "url(" not in page and "@import" not in page and "@font-face" not in page


def test_summary_renders_without_only_or_shares():
    rows, _ = latin_rows()
    page = render_report([s for s in build_stories(DatasetRows(Path("x"), ("de", "fr"), rows, []))])
    assert "1 passage only in German (1 row)" in page and "1 passage only in French (1 row)" in page

    class Bare:  # a summary with nothing but the documented fields, left empty
        story_id, langs, passages, only, highlighted_share = "ecb", ("de", "fr"), {}, {}, {}

    story = build_stories(DatasetRows(Path("x"), ("de", "fr"), rows[:5], []))[0]
    story.summary = Bare()
    assert "0 passages only in German (0 rows)" in render_report([story])
    story.summary.only = {"fr": {"entity": ["Christine Lagarde"]}}
    story.summary.highlighted_share = {"de": 0.25}
    page = render_report([story])
    assert "Christine Lagarde" in page and "25% of its aligned text highlighted" in page


def comparable_row(doc: str, unit: int, text: str, status: str = "unlinked", ref: str | None = None,
                   ref_text: str = "", conflicts: list | None = None, story: str = "ecb", lang: str = "de") -> dict:
    """A row of the ``comparable`` config as ``diptych build`` writes it (one per link, or one unlinked)."""
    linked = status == "linked"
    return {"id": f"{story}/{doc}/{unit:05d}", "story_id": story, "doc_id": doc, "lang": lang, "text": text,
            "ids": [f"{doc}:{unit}"], "status": status, "ref_doc_id": ref.split(":")[0] if linked else None,
            "ref_lang": ({"d": "de", "f": "fr"}[ref[0]] if linked else None), "ref_text": ref_text if linked else None,
            "ref_ids": [ref] if linked else None, "score": 0.9 if linked else None,
            "conflicts": conflicts or [], "differences": []}


def test_coverage_places_links_to_either_version_on_one_claim():
    """Ties go to the smaller document id; a link to the other version lands on the claim aligned with it, or,
    where its segments row has no sentence of the reference version, is listed under the outlet."""
    rows, documents = latin_rows()
    documents.append({"id": "c1", "story_id": "ecb", "lang": "de", "outlet": "Abendpost", "role": "comparable",
                      "file": "c1.txt", "sha256": None, "note": None, "text": "", "sentences": []})
    fr0, fr3 = rows[0]["fr"], rows[3]["fr"]
    number = {"kind": "number", "text": "0,5", "ref_text": "quart", "note": "0.5 against a quarter point"}
    comparable = [
        comparable_row("c1", 0, "Die EZB senkt um 0,5 Punkte.", "linked", "d1:0", rows[0]["de"]),
        comparable_row("c1", 0, "Die EZB senkt um 0,5 Punkte.", "linked", "f1:0", fr0, [number]),
        comparable_row("c1", 1, "Die Märkte jubelten.", "linked", "f1:3", fr3,
                       [{"kind": "evaluative", "text": "jubelten", "ref_text": "", "note": "loaded"}]),
        comparable_row("c1", 3, 'Nur hier: <script>alert("x")</script> in Frankfurt.'),
        comparable_row("c1", 2, "Einstimmig, sagt die Abendpost.", "linked", "d1:1", rows[1]["de"]),
        comparable_row("c1", 4, "Mehr lesen", "boilerplate"),
    ]
    comparable[0]["differences"] = [{"lang": "de", "start": 16, "end": 22, "text": "Punkte", "kind": "content",
                                     "note": "no counterpart in d1"}]
    cov = build_coverage("ecb", comparable, rows[:5], documents)
    assert cov is not None and cov.reference["id"] == "d1"  # two links each: d1 wins the tie
    assert [c.sentence_id for c in cov.claims] == ["d1:0", "d1:1"]
    assert [c.text for c in cov.claims] == [rows[0]["de"], rows[1]["de"]]  # from the links, documents has none
    assert [(link.row["ref_ids"], link.via) for link in cov.claims[0].cells["c1"]] == [(["d1:0"], None),
                                                                                      (["f1:0"], "f1:0")]
    assert [r["ids"] for r in cov.elsewhere["c1"]] == [["c1:1"]]  # f1:3 is only in French
    assert [r["ids"] for r in cov.only["c1"]] == [["c1:3"]] and cov.sentences == {"c1": 4}
    assert build_coverage("vote", comparable, rows, documents) is None

    stories = build_stories(DatasetRows(Path("x"), ("de", "fr"), rows, documents, comparable))
    assert stories[1].coverage is None  # no outlet covers "vote"
    page = render_report(stories)
    assert page.count('<section class="coverage"') == 1 and 'id="coverage-ecb"' in page
    assert re.search(r'<td class="cov-cell cov-conflict" data-doc="c1" data-state="conflict" data-factual="number"'
                     r'[^>]*title="[^"]*0.5 against a quarter point', page)
    assert re.search(r'<td class="cov-cell cov-conflict" data-doc="c1"[^>]*title="[^"]*not in d1:0: “Punkte”', page)
    assert 'data-claim="d1:1"' in page and "Only <bdi lang=\"de\">Abendpost</bdi>" in page
    assert "<script>" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "Mehr lesen" not in page  # boilerplate is no outlet's claim
    assert "Die Märkte jubelten." in page.split('class="cov-elsewhere"')[1]
    assert 'lang="de" dir="ltr"' in page and ' dir="rtl">' not in page


def test_no_comparable_config_means_no_coverage_view(crocus_dir):
    data = load_dataset_rows(crocus_dir)
    assert data.comparable is None
    page = render_report(build_stories(data))
    assert 'class="coverage"' not in page and "How other outlets" not in page


# -- the command ------------------------------------------------------------------------------------


def test_report_command_writes_the_page(crocus_dir, tmp_path, capsys):
    out = tmp_path / "sub" / "report.html"
    assert main(["report", str(crocus_dir), "-o", str(out), "--title", "Crocus", "--show-boilerplate"]) == 0
    page = out.read_text("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>Crocus</title>" in page
    assert "1 story" in capsys.readouterr().err
    assert [p.name for p in out.parent.iterdir()] == ["report.html"]  # no temporary file left


def _a_file(d: Path) -> Path:
    (d / "f.txt").write_text("x")
    return d / "f.txt"


def _not_parquet(d: Path) -> Path:
    (d / "segments").mkdir()
    (d / data_file("segments")).write_text("no")
    return d


@pytest.mark.parametrize("setup, problem", [
    (lambda d: d / "missing", "no such dataset folder"),
    (_a_file, "not a folder"),
    (lambda d: d, "segments: no segments/test-*.parquet shards; "),
    (_not_parquet, "not a readable parquet"),
])
def test_bad_dataset_folders_are_one_line_errors(tmp_path, capsys, setup, problem):
    path = setup(tmp_path)
    assert main(["report", str(path), "-o", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("diptych: error: ") and problem in err and err.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_an_empty_dataset_gives_a_page_that_says_so(tmp_path):
    write_dataset(tmp_path / "ds", ("ar", "fa"), [], [])
    assert main(["report", str(tmp_path / "ds"), "-o", str(tmp_path / "r.html")]) == 0
    assert "The dataset has no segments." in (tmp_path / "r.html").read_text("utf-8")


def test_missing_documents_config_is_an_error(latin_dir, tmp_path, capsys):
    copy = shutil.copytree(latin_dir, tmp_path / "ds")
    (copy / data_file("documents")).unlink()
    assert main(["report", str(copy), "-o", str(tmp_path / "r.html")]) == 2
    assert "documents: no documents/test-*.parquet shards" in capsys.readouterr().err


def test_not_a_segments_table_is_an_error(tmp_path, capsys):
    (tmp_path / "segments").mkdir()
    (tmp_path / "documents").mkdir()
    pq.write_table(pa.table({"x": [1]}), tmp_path / data_file("segments"))
    pq.write_table(pa.table({"x": [1]}), tmp_path / data_file("documents"))
    assert main(["report", str(tmp_path), "-o", str(tmp_path / "r.html")]) == 2
    assert "expected two languages" in capsys.readouterr().err


# -- in the browser -------------------------------------------------------------------------------

PROBE = r"""
<script>
(function () {
  const cs = (el) => getComputedStyle(el);
  const box = (el) => { const r = el.getBoundingClientRect(); return {left: r.left, top: r.top, width: r.width, height: r.height}; };
  const out = {};
  out.columns = [...document.querySelectorAll("th.col")].map((th) => ({lang: th.dataset.lang, dir: th.getAttribute("dir"),
    direction: cs(th).direction, align: cs(th).textAlign}));
  out.cells = {};
  for (const td of document.querySelectorAll("td.text")) {
    const c = out.cells[td.dataset.lang] || (out.cells[td.dataset.lang] = {n: 0, directions: [], aligns: [], langs: []});
    c.n += 1;
    for (const [k, v] of [["directions", cs(td).direction], ["aligns", cs(td).textAlign], ["langs", td.lang]])
      if (!c[k].includes(v)) c[k].push(v);
  }
  out.marks = {};
  for (const m of document.querySelectorAll("mark.diff")) {
    const k = out.marks[m.dataset.kind] || (out.marks[m.dataset.kind] = {n: 0, plain: 0, untitled: 0, colours: []});
    k.n += 1;
    const bg = cs(m).backgroundColor;
    if (bg === "rgba(0, 0, 0, 0)" || !cs(m).textDecorationLine.includes("underline")) k.plain += 1;
    if (!m.title) k.untitled += 1;
    if (!k.colours.includes(bg)) k.colours.push(bg);
  }
  out.gaps = [...document.querySelectorAll("td.gap")].map((td) => ({missing: td.dataset.missing,
    label: td.textContent.trim(), hatched: cs(td).backgroundImage.includes("gradient"), height: box(td).height}));
  const bp = [...document.querySelectorAll("tr.boilerplate")];
  const shown = () => bp.filter((tr) => cs(tr).display !== "none").length;
  out.boilerplate = {rows: bp.length, shown: shown()};
  const toggle = document.getElementById("show-boilerplate");
  toggle.click(); out.boilerplate.afterToggle = shown(); toggle.click();
  out.stories = [...document.querySelectorAll("section.story")].map((s) => {
    const row = s.querySelector("tr.seg[data-status=aligned]");
    const [x, y] = row.querySelectorAll("td.text");
    return {id: s.dataset.story, rows: s.querySelectorAll("tr.seg").length, first: box(x), second: box(y),
            summary: !!s.querySelector(".summary .card")};
  });
  out.resources = performance.getEntriesByType("resource").map((e) => e.name);
  out.elements = {img: document.images.length, scripts: document.scripts.length, links: document.querySelectorAll("link").length};
  out.overflowX = document.documentElement.scrollWidth - window.innerWidth;
  out.legend = [...document.querySelectorAll(".legend .swatch")].map((s) => s.textContent);
  const lines = (el) => ({dir: el.getAttribute("dir"), direction: cs(el).direction, align: cs(el).textAlign, lang: el.lang});
  out.coverage = [...document.querySelectorAll("section.coverage")].map((sec) => ({
    id: sec.id, story: sec.dataset.story, heading: sec.querySelector("h3").textContent,
    outletColumns: [...sec.querySelectorAll("th.cov-outlet-col")].map((th) => th.dataset.doc),
    claims: [...sec.querySelectorAll("tr.claim-row")].map((tr) => {
      const td = tr.querySelector("td.claim");
      return {id: tr.dataset.claim, text: td.textContent, ...lines(td), width: box(td).width,
        cells: Object.fromEntries([...tr.querySelectorAll("td.cov-cell")].map((c) => [c.dataset.doc, {
          state: c.dataset.state, factual: c.dataset.factual || "", kinds: c.dataset.kinds || "", title: c.title,
          mark: c.querySelector(".cov-mark").textContent, background: cs(c).backgroundColor}]))};
    }),
    outlets: [...sec.querySelectorAll(".cov-outlet")].map((o) => ({doc: o.dataset.doc,
      heading: o.querySelector("h4").textContent.trim(),
      only: [...o.querySelectorAll(".cov-only > li")].map((li) => ({id: li.dataset.id, text: li.textContent, ...lines(li)}))})),
  }));
  document.documentElement.setAttribute("data-probe", JSON.stringify(out));
  console.log("diptych-probe-ok");
})();
</script>
"""

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
                  "--host-resolver-rules=MAP * ~NOTFOUND",  # the page must need no network; make sure it gets none
                  "--enable-logging=stderr", "--v=0", "--window-size=1400,2000"]
CONSOLE = re.compile(r'CONSOLE[^\]]*\]\s*"?(.*)')


@pytest.fixture(scope="module")
def chromium() -> str:
    """The browser; missing it fails the tests (CI installs Debian's ``chromium``), it never skips them."""
    exe = os.environ.get("DIPTYCH_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        pytest.fail("headless Chromium is needed for the report tests: apt-get install -y chromium "
                    "(or set DIPTYCH_CHROMIUM to a Chrome/Chromium binary)")
    return exe


def run_chromium(exe: str, page: Path, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="diptych-chromium-") as profile:
        return subprocess.run([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, page.as_uri()],
                              capture_output=True, text=True, timeout=180)


def console_lines(stderr: str) -> list[str]:
    return [m.group(1) for m in map(CONSOLE.search, stderr.splitlines()) if m]


def render_in_browser(exe: str, page: Path, screenshot: Path) -> tuple[dict, list[str]]:
    """What Chromium computed for ``page`` (via the probe, on a copy), and the console of the page itself."""
    probed = page.with_name(page.stem + ".probe.html")
    probed.write_text(page.read_text("utf-8").replace("</body>", PROBE + "</body>"), "utf-8")
    dom = run_chromium(exe, probed, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    m = re.search(r'<html[^>]*\sdata-probe="([^"]*)"', dom.stdout)
    assert m, f"the probe did not run: {dom.stderr[-2000:]}"
    probe_console = console_lines(dom.stderr)
    assert any("diptych-probe-ok" in line for line in probe_console), "console capture is not working"
    shot = run_chromium(exe, page, f"--screenshot={screenshot}")
    assert shot.returncode == 0, shot.stderr[-2000:]
    console = [line for line in probe_console if "diptych-probe-ok" not in line] + console_lines(shot.stderr)
    return json.loads(html.unescape(m.group(1))), console


def assert_not_blank(png: Path) -> None:
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000, f"{png}: {len(data)} bytes"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width >= 1000 and height >= 1000
    idat, pos = b"", 8
    while pos < len(data):
        n, kind = int.from_bytes(data[pos:pos + 4], "big"), data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = len(raw) // height  # filter byte + pixels; a blank scanline is one repeated byte after filtering
    inked = sum(1 for y in range(height) if (row := raw[y * stride + 1:(y + 1) * stride])
                and len(row) - max(row.count(0), row.count(255)) > 30)
    assert inked > 0.2 * height, f"{png}: only {inked} of {height} scanlines have anything on them"


@pytest.fixture(scope="module")
def crocus_page(chromium, crocus_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("crocus-report") / "report.html"
    assert main(["report", str(crocus_dir), "-o", str(out)]) == 0
    probe, console = render_in_browser(chromium, out, out.with_suffix(".png"))
    return out, probe, console


def test_browser_rtl_pair_side_by_side(crocus_page):
    page, probe, console = crocus_page
    assert console == []
    assert [(c["lang"], c["dir"], c["direction"], c["align"]) for c in probe["columns"]] == [
        ("ar", "rtl", "rtl", "right"), ("fa", "rtl", "rtl", "right")]
    for lang in ("ar", "fa"):
        c = probe["cells"][lang]
        assert c["n"] > 15 and c["directions"] == ["rtl"] and c["aligns"] == ["right"] and c["langs"] == [lang]
    [story] = probe["stories"]
    left, right = story["first"], story["second"]
    assert abs(left["top"] - right["top"]) < 1 and left["left"] + left["width"] <= right["left"] + 1
    assert left["width"] > 450 and right["width"] > 450 and story["summary"]
    assert probe["overflowX"] <= 0


def test_browser_marks_one_sided_rows_and_boilerplate(crocus_page):
    page, probe, _ = crocus_page
    marks = probe["marks"]
    assert {k: v["n"] for k, v in marks.items()} == {"attribution": 4, "number": 2, "content": 2, "entity": 1,
                                                      "evaluative": 1, "hedge": 1}
    assert all(v["plain"] == 0 and v["untitled"] == 0 for v in marks.values())
    assert len({v["colours"][0] for v in marks.values()}) == 6  # one colour per kind
    missing = {(g["missing"], g["label"]) for g in probe["gaps"]}
    assert missing == {("fa", "only in Arabic"), ("ar", "only in Persian")}
    assert all(g["hatched"] and g["height"] > 20 for g in probe["gaps"])
    assert probe["boilerplate"]["rows"] > 10 and probe["boilerplate"]["shown"] == 0
    assert probe["boilerplate"]["afterToggle"] == probe["boilerplate"]["rows"]
    assert probe["legend"][:6] == ["number", "entity", "attribution", "hedge", "evaluative", "content"]
    assert probe["resources"] == [] and probe["elements"] == {"img": 0, "scripts": 1, "links": 0}  # 1: the probe
    assert_not_blank(page.with_suffix(".png"))


def test_browser_latin_pair(chromium, latin_dir, tmp_path):
    out = tmp_path / "latin.html"
    assert main(["report", str(latin_dir), "-o", str(out), "--show-boilerplate"]) == 0
    probe, console = render_in_browser(chromium, out, tmp_path / "latin.png")
    assert console == []  # the <img onerror> in the text stayed text
    assert [(c["lang"], c["direction"], c["align"]) for c in probe["columns"]] == 2 * [("de", "ltr", "left"),
                                                                                  ("fr", "ltr", "left")]
    assert probe["cells"]["de"]["directions"] == ["ltr"] and probe["cells"]["fr"]["directions"] == ["ltr"]
    assert [s["id"] for s in probe["stories"]] == ["ecb", "vote"]
    assert all(abs(s["first"]["top"] - s["second"]["top"]) < 1 for s in probe["stories"])
    assert probe["elements"]["img"] == 0 and probe["resources"] == []
    assert probe["boilerplate"] == {"rows": 2, "shown": 2, "afterToggle": 0}
    assert {g["label"] for g in probe["gaps"]} == {"only in German", "only in French"}
    assert {"number", "content", "attribution", "hedge", "evaluative", "mystery"} <= set(probe["marks"])
    assert_not_blank(tmp_path / "latin.png")


# -- the real build ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    if not (REPO / "corpus" / "dataset.py").exists():
        pytest.skip("corpus/dataset.py (the dataset build) is not in this checkout yet")
    out = tmp_path_factory.mktemp("build") / "out"
    assert main(["build", "-o", str(out), "--quiet"]) == 0
    return out


@pytest.fixture(scope="module")
def real_page(built, chromium, tmp_path_factory):
    """The report of the real build (three other outlets' coverage included), as Chromium renders it."""
    out = tmp_path_factory.mktemp("real-report") / "report.html"
    assert main(["report", str(built), "-o", str(out)]) == 0
    probe, console = render_in_browser(chromium, out, out.with_suffix(".png"))
    return out, probe, console


def test_report_of_the_real_build(built, real_page):
    out, probe, console = real_page
    assert console == []
    assert [(c["lang"], c["direction"]) for c in probe["columns"]] == [("ar", "rtl"), ("fa", "rtl")]
    assert probe["stories"] and all(s["summary"] for s in probe["stories"])
    data = load_dataset_rows(built)
    one_sided = sum(r["status"].endswith("_only") for r in data.segments)
    assert len(probe["gaps"]) == one_sided
    assert sum(v["n"] for v in probe["marks"].values()) >= sum(bool(r["differences"]) for r in data.segments)
    assert_not_blank(out.with_suffix(".png"))


def test_coverage_view_of_the_real_build(built, real_page):
    """Claims of the Arabic Reuters version (002, most linked) by outlet: وطن's 143 against 144 is a factual
    conflict, the unnamed outlet 001 carries the same claim with no number conflict, and what only سكاي نيوز
    عربية reports (the 11 arrested, Gaza) is listed under it, right to left."""
    out, probe, console = real_page
    assert console == []
    assert probe["resources"] == [] and probe["elements"] == {"img": 0, "scripts": 1, "links": 0}  # 1: the probe
    [cov] = probe["coverage"]
    assert cov["id"] == "coverage-crocus-2024" and cov["story"] == "crocus-2024"
    assert cov["outletColumns"] == ["000", "001", "003"]
    assert all(c["id"].startswith("002:") for c in cov["claims"])
    assert [int(c["id"].split(":")[1]) for c in cov["claims"]] == sorted(int(c["id"].split(":")[1])
                                                                         for c in cov["claims"])
    for c in cov["claims"]:
        assert (c["dir"], c["direction"], c["align"], c["lang"]) == ("rtl", "rtl", "right", "ar") and c["width"] > 300

    toll = next(c for c in cov["claims"] if "144 شخصا على الأقل" in c["text"])
    watan, other, sky = toll["cells"]["000"], toll["cells"]["001"], toll["cells"]["003"]
    assert watan["state"] == "conflict" and "number" in watan["factual"].split() and watan["mark"] == "≠"
    assert "143" in watan["title"] and "144" in watan["title"] and "number:" in watan["title"]
    assert other["state"] == "linked" and "number" not in other["factual"].split() and other["mark"] == "✓"
    assert "number:" not in other["title"] and "001:7" in other["title"]
    assert sky["state"] == "none" and not sky["title"]
    assert len({watan["background"], other["background"], sky["background"]}) == 3  # told apart at a glance

    outlets = {o["doc"]: o for o in cov["outlets"]}
    assert list(outlets) == ["000", "001", "003"]
    only = outlets["003"]
    assert only["heading"].startswith("Only ") and "سكاي نيوز عربية" in only["heading"]
    texts = [li["text"] for li in only["only"]]
    assert any("باعتقال 11 شخصا" in t for t in texts) and any("غزة" in t for t in texts)
    comparable = pq.read_table(built / data_file("comparable")).to_pylist()
    boilerplate = {r["ids"][0] for r in comparable if r["status"] == "boilerplate"}
    linked = {r["ids"][0] for r in comparable if r["status"] == "linked"}
    for o in cov["outlets"]:
        ids = [li["id"] for li in o["only"]]
        assert ids and not (set(ids) & (boilerplate | linked))
        assert [int(i.split(":")[1]) for i in ids] == sorted(int(i.split(":")[1]) for i in ids)  # document order
        assert all((li["dir"], li["direction"], li["align"], li["lang"]) == ("rtl", "rtl", "right", "ar")
                   for li in o["only"])
    assert "000:11" not in [li["id"] for li in outlets["000"]["only"]]  # its 143 sentence is linked
    arrests = next(li["text"] for li in only["only"] if "باعتقال 11 شخصا" in li["text"])
    assert "number 11" in arrests and "entity Vladimir Putin" in arrests  # with the typed items it carries


def test_an_older_dataset_without_comparable_still_renders(built, tmp_path):
    copy = shutil.copytree(built, tmp_path / "old")
    shutil.rmtree(copy / "comparable")
    out = tmp_path / "old.html"
    assert main(["report", str(copy), "-o", str(out)]) == 0
    page = out.read_text("utf-8")
    assert '<section class="story"' in page and 'class="coverage"' not in page and "How other outlets" not in page
    with_view = tmp_path / "new.html"
    assert main(["report", str(built), "-o", str(with_view)]) == 0
    assert 'id="coverage-crocus-2024"' in with_view.read_text("utf-8")
