"""The published dataset's four configs and their column types, in one place.

The build writes these, and the framing report, the MT evaluation and the tests
read them; keeping the types here means a column is changed once.

Conventions (also in the dataset card):

* Language codes are ISO 639-1, in sorted order (``ar``, ``fa``): the order of
  the ``translation`` struct, of ``alignment_type`` counts (``2-1`` is two
  Arabic sentences to one Persian one) and of the per-language columns.
* A sentence id is ``"<document id>:<unit id>"`` (e.g. ``"002:5"``); the
  ``documents`` config lists every unit of every document with its character
  offsets into the document's original text.
* A row's text in one language is its sentences' original texts joined by one
  space (:data:`JOIN`). ``differences`` offsets index that text.
* ``segments`` ids run in story and document order; a ``pairs`` row carries the
  id of the ``segments`` row it comes from, so the two configs join on ``id``.
* ``comparable`` has one row per link of a sentence of a comparable document
  (another outlet's coverage) to a sentence of a parallel version, one row with
  null ``ref_*`` columns per sentence that links to nothing, and one per
  boilerplate unit; ``conflicts`` are ``{kind, text, ref_text, note}``.
* One split per config, ``test``: the data is a small evaluation set.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

SPLIT = "test"
CONFIGS = ("pairs", "segments", "documents", "comparable")
JOIN = " "
STATUSES = ("aligned", "boilerplate")  # plus "<code>_only" for each language

def _string():
    from datasets import Value

    return Value("string")


def _difference() -> dict:
    from datasets import Value

    return {"lang": _string(), "start": Value("int32"), "end": Value("int32"),
            "text": _string(), "kind": _string(), "note": _string()}


DIFFERENCE_KINDS = ("number", "entity", "attribution", "hedge", "evaluative", "content")
CONFLICT_KINDS = ("number", "date", "entity", "attribution", "hedge", "evaluative")
COMPARABLE_STATUSES = ("linked", "unlinked", "boilerplate")


def _conflict() -> dict:
    s = _string()
    return {"kind": s, "text": s, "ref_text": s, "note": s}


def features(config: str, langs: Sequence[str] = ("ar", "fa")):
    """The ``datasets.Features`` of one config: the single source of the column types.

    Written into each parquet file's metadata, so ``load_dataset`` gives
    ``translation`` the ``Translation`` feature that transformers' examples read.
    """
    from datasets import Features, Translation, Value

    a, b = sorted(langs)
    s = _string()
    if config == "pairs":
        return Features({
            "id": s, "story_id": s,
            "translation": Translation(languages=[a, b]),
            "alignment_type": s, "score": Value("float64"),
            f"{a}_ids": [s], f"{b}_ids": [s],
            "differences": [_difference()],
        })
    if config == "segments":
        return Features({
            "id": s, "story_id": s, a: s, b: s,
            f"{a}_ids": [s], f"{b}_ids": [s],
            "status": s, "alignment_type": s, "score": Value("float64"),
            "differences": [_difference()],
        })
    if config == "documents":
        return Features({
            "id": s, "story_id": s, "lang": s, "outlet": s, "role": s, "file": s, "sha256": s,
            "note": s, "text": s,
            "sentences": [{"id": s, "start": Value("int32"), "end": Value("int32"),
                           "paragraph": Value("int32"), "label": s, "reason": s}],
        })
    if config == "comparable":
        return Features({
            "id": s, "story_id": s, "doc_id": s, "lang": s, "text": s, "ids": [s],
            "status": s, "ref_doc_id": s, "ref_lang": s, "ref_text": s, "ref_ids": [s], "via_ids": [s],
            "score": Value("float64"), "conflicts": [_conflict()], "differences": [_difference()],
        })
    raise ValueError(f"unknown config {config!r}; expected one of {CONFIGS}")


def arrow_schema(config: str, langs: Sequence[str] = ("ar", "fa")) -> pa.Schema:
    return features(config, langs).arrow_schema


def pairs_schema(langs: Sequence[str]) -> pa.Schema:
    return arrow_schema("pairs", langs)


def segments_schema(langs: Sequence[str]) -> pa.Schema:
    return arrow_schema("segments", langs)


def documents_schema() -> pa.Schema:
    return arrow_schema("documents")
