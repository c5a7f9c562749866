"""Reading article files: the original text exactly as it is on disk, or a one-line error."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from .errors import CorpusError
from .languages import check_language, require_code


@dataclass(frozen=True)
class Document:
    """One language version of an article. ``text`` is the original, never edited."""

    id: str
    lang: str
    text: str
    path: str | None = None
    outlet: str | None = None
    story_id: str | None = None
    role: str | None = None
    meta: dict[str, str] = field(default_factory=dict)


def read_bytes(path: str | os.PathLike[str]) -> bytes:
    """A file's bytes, or a one-line :class:`CorpusError` for a missing, folder or unreadable path."""
    p = Path(path)
    if not p.exists():
        raise CorpusError(p, "no such file")
    if p.is_dir():
        raise CorpusError(p, "is a folder, not a text file")
    try:
        return p.read_bytes()
    except OSError as e:
        raise CorpusError(p, f"cannot be read ({e.strerror or e})") from None


def decode_utf8(path: str | os.PathLike[str], data: bytes, *, bom: bool = False) -> str:
    """Decode UTF-8 (dropping a byte-order mark when ``bom``), naming the first bad byte if it is not."""
    try:
        return data.decode("utf-8-sig" if bom else "utf-8")
    except UnicodeDecodeError as e:
        raise CorpusError(
            Path(path), f"not UTF-8 (byte 0x{data[e.start]:02x} at offset {e.start}); convert it, e.g. with iconv -t UTF-8"
        ) from None


def read_text(path: str | os.PathLike[str]) -> str:
    """The file's text as UTF-8, newlines untouched (offsets count code points of this string).

    Raises :class:`CorpusError` for a missing, unreadable, empty, binary or
    non-UTF-8 file.
    """
    p = Path(path)
    data = read_bytes(p)
    if not data.strip():
        raise CorpusError(p, "file is empty" if not data else "file contains only whitespace")
    nul = data.find(b"\x00")
    if nul >= 0:
        raise CorpusError(p, f"looks binary (NUL byte at offset {nul}), not a text file")
    text = decode_utf8(p, data)
    if not text.strip():
        raise CorpusError(p, "file contains only whitespace")
    return text


def read_document(
    path: str | os.PathLike[str],
    lang: str,
    *,
    doc_id: str | None = None,
    check_lang: bool = True,
    **meta: str | None,
) -> Document:
    """Read a file as a :class:`Document` in ``lang``, checking that the text is in that language."""
    require_code(lang, path)
    text = read_text(path)
    if check_lang:
        check_language(text, lang, path)
    return Document(
        id=doc_id or Path(path).stem,
        lang=lang,
        text=text,
        path=str(path),
        outlet=meta.pop("outlet", None),
        story_id=meta.pop("story_id", None),
        role=meta.pop("role", None),
        meta={k: v for k, v in meta.items() if v is not None},
    )
