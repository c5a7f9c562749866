"""The gold-aligned development sets in ../shared/benchmarks, read the same way for every script.

Four sets (see that folder's README): Text+Berg dev (de-fr), TransRead (en-fr/el/es
novels), MAC-Dev (zh-en novels), hunalign's hand alignments (hu-en). Each document
is one sentence per line; lines are stripped and inner white space collapsed, as
Bertalign's reader does, so every system sees the same sentences.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from align.beads import Bead, read_beads

BENCHMARKS = Path(__file__).resolve().parents[2] / "shared" / "benchmarks"
SETS = ("textberg", "transread", "mac", "hunalign")


@dataclass
class Doc:
    set: str
    name: str
    src_lang: str
    tgt_lang: str
    src: list[str]
    tgt: list[str]
    gold: list[Bead]
    translations: list[str] | None = None  # machine translation of src into tgt_lang, line-parallel


def read_lines(path: Path) -> list[str]:
    text = path.read_text("utf-8")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return [" ".join(line.split()) for line in lines]


def _doc(set_name: str, name: str, langs: tuple[str, str], src: Path, tgt: Path, gold: Path,
         translations: Path | None = None) -> Doc:
    return Doc(set_name, name, langs[0], langs[1], read_lines(src), read_lines(tgt), read_beads(gold),
               read_lines(translations) if translations else None)


def load_set(name: str, root: Path = BENCHMARKS) -> list[Doc]:
    if name == "textberg":
        d = root / "textberg-dev"
        return [_doc(name, "dev", ("de", "fr"), d / "dev.de", d / "dev.fr", d / "dev.defr", d / "dev.google.fr")]
    if name == "transread":
        docs = []
        for d in sorted(p for p in (root / "transread").iterdir() if p.is_dir()):
            lang = d.name.rsplit("-", 1)[1]
            docs.append(_doc(name, d.name, ("en", lang), d / "en.txt", d / f"{lang}.txt", d / "gold.align"))
        return docs
    if name == "mac":
        d = root / "mac-dev"
        return [_doc(name, z.stem, ("zh", "en"), z, z.with_suffix(".en"), z.with_suffix(".align"))
                for z in sorted(d.glob("*.zh"))]
    if name == "hunalign":
        d = root / "hunalign"
        return [_doc(name, sub, ("hu", "en"), d / sub / "hu.txt", d / sub / "en.txt", d / sub / "gold.align")
                for sub in ("dtm", "1984.hu")]
    raise ValueError(f"unknown set {name!r}; known: {', '.join(SETS)}")


def load_all(names=SETS, root: Path = BENCHMARKS) -> dict[str, list[Doc]]:
    if not root.is_dir():
        raise SystemExit(f"{root}: the development sets are not beside this checkout")
    return {n: load_set(n, root) for n in names}
