"""The published dataset's three configs and their column types, in one place.

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
* One split per config, ``test``: the data is a small evaluation set.
"""

from __future__ import annotations

from collections.abc import Sequence

import pyarrow as pa

SPLIT = "test"
CONFIGS = ("pairs", "segments", "documents")
JOIN = " "
STATUSES = ("aligned", "boilerplate")  # plus "<code>_only" for each language

DIFFERENCE = pa.struct([
    ("lang", pa.string()),
    ("start", pa.int32()),
    ("end", pa.int32()),
    ("text", pa.string()),
    ("kind", pa.string()),
    ("note", pa.string()),
])
DIFFERENCE_KINDS = ("number", "entity", "attribution", "hedge", "evaluative", "content")

SENTENCE = pa.struct([
    ("id", pa.string()),
    ("start", pa.int32()),
    ("end", pa.int32()),
    ("paragraph", pa.int32()),
    ("label", pa.string()),
    ("reason", pa.string()),
])


def pairs_schema(langs: Sequence[str]) -> pa.Schema:
    a, b = sorted(langs)
    return pa.schema([
        ("id", pa.string()),
        ("story_id", pa.string()),
        ("translation", pa.struct([(a, pa.string()), (b, pa.string())])),
        ("alignment_type", pa.string()),
        ("score", pa.float64()),
        (f"{a}_ids", pa.list_(pa.string())),
        (f"{b}_ids", pa.list_(pa.string())),
        ("differences", pa.list_(DIFFERENCE)),
    ])


def segments_schema(langs: Sequence[str]) -> pa.Schema:
    a, b = sorted(langs)
    return pa.schema([
        ("id", pa.string()),
        ("story_id", pa.string()),
        (a, pa.string()),
        (b, pa.string()),
        (f"{a}_ids", pa.list_(pa.string())),
        (f"{b}_ids", pa.list_(pa.string())),
        ("status", pa.string()),
        ("alignment_type", pa.string()),
        ("score", pa.float64()),
        ("differences", pa.list_(DIFFERENCE)),
    ])


DOCUMENTS = pa.schema([
    ("id", pa.string()),
    ("story_id", pa.string()),
    ("lang", pa.string()),
    ("outlet", pa.string()),
    ("role", pa.string()),
    ("file", pa.string()),
    ("sha256", pa.string()),
    ("note", pa.string()),
    ("text", pa.string()),
    ("sentences", pa.list_(SENTENCE)),
])


def data_file(config: str) -> str:
    """Path of a config's parquet file inside the dataset folder."""
    return f"{config}/{SPLIT}.parquet"
