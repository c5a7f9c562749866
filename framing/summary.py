"""A story's framing summary: what each version adds and omits, and what only it names.

Built from the ``segments`` rows of one story (after :func:`framing.differences.annotate`);
it goes into the dataset card and the top of the HTML report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class Passage:
    """Consecutive one-sided segments: material one version has and the other lacks."""

    lang: str
    segment_ids: list[str]
    text: str


@dataclass
class StorySummary:
    story_id: str
    langs: tuple[str, str]
    passages: dict[str, list[Passage]] = field(default_factory=dict)  # lang -> its one-sided passages
    only: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # lang -> kind -> items only it has
    highlighted_share: dict[str, float] = field(default_factory=dict)  # lang -> share of aligned chars highlighted

    def to_markdown(self) -> str:
        lines = []
        for lang in self.langs:
            ps = self.passages.get(lang, [])
            lines.append(f"- `{lang}` only: {len(ps)} passages, "
                         f"{sum(len(p.segment_ids) for p in ps)} segments")
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict:
        return {"story_id": self.story_id, "langs": list(self.langs),
                "passages": {k: [vars(p) for p in v] for k, v in self.passages.items()},
                "only": self.only, "highlighted_share": self.highlighted_share}


def summarise(rows: list[dict], langs: Sequence[str]) -> StorySummary:
    """Summarise one story's segments rows (in order). Placeholder: passages only."""
    a, b = sorted(langs)
    s = StorySummary(rows[0]["story_id"] if rows else "", (a, b))
    for lang in (a, b):
        out: list[Passage] = []
        for r in rows:
            if r["status"] == f"{lang}_only":
                if out and out[-1].segment_ids and prev == f"{lang}_only":
                    out[-1].segment_ids.append(r["id"])
                    out[-1].text += " " + r[lang]
                else:
                    out.append(Passage(lang, [r["id"]], r[lang]))
            if r["status"] != "boilerplate":
                prev = r["status"]
        s.passages[lang] = out
    return s
