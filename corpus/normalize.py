"""A folded *matching view* of text, with offsets back into the original.

Persian and Arabic spell the same word with different code points (ي/ی/ى,
ك/ک, ة/ه, hamza seats), scraped Persian often lacks its ZWNJs, and digits come
in three alphabets. Matching (language checks, boilerplate rules, anchors in
the aligner) needs one spelling; the published data needs the original. So the
original is never changed: :func:`fold` returns a new string together with,
for every character of the view, the offset of the original character it came
from.

Folding is character by character, which keeps the offset map exact:
NFKC (presentation forms, ligatures), hazm's Persian character unification
table for Arabic-script letters, then the shared table below, then casefold.
The same table is used whatever the declared language, so a Persian and an
Arabic word that differ only by letter variants fold to the same string.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Shared fold table (applied after hazm's table); canonical forms are the
# Persian letters, which is also what hazm produces.
_TABLE: dict[str, str] = {
    "ي": "ی", "ى": "ی", "ئ": "ی", "ے": "ی",
    "ك": "ک",
    "ة": "ه", "ۀ": "ه", "ە": "ه", "ۂ": "ه",
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ٲ": "ا", "ٳ": "ا",
    "ؤ": "و",
    "ء": "",
    "ـ": "",  # tatweel
    "٫": ".", "٬": ",", "،": ",", "؛": ";", "؟": "?",
    "«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‟": '"',
    "‘": "'", "’": "'", "‚": "'",
}
# Arabic-Indic and extended (Persian) digits to ASCII.
_TABLE.update({chr(0x0660 + i): str(i) for i in range(10)})
_TABLE.update({chr(0x06F0 + i): str(i) for i in range(10)})
# Characters with no place in a matching view: harakat, superscript alef,
# Quranic marks, joiners and bidi controls.
_DROP = set(chr(c) for c in range(0x064B, 0x0660)) | {"\u0670"}
_DROP |= set(chr(c) for c in range(0x06D6, 0x06EE))
_DROP |= {"\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u061c", "\ufeff"}
_DROP |= set(chr(c) for c in range(0x202A, 0x202F)) | set(chr(c) for c in range(0x2066, 0x206A))


@lru_cache(maxsize=1)
def _hazm_table() -> dict[str, str]:
    """hazm's character unification table (variant and presentation forms)."""
    from hazm import Normalizer

    norm = Normalizer(correct_spacing=False, decrease_repeated_chars=False, seperate_mi=False)
    return {s: d for s, d in zip(norm.translation_src, norm.translation_dst) if s != d}


def _is_arabic_script(ch: str) -> bool:
    o = ord(ch)
    return 0x0600 <= o <= 0x08FF or 0xFB50 <= o <= 0xFDFF or 0xFE70 <= o <= 0xFEFF


@lru_cache(maxsize=None)
def fold_char(ch: str) -> str:
    """The folded form of one original character (possibly empty or longer)."""
    if ch in _DROP:
        return ""
    if ch.isspace():
        return " "
    out = []
    for c in unicodedata.normalize("NFKC", ch):
        if _is_arabic_script(c):
            c = _hazm_table().get(c, c)
        c = _TABLE.get(c, c)
        if c in _DROP:
            continue
        out.append(c.casefold())
    return "".join(out)


@dataclass(frozen=True)
class Folded:
    """A matching view of ``original[base:]`` and where each of its characters came from."""

    text: str
    offsets: tuple[int, ...]  # offsets[i]: original offset of text[i]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) covering the view slice ``text[start:end]``."""
        if not 0 <= start < end <= len(self.text):
            raise ValueError(f"bad view span {start}:{end} for length {len(self.text)}")
        return self.offsets[start], self.offsets[end - 1] + 1


def fold(text: str, base: int = 0) -> Folded:
    """Fold ``text`` for matching; offsets are ``base`` + index into ``text``.

    Whitespace runs become one space and outer whitespace is dropped, so the
    view of a sentence does not depend on how the page was laid out.
    """
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text):
        f = fold_char(ch)
        if not f:
            continue
        if f == " ":
            if not chars or chars[-1] == " ":
                continue
        for c in f:
            chars.append(c)
            offsets.append(base + i)
    if chars and chars[-1] == " ":
        chars.pop()
        offsets.pop()
    return Folded("".join(chars), tuple(offsets))


def fold_text(text: str) -> str:
    """Just the folded string, for look-ups where offsets are not needed."""
    return fold(text).text
