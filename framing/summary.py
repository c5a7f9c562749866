"""A story's framing summary: what each version adds and omits, and what only it names.

Built from the ``segments`` rows of one story (after :func:`framing.differences.annotate`);
it goes into the dataset card and the top of the HTML report.

* Passages: runs of consecutive one-sided segments (boilerplate between them
  does not break a run), and long stretches inside an aligned segment that the
  other version lacks (an aligned bead can carry a whole extra sentence when
  the aligner merges it with its neighbour).
* ``only``: the entities, sources and figures one version mentions anywhere in
  the story and the other never does (the lexicons of :mod:`framing.lexicon`).
* Highlighted share: the share of each version's aligned text inside
  highlighted spans, the measure of how selective the highlighting is.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from .lexicon import load_concepts, load_lexicon

PASSAGE_WORDS = 12  # a stretch of differences this long inside an aligned segment is a passage
_GAP_WORDS = 2  # differences at most this many words apart count as one stretch
_WORD = re.compile(r"\w+")


@dataclass
class Passage:
    """Material one version has and the other lacks: whole one-sided segments, or a stretch inside one."""

    lang: str
    segment_ids: list[str]
    text: str
    start: int | None = None  # offsets into the segment's text when the passage lies inside an aligned segment
    end: int | None = None

    @property
    def within(self) -> bool:
        return self.start is not None


@dataclass
class StorySummary:
    story_id: str
    langs: tuple[str, str]
    passages: dict[str, list[Passage]] = field(default_factory=dict)  # lang -> its one-sided passages
    only: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # lang -> kind -> items only it has
    highlighted_share: dict[str, float] = field(default_factory=dict)  # lang -> share of aligned chars highlighted
    kinds: dict[str, dict[str, int]] = field(default_factory=dict)  # lang -> difference kind -> count

    def to_markdown(self) -> str:
        lines = []  # the dataset card puts the story's heading above these lines
        share = ", ".join(f"`{lang}` {self.highlighted_share.get(lang, 0.0):.1%}" for lang in self.langs)
        lines.append(f"- Highlighted share of aligned text: {share}")
        for lang in self.langs:
            ps = self.passages.get(lang, [])
            whole = [p for p in ps if not p.within]
            inner = [p for p in ps if p.within]
            n_seg = sum(len(p.segment_ids) for p in whole)
            lines.append(f"- Only in `{lang}`: {_n(len(whole), 'passage')} ({_n(n_seg, 'segment')})"
                         + (f", and {_n(len(inner), 'long stretch', 'long stretches')} inside aligned segments"
                            if inner else ""))
            for p in ps:
                snippet = p.text if len(p.text) <= 90 else p.text[:87].rstrip() + "…"
                where = f"inside {p.segment_ids[0]}" if p.within else ", ".join(p.segment_ids)
                lines.append(f"  - {snippet} ({where})")
            named = self.only.get(lang, {})
            for kind, title in (("entity", "names"), ("source", "sources"), ("number", "figures")):
                if named.get(kind):
                    lines.append(f"  - {title} the other version lacks: {', '.join(named[kind])}")
            counts = self.kinds.get(lang, {})
            if counts:
                lines.append("  - differences by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {"story_id": self.story_id, "langs": list(self.langs),
                "passages": {k: [{**vars(p), "within": p.within} for p in v] for k, v in self.passages.items()},
                "only": self.only, "highlighted_share": self.highlighted_share, "kinds": self.kinds}


def _n(k: int, one: str, many: str | None = None) -> str:
    return f"{k} {one if k == 1 else many or one + 's'}"


def _stretches(row: dict, lang: str) -> list[tuple[int, int]]:
    """Differences of one side merged across gaps of at most a couple of words."""
    text = row[lang]
    spans = sorted((d["start"], d["end"]) for d in row.get("differences") or [] if d["lang"] == lang)
    out: list[tuple[int, int]] = []
    for s, e in spans:
        if out and len(_WORD.findall(text[out[-1][1]:s])) <= _GAP_WORDS:
            out[-1] = (out[-1][0], max(out[-1][1], e))
        else:
            out.append((s, e))
    return out


def _passages(rows: list[dict], lang: str) -> list[Passage]:
    out: list[Passage] = []
    prev = None
    for r in rows:
        status = r["status"]
        if status == f"{lang}_only":
            if out and prev == status and not out[-1].within:
                out[-1].segment_ids.append(r["id"])
                out[-1].text += " " + r[lang]
            else:
                out.append(Passage(lang, [r["id"]], r[lang]))
        elif status == "aligned":
            for s, e in _stretches(r, lang):
                if len(_WORD.findall(r[lang][s:e])) >= PASSAGE_WORDS:
                    out.append(Passage(lang, [r["id"]], r[lang][s:e], s, e))
        if status != "boilerplate":
            prev = status
    return out


def _share(rows: list[dict], lang: str) -> float:
    total = marked = 0
    for r in rows:
        if r["status"] != "aligned":
            continue
        total += len(r[lang])
        covered: set[int] = set()
        for d in r.get("differences") or []:
            if d["lang"] == lang:
                covered.update(range(d["start"], d["end"]))
        marked += len(covered)
    return marked / total if total else 0.0


def _only(rows: list[dict], langs: tuple[str, str]) -> dict[str, dict[str, list[str]]]:
    """Entities, sources and figures each version mentions and the other never does."""
    concepts = load_concepts()
    seen: dict[str, dict[str, dict[str, str]]] = {}  # lang -> kind -> concept -> first surface form
    present: dict[str, set[str]] = {}  # lang -> canonical names and figures, ambiguous mentions included
    within: dict[str, set[str]] = {}  # lang -> what its names are part of
    for lang in langs:
        lex = load_lexicon(lang)
        seen[lang] = {"entity": {}, "source": {}, "number": {}}
        present[lang], within[lang] = set(), set()
        for r in rows:
            text = r.get(lang) or ""
            if r["status"] == "boilerplate" or not text:
                continue
            for it in lex.items(text, lex.words(text)):
                if it.kind not in seen[lang]:
                    continue
                key = it.concept if it.kind == "number" else concepts.canonical(it.concept)
                present[lang].add(key)
                if it.kind != "number":
                    within[lang] |= concepts.ancestors(it.concept)
                if not it.ambiguous:
                    seen[lang][it.kind].setdefault(it.concept, text[it.start:it.end])
    out: dict[str, dict[str, list[str]]] = {}
    for lang in langs:
        other = langs[1] if lang == langs[0] else langs[0]
        out[lang] = {}
        for kind, items in seen[lang].items():
            keep = []
            for concept, surface in items.items():
                key = concept if kind == "number" else concepts.canonical(concept)
                if key in present[other] or key in within[other]:
                    continue
                keep.append(concept if kind == "number" else f"{concept} ({surface})")
            out[lang][kind] = keep
    return out


def summarise(rows: list[dict], langs: Sequence[str]) -> StorySummary:
    """Summarise one story's segments rows (in order, differences filled in)."""
    a, b = sorted(langs)
    s = StorySummary(rows[0]["story_id"] if rows else "", (a, b))
    for lang in (a, b):
        s.passages[lang] = _passages(rows, lang)
        s.highlighted_share[lang] = round(_share(rows, lang), 4)
        s.kinds[lang] = dict(Counter(d["kind"] for r in rows for d in r.get("differences") or [] if d["lang"] == lang))
    s.only = _only(rows, (a, b))
    return s
