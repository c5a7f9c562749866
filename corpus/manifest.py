"""Corpus folders: a ``manifest.toml`` that describes text files beside it.

A corpus is a folder holding article files and a manifest with ``[[stories]]``
and ``[[documents]]`` tables. Each document names its file, language, outlet,
story and role: ``parallel`` for the language versions of one report (aligned
pairwise), ``comparable`` for other coverage of the same event. Validation is
strict and speaks in one line per problem, naming the manifest and the entry.
"""

from __future__ import annotations

import hashlib
import os
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from itertools import combinations
from pathlib import Path

from .documents import Document, decode_utf8, read_bytes, read_document
from .errors import CorpusError
from .languages import code_problem

MANIFEST = "manifest.toml"
ROLES = ("parallel", "comparable")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_DOC_FIELDS = {"id": True, "file": True, "lang": True, "story": True, "role": True,
               "outlet": False, "sha256": False, "url": False, "title": False, "published": False, "note": False}
_STORY_FIELDS = {"id": True, "title": False, "description": False}


@dataclass(frozen=True)
class Story:
    id: str
    title: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class Entry:
    """A manifest's record of one document (before its text is read)."""

    id: str
    file: str
    lang: str
    story: str
    role: str
    outlet: str | None = None
    sha256: str | None = None
    url: str | None = None
    title: str | None = None
    published: str | None = None
    note: str | None = None


@dataclass
class Corpus:
    root: Path
    stories: list[Story]
    entries: list[Entry]
    documents: dict[str, Document] = field(default_factory=dict)
    skipped: list[tuple[Entry, str]] = field(default_factory=list)  # (entry, why), with skip_errors

    def story_documents(self, story_id: str) -> list[Document]:
        return [self.documents[e.id] for e in self.entries if e.story == story_id]

    def parallel_pairs(self) -> list[tuple[Document, Document]]:
        """Every pair of parallel documents within a story, in manifest order."""
        pairs = []
        for story in self.stories:
            par = [d for d in self.story_documents(story.id) if d.role == "parallel"]
            pairs.extend(combinations(par, 2))
        return pairs


def bundled_corpus_dir() -> Path:
    """The folder of the story that ships with diptych."""
    return Path(str(resources.files("corpus").joinpath("data")))


def _check_fields(where: str, table: object, spec: dict[str, bool], src: Path) -> dict:
    if not isinstance(table, dict):
        raise CorpusError(src, f"{where}: must be a table")
    unknown = sorted(set(table) - set(spec))
    if unknown:
        raise CorpusError(src, f"{where}: unknown field {unknown[0]!r} (known: {', '.join(spec)})")
    for name, required in spec.items():
        if required and name not in table:
            raise CorpusError(src, f"{where}: missing field {name!r}")
        if name in table and not isinstance(table[name], str):
            raise CorpusError(src, f"{where}: field {name!r} must be a string")
        if name in table and required and not table[name].strip():
            raise CorpusError(src, f"{where}: field {name!r} is empty")
    return table


def parse_manifest(path: Path) -> tuple[list[Story], list[Entry]]:
    """Read and validate a manifest (without reading the texts it lists)."""
    if not path.is_file():
        raise CorpusError(path, f"no {MANIFEST} here; a corpus folder needs one (see the README)")
    try:
        data = tomllib.loads(decode_utf8(path, read_bytes(path), bom=True))
    except tomllib.TOMLDecodeError as e:
        raise CorpusError(path, f"not valid TOML: {e}") from None
    extra = sorted(set(data) - {"stories", "documents"})
    if extra:
        raise CorpusError(path, f"unknown top-level key {extra[0]!r} (expected [[stories]] and [[documents]])")
    docs = data.get("documents")
    if not isinstance(docs, list) or not docs:
        raise CorpusError(path, "no [[documents]] entries")

    stories: list[Story] = []
    for i, t in enumerate(data.get("stories", []), 1):
        t = _check_fields(f"story {i}", t, _STORY_FIELDS, path)
        if not _ID.fullmatch(t["id"]):  # ids name files of the dataset (the TMX exports): no paths
            raise CorpusError(path, f"story {i}: id {t['id']!r} must be letters, digits, '_', '.' or '-'")
        if any(s.id == t["id"] for s in stories):
            raise CorpusError(path, f"story {i}: duplicate id {t['id']!r}")
        stories.append(Story(**t))
    declared = {s.id for s in stories}

    entries: list[Entry] = []
    for i, t in enumerate(docs, 1):
        where = f"document {i}" + (f" ({t['id']!r})" if isinstance(t, dict) and isinstance(t.get("id"), str) else "")
        t = _check_fields(where, t, _DOC_FIELDS, path)
        if not _ID.fullmatch(t["id"]):
            raise CorpusError(path, f"{where}: id must be letters, digits, '_', '.' or '-'")
        if any(e.id == t["id"] for e in entries):
            raise CorpusError(path, f"{where}: duplicate id")
        if problem := code_problem(t["lang"]):
            raise CorpusError(path, f"{where}: {problem}")
        if t["role"] not in ROLES:
            raise CorpusError(path, f"{where}: role {t['role']!r} must be one of {', '.join(ROLES)}")
        if not _ID.fullmatch(t["story"]):
            raise CorpusError(path, f"{where}: story {t['story']!r} must be letters, digits, '_', '.' or '-'")
        if declared and t["story"] not in declared:
            raise CorpusError(path, f"{where}: story {t['story']!r} is not declared in [[stories]]")
        if Path(t["file"]).is_absolute() or ".." in Path(t["file"]).parts:
            raise CorpusError(path, f"{where}: file must be a path inside the corpus folder")
        entries.append(Entry(**t))

    for s in {e.story for e in entries} - declared:
        stories.append(Story(id=s))  # stories may be left undeclared
    for story in stories:
        par = [e for e in entries if e.story == story.id and e.role == "parallel"]
        if len(par) == 1:
            raise CorpusError(path, f"story {story.id!r}: only one parallel document ({par[0].id!r}); a parallel pair needs two")
        langs = [e.lang for e in par]
        if len(set(langs)) != len(langs):
            raise CorpusError(path, f"story {story.id!r}: two parallel documents share the language {langs[0]!r}")
    return stories, entries


def entry_for_file(path: str | os.PathLike[str]) -> Entry | None:
    """The manifest entry that lists ``path``, if a valid manifest beside it does."""
    path = Path(path).resolve()
    manifest = path.parent / MANIFEST
    if not manifest.is_file():
        return None
    try:
        _, entries = parse_manifest(manifest)
    except CorpusError:
        return None
    return next((e for e in entries if (path.parent / e.file).resolve() == path), None)


def load_corpus(root: str | os.PathLike[str] | None = None, *, check_lang: bool = True,
                skip_errors: bool = False) -> Corpus:
    """Validate a corpus folder and read every document (the bundled one by default).

    A bad document is a :class:`CorpusError` naming it; with ``skip_errors`` it is
    left out instead and listed in ``corpus.skipped`` with its error, and so is
    the other parallel version of its story (a pair cannot be aligned with one
    version). The manifest itself must be valid either way.
    """
    root = Path(root) if root is not None else bundled_corpus_dir()
    if not root.is_dir():
        raise CorpusError(root, "no such corpus folder")
    manifest = root / MANIFEST
    stories, entries = parse_manifest(manifest)
    corpus = Corpus(root, stories, entries)
    for e in entries:
        try:
            corpus.documents[e.id] = _read_entry(root, manifest, e, check_lang)
        except CorpusError as err:
            if not skip_errors:
                raise
            corpus.skipped.append((e, str(err)))
    if corpus.skipped:
        bad = {e.id for e, _ in corpus.skipped}
        for e, _ in list(corpus.skipped):
            if e.role == "parallel":
                for other in entries:
                    if other.story == e.story and other.role == "parallel" and other.id not in bad:
                        bad.add(other.id)
                        corpus.skipped.append((other, f"skipped with {e.id}, the other parallel version of "
                                                      f"story {e.story!r}, which could not be read"))
        corpus.entries = [e for e in entries if e.id not in bad]
        corpus.documents = {k: v for k, v in corpus.documents.items() if k not in bad}
    return corpus


def _read_entry(root: Path, manifest: Path, e: Entry, check_lang: bool) -> Document:
    path = root / e.file
    if not path.exists() and not path.is_symlink():  # a dangling link or a loop: read_bytes says which
        raise CorpusError(manifest, f"document {e.id!r}: file {e.file!r} not found in {root}")
    if e.sha256 and hashlib.sha256(read_bytes(path)).hexdigest() != e.sha256.lower():
        raise CorpusError(path, f"text differs from the sha256 in {MANIFEST} (document {e.id!r}); the original text must not be edited")
    return read_document(
        path, e.lang, doc_id=e.id, check_lang=check_lang, outlet=e.outlet, story_id=e.story, role=e.role,
        url=e.url, title=e.title, published=e.published, note=e.note, file=e.file,
    )
