"""The dataset card (README.md of the dataset folder): Hub metadata and a body a researcher can trust.

Deterministic: no dates or host details, so a rebuild is byte-identical.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from . import __version__
from .languages import english_name
from .schema import CONFIGS, SPLIT
from .shards import data_pattern

def size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
                        (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M")):
        if n < limit:
            return name
    return "n>10M"


def _yaml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)  # a JSON string is a valid YAML scalar


def _cell(s: object) -> str:
    return str(s).replace("|", "\\|").replace("\n", " ")


def build_signature(settings, encoder=None, translator=None) -> str:
    """Every setting that changes the data, in one line (like sacrebleu's signatures)."""
    from importlib.metadata import version  # not the packages themselves: importing datasets takes
                                            # 1.5 s, before the build's workers could start

    cfg = settings.align_config().as_dict()
    sim = cfg.pop("similarity")
    parts = [f"diptych:{__version__}", f"encoder:{encoder.signature if encoder else settings.encoder}",
             f"translator:{translator.signature if translator else (settings.translator or 'none')}"]
    parts += [f"{k}:{v}" for k, v in cfg.items()] + [f"sim.{k}:{v}" for k, v in sim.items()]
    parts += [f"links.{k}:{v}" for k, v in settings.link_config().as_dict().items()]
    parts += [f"datasets:{version('datasets')}", f"pyarrow:{version('pyarrow')}"]
    return "|".join(parts)


def _no_links() -> dict:
    return {"linked": 0, "unlinked": 0, "links": 0, "conflicts": {}}


def comparable_tally(rows: Sequence[dict]) -> dict[str, dict]:
    """Per comparable document, what the card's table shows: sentences, linked, unlinked, links and
    conflicts by kind. Taken story by story, so the build need not keep the rows."""
    out: dict[str, dict] = {}
    linked: dict[str, set] = {}
    for r in rows:
        t = out.setdefault(r["doc_id"], _no_links())
        if r["status"] == "linked":
            t["links"] += 1
            linked.setdefault(r["doc_id"], set()).add(r["ids"][0])
            for c in r["conflicts"]:
                t["conflicts"][c["kind"]] = t["conflicts"].get(c["kind"], 0) + 1
        elif r["status"] == "unlinked":
            t["unlinked"] += 1
    for doc, ids in linked.items():
        out[doc]["linked"] = len(ids)
    return out


def _comparable_section(corpus, tally: dict[str, dict], threshold: float) -> list[str]:
    """How the other outlets' sentences link to the parallel versions: the rule and the counts."""
    docs = [e for e in corpus.entries if e.role == "comparable"]
    if not docs:
        return []
    out = [
        "## Other outlets' coverage (`comparable`)",
        "",
        "Each sentence of a `comparable` document is linked to the sentence of each parallel version that "
        "reports the same fact, when the two are each other's best match and their ratio margin (cosine over "
        "the mean cosine of both sentences' nearest neighbours, Artetxe & Schwenk 2019) reaches the threshold "
        f"in the build settings ({threshold} here; the default is the lowest margin that keeps links 95% "
        "precise on gold-aligned development sets cut into story-sized pieces; see the diptych README). "
        "A sentence linked to one parallel version and to nothing in the other is also linked to the sentence "
        "of the other version aligned with its link (`via_ids`), when its ratio margin there is at least 1. "
        "A linked sentence gets one row per link, with `conflicts`: figures that disagree (with the words they "
        "count; a bound the other figure meets is noted as vaguer, not a conflict), dates, names and sources, "
        "attribution verbs, hedges and loaded words on one side only. `differences` are what the linked sentence "
        "says that the reference does not, with offsets into `text`: its typed items the reference lacks, and "
        "`content` spans from the token-level scorer that marks the `pairs` differences (words whose best "
        "counterpart in the reference is weak; names, figures and shared words never start one).",
        "",
        "Columns: `id`, `story_id`, `doc_id` (the comparable document), `lang`, `text` (one sentence, original "
        "characters), `ids` (its sentence id, resolvable in `documents`), `status` (`linked`, `unlinked`, "
        "`boilerplate`), `ref_doc_id`, `ref_lang`, `ref_text`, `ref_ids` (the parallel version's sentence; null "
        "unless linked), `via_ids` (for a link carried through the alignment of the two parallel versions, the "
        "other version's sentence it was carried from; null otherwise), `score` (the link's ratio margin; null "
        "unless linked), `conflicts` "
        "(`{kind, text, ref_text, note}`, kind one of number, date, entity, attribution, hedge, evaluative), "
        "`differences` (`{lang, start, end, text, kind, note}`).",
        "",
        "| document | outlet | language | sentences | linked | unlinked | links | conflicts by kind |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for e in docs:
        t = tally.get(e.id) or _no_links()
        conflicts = ", ".join(f"{k} {v}" for k, v in sorted(t["conflicts"].items())) or "none"
        out.append(f"| {e.id} | {_cell(e.outlet or 'unknown')} | {e.lang} | {t['linked'] + t['unlinked']} | "
                   f"{t['linked']} | {t['unlinked']} | {t['links']} | {conflicts} |")
    return out + [""]


def dataset_card(corpus, sentences: dict[str, int], summaries: Sequence[tuple[str, str]], settings, report, *,
                 encoder=None, translator=None, comparable: dict[str, dict] | None = None) -> str:
    """The card, from what the build tallied story by story: alignable ``sentences`` per document,
    each story's framing summary as ``(story id, markdown)``, and :func:`comparable_tally` per
    comparable document."""
    langs = report.langs or ()
    titles = [s.title or s.id for s in corpus.stories]
    pretty = "diptych: " + "; ".join(titles) if titles else "diptych corpus"
    lines = ["---", "language:"] + [f"- {lang}" for lang in sorted({e.lang for e in corpus.entries})]
    lines += [
        "license: other",
        "license_name: news-articles-research-use",
        "license_details: >-",
        "  The article texts belong to their publishers (see the Sources table). They are",
        "  redistributed unchanged, for non-commercial research on translation and framing.",
        "task_categories:",
        "- translation",
        "multilinguality:",
        "- translation",
        "size_categories:",
        f"- {size_category(report.counts.get('segments', 0))}",
        f"pretty_name: {_yaml_str(pretty)}",
        "tags:",
        "- parallel-corpus",
        "- sentence-alignment",
        "- news",
        "- framing",
        "configs:",
    ]
    # a config with no rows is left out: load_dataset cannot read an empty split (its shard stays for
    # diptych's own readers, which take it as empty)
    listed = [c for c in CONFIGS if report.counts.get(c, 0)]
    for config in listed:
        lines.append(f"- config_name: {config}")
        if config == listed[0]:
            lines.append("  default: true")
        lines += ["  data_files:", f"  - split: {SPLIT}", f"    path: {data_pattern(config)}"]
    lines.append("---")

    pair_name = " and ".join(english_name(x) for x in langs)
    body = [
        f"# {pretty}",
        "",
        f"Sentence-aligned {pair_name} versions of the same news reports, built with "
        f"diptych {__version__}. Each story is one report "
        "published in two languages; the dataset pairs their sentences, keeps the sentences that only one "
        "version has, and marks where the two versions word the story differently.",
        "",
        "## Configs",
        "",
        "| config | rows | one row per |",
        "| --- | --- | --- |",
        f"| `pairs`{' (default)' if 'pairs' in listed else ''} | {report.counts.get('pairs', 0)} | aligned bead (1-1, 1-2, 2-1, 2-2 ...), both sides "
        "in a `translation` column keyed by language code, as OPUS and WMT datasets on the Hub |",
        f"| `segments` | {report.counts.get('segments', 0)} | every sentence of both documents in exactly one row: "
        "aligned beads, one-sided sentences (`<code>_only`) and page furniture (`boilerplate`) |",
        f"| `documents` | {report.counts.get('documents', 0)} | document, with its metadata, full original text "
        "and the character offsets of every sentence |",
        f"| `comparable` | {report.counts.get('comparable', 0)} | link of a sentence of another outlet's coverage "
        "to a parallel version's sentence reporting the same fact, with its conflicts; or a sentence that links "
        "to nothing (`unlinked`), or page furniture (`boilerplate`) |",
        "",
    ]
    empty = [c for c in CONFIGS if c not in listed]
    if empty:
        body += [f"{' and '.join(f'`{c}`' for c in empty)} {'has' if len(empty) == 1 else 'have'} no rows here, so "
                 f"{'it is' if len(empty) == 1 else 'they are'} not listed in the card's `configs`: `load_dataset` "
                 "cannot load an empty split.", ""]
    body += [
        f"Each config has one split, `{SPLIT}`: the data is a small evaluation set of news, not training data. "
        f"Its rows are stored as parquet shards (`<config>/{SPLIT}-00000-of-0000N.parquet`, in row order), which "
        "`load_dataset` reads as one split.",
        "",
        "Conventions: language codes are sorted (`alignment_type` `2-1` counts "
        + (f"{langs[0]} then {langs[1]}" if langs else "the first code then the second")
        + "); a sentence id is `<document id>:<unit id>`, resolvable in `documents.sentences` to offsets into "
        "the original text; a row's text is its sentences joined by one space, and `differences` are "
        "`{lang, start, end, text, kind, note}` with offsets into that text. `score` is the aligner's bead "
        "score (null where one-sided). The `pairs` and `segments` rows share ids.",
        "",
        "## Row counts",
        "",
        "| status | rows |",
        "| --- | --- |",
    ]
    body += [f"| `{k}` | {v} |" for k, v in sorted(report.status.items())]
    body += ["", "## Sources", "", "| id | story | language | outlet | role | file | sha256 |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for e in corpus.entries:
        n = sentences.get(e.id, 0)
        body.append(f"| {e.id} | {e.story} | {e.lang} | {_cell(e.outlet or 'unknown')} | {e.role} | "
                    f"`{e.file}` ({n} sentences) | `{(e.sha256 or '')[:16]}…` |")
    body += ["", "`parallel` documents are two language versions of one report and are aligned; "
             "`comparable` ones cover the same event and are linked to them claim by claim (`comparable`).", ""]
    for s in corpus.stories:
        body += [f"**{_cell(s.id)}**: {' '.join((s.description or s.title or '').split())}", ""]

    if corpus.skipped:
        body += ["## Skipped documents", "",
                 "Built with `--on-error skip`: these documents could not be used and are left out "
                 "(also in `skipped.jsonl`).", "", "| id | story | role | file | why |", "| --- | --- | --- | --- | --- |"]
        body += [f"| {e.id} | {_cell(e.story)} | {e.role} | `{_cell(e.file)}` | {_cell(why)} |"
                 for e, why in corpus.skipped]
        body.append("")
    body += _comparable_section(corpus, comparable or {}, settings.link_config().threshold)
    body += ["## Framing differences", ""]
    if not summaries:
        body += ["No parallel pair in this corpus.", ""]
    for story_id, markdown in summaries:
        body += [f"### {story_id}", "", markdown.rstrip(), ""]

    body += [
        "## How it was built",
        "",
        "Documents were segmented into sentences (hazm for Persian, rules with Moses' non-breaking prefixes "
        "otherwise), page furniture was labelled as boilerplate with its reason, and the alignable sentences "
        "of each parallel pair were aligned with multilingual sentence embeddings"
        + (" and machine translation" if settings.translator else "") + ". Every setting:",
        "",
        "```",
        build_signature(settings, encoder, translator).replace("|", "\n"),
        "```",
        "",
        "Rebuild it with `diptych build CORPUS_DIR -o OUT_DIR` and the same settings; the parquet files come "
        "out byte-identical.",
        "",
        "## Load it",
        "",
        "```python",
        "from datasets import load_dataset",
        "",
        *(f'{c} = load_dataset("path/to/this/folder", "{c}", split="{SPLIT}")'
          for c in ("pairs", "segments", "comparable") if c in listed),
        "```",
        "",
        "`exports/` holds the `pairs` rows as TMX 1.4 (one file per story), Moses plain text (`pairs.<code>`, "
        "line-parallel) and JSON Lines in the `{\"translation\": {...}}` form that transformers' "
        "`run_translation.py` reads. Line *i* of every export is `pairs` row *i*.",
        "",
        "## Cite",
        "",
        "Cite the original reports (see Sources) and the tool:",
        "",
        "```bibtex",
        "@software{diptych,",
        "  title = {diptych: aligned bilingual news stories and their framing differences},",
        f"  version = {{{__version__}}},",
        "}",
        "```",
        "",
    ]
    return "\n".join(lines) + "\n\n" + "\n".join(body)


__all__: Sequence[str] = ["build_signature", "comparable_tally", "dataset_card", "size_category"]
