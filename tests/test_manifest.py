"""The bundled corpus and the validation of a researcher's own manifest."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corpus import CorpusError, bundled_corpus_dir, load_corpus

from .conftest import shared


def test_bundled_story(bundled):
    assert [s.id for s in bundled.stories] == ["crocus-2024"]
    meta = {d.id: (d.lang, d.outlet, d.role) for d in bundled.documents.values()}
    assert meta == {
        "000": ("ar", "وطن", "comparable"),
        "001": ("ar", None, "comparable"),
        "002": ("ar", "إرم نيوز", "parallel"),
        "003": ("ar", "سكاي نيوز عربية", "comparable"),
        "004": ("fa", "مردم‌سالاری آنلاین", "parallel"),
    }
    assert [(a.id, b.id) for a, b in bundled.parallel_pairs()] == [("002", "004")]


def test_bundled_texts_are_the_seeds_unchanged():
    seeds = shared("seeds")
    for seed in sorted(seeds.glob("*.txt")):
        assert (bundled_corpus_dir() / seed.name).read_bytes() == seed.read_bytes()


MINIMAL = """
[[stories]]
id = "s1"

[[documents]]
id = "a"
file = "a.txt"
lang = "ar"
story = "s1"
role = "parallel"
outlet = "إرم نيوز"

[[documents]]
id = "b"
file = "b.txt"
lang = "fa"
story = "s1"
role = "parallel"
"""


@pytest.fixture
def own(tmp_path: Path) -> Path:
    src = bundled_corpus_dir()
    shutil.copy(next(src.glob("002_*.txt")), tmp_path / "a.txt")
    shutil.copy(next(src.glob("004_*.txt")), tmp_path / "b.txt")
    (tmp_path / "manifest.toml").write_text(MINIMAL, "utf-8")
    return tmp_path


def test_a_story_of_ones_own_loads(own):
    c = load_corpus(own)
    assert [(a.id, b.id) for a, b in c.parallel_pairs()] == [("a", "b")]
    assert c.documents["a"].outlet == "إرم نيوز" and c.documents["b"].outlet is None


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda m: m.replace('lang = "fa"', 'lang = "Persian"'), "document 2 ('b'): language code 'Persian' is not an ISO 639 code"),
        (lambda m: m.replace('lang = "fa"', 'lang = "xx-nonsense"'), "document 2 ('b'): language code 'xx-nonsense' is not an ISO 639 code"),
        (lambda m: m.replace('lang = "fa"', 'lang = "fa-nonsense"'), "'nonsense' is not a script or region subtag"),
        (lambda m: m.replace('role = "parallel"\noutlet', 'role = "translation"\noutlet'), "document 1 ('a'): role 'translation' must be one of parallel, comparable"),
        (lambda m: m.replace('id = "b"', 'id = "a"'), "document 2 ('a'): duplicate id"),
        (lambda m: m.replace('file = "b.txt"\n', ""), "document 2 ('b'): missing field 'file'"),
        (lambda m: m.replace('outlet =', 'outlett ='), "document 1 ('a'): unknown field 'outlett'"),
        (lambda m: m.replace('file = "b.txt"', 'file = "c.txt"'), "document 'b': file 'c.txt' not found"),
        (lambda m: m.replace('file = "b.txt"', 'file = "../b.txt"'), "file must be a path inside the corpus folder"),
        (lambda m: m.replace('story = "s1"\nrole = "parallel"\noutlet', 'story = "s2"\nrole = "parallel"\noutlet'), "story 's2' is not declared"),
        (lambda m: m.replace('lang = "fa"\nstory = "s1"\nrole = "parallel"', 'lang = "fa"\nstory = "s1"\nrole = "comparable"'), "story 's1': only one parallel document ('a')"),
        (lambda m: m.replace('[[documents]]\nid = "a"', '[[documents]\nid = "a"'), "not valid TOML"),
        (lambda m: m + '\nsha256 = "00"\n', "text differs from the sha256"),
        (lambda m: "[[stories]]\nid = \"s1\"\n", "no [[documents]] entries"),
        (lambda m: m.replace('lang = "fa"', 'lang = "ar"'), "two parallel documents share the language 'ar'"),
        # story ids name files of the dataset (story.tmx): a path in one must not reach outside it
        (lambda m: m.replace('id = "s1"', 'id = "../../escaped"').replace('story = "s1"', 'story = "../../escaped"'),
         "story 1: id '../../escaped' must be letters, digits"),
        (lambda m: m.replace('[[stories]]\nid = "s1"\n', '').replace('story = "s1"', 'story = "cro cus/../x"'),
         "document 1 ('a'): story 'cro cus/../x' must be letters, digits"),
    ],
)
def test_manifest_errors_name_the_entry(own, edit, problem):
    manifest = own / "manifest.toml"
    manifest.write_text(edit(MINIMAL), "utf-8")
    with pytest.raises(CorpusError) as e:
        load_corpus(own)
    assert problem in str(e.value) and "\n" not in str(e.value)
    assert str(e.value).startswith(str(own))


def test_declared_language_is_checked_against_the_text(own):
    (own / "manifest.toml").write_text(MINIMAL.replace('file = "a.txt"', 'file = "b.txt"').replace('file = "b.txt"\nlang = "fa"', 'file = "a.txt"\nlang = "fa"'), "utf-8")
    with pytest.raises(CorpusError, match=r"b\.txt: text looks like Persian \(fa\), not the declared Arabic \(ar\)"):
        load_corpus(own)


def test_missing_manifest(tmp_path):
    with pytest.raises(CorpusError, match="no manifest.toml here"):
        load_corpus(tmp_path)
    with pytest.raises(CorpusError, match="no such corpus folder"):
        load_corpus(tmp_path / "nope")
