"""The build's engine: stories on several processes give the same bytes as one process."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from corpus import bundled_corpus_dir
from pipeline.cli import main


def _three_stories(root: Path) -> Path:
    """The bundled story three times over, under other ids, with different comparable coverage
    (all three outlets; one; none), so that a story's rows landing in the wrong place would show."""
    src = bundled_corpus_dir()
    manifest = (src / "manifest.toml").read_text("utf-8")
    head, *blocks = re.split(r"(?m)^(?=\[\[)", manifest)
    story = next(b for b in blocks if b.startswith("[[stories]]"))
    docs = [b for b in blocks if b.startswith("[[documents]]")]
    out = [head]
    for k, keep in ((1, {"000", "001", "003"}), (2, {"000"}), (3, set())):
        out.append(story.replace('id = "crocus-2024"', f'id = "crocus-{k}"'))
        for d in docs:
            doc_id = re.search(r'^id = "(\d+)"', d, re.M).group(1)
            if 'role = "comparable"' in d and doc_id not in keep:
                continue
            out.append(d.replace(f'id = "{doc_id}"', f'id = "{k}{doc_id}"')
                       .replace('story = "crocus-2024"', f'story = "crocus-{k}"'))
    corpus = root / "corpus"
    corpus.mkdir()
    for f in src.glob("*.txt"):
        (corpus / f.name).write_bytes(f.read_bytes())
    (corpus / "manifest.toml").write_text("".join(out), "utf-8")
    return corpus


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_one_and_two_workers_build_byte_identical_datasets(tmp_path):
    corpus = _three_stories(tmp_path)
    one, two = tmp_path / "one", tmp_path / "two"
    assert main(["build", str(corpus), "-o", str(one), "--quiet"]) == 0
    assert main(["build", str(corpus), "-o", str(two), "--quiet", "--workers", "2"]) == 0
    d1, d2 = _digests(one), _digests(two)
    assert d1 == d2
    assert {"pairs/test.parquet", "segments/test.parquet", "comparable/test.parquet", "README.md"} <= set(d1)
    # the stories are all there, in manifest order, each with its own comparable coverage
    import pyarrow.parquet as pq

    seg = pq.read_table(one / "segments/test.parquet").column("story_id").to_pylist()
    assert list(dict.fromkeys(seg)) == ["crocus-1", "crocus-2", "crocus-3"]
    cmp_docs = pq.read_table(one / "comparable/test.parquet").column("doc_id").to_pylist()
    assert list(dict.fromkeys(cmp_docs)) == ["1000", "1001", "1003", "2000"]


def test_one_bad_document_fails_the_build_or_is_skipped_and_listed(tmp_path, capsys):
    import json

    corpus = _three_stories(tmp_path)
    manifest = (corpus / "manifest.toml").read_text("utf-8")
    # story 2's comparable document and story 3's Persian version point to a non-UTF-8 file
    (corpus / "broken.txt").write_bytes(b"\xff\xfe not text")
    for doc in ("2000", "3004"):
        block = manifest[manifest.index(f'id = "{doc}"'):]
        block = block[:block.index("[[") if "[[" in block else len(block)]
        fixed = "\n".join(line for line in block.splitlines() if not line.startswith("sha256"))
        fixed = fixed.replace(next(x for x in fixed.splitlines() if x.startswith("file =")), 'file = "broken.txt"')
        manifest = manifest.replace(block, fixed + "\n\n")
    (corpus / "manifest.toml").write_text(manifest, "utf-8")
    out = tmp_path / "out"
    assert main(["build", str(corpus), "-o", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "broken.txt: not UTF-8" in err and not out.exists()
    assert main(["build", str(corpus), "-o", str(out), "--quiet", "--on-error", "skip"]) == 0
    assert "skipped 3 document(s): 2000, 3004, 3002" in capsys.readouterr().err
    skipped = [json.loads(x) for x in (out / "skipped.jsonl").read_text("utf-8").splitlines()]
    assert [(s["document"], s["story"]) for s in skipped] == [("2000", "crocus-2"), ("3004", "crocus-3"),
                                                              ("3002", "crocus-3")]
    assert "not UTF-8" in skipped[0]["error"] and "other parallel version" in skipped[2]["error"]
    card = (out / "README.md").read_text("utf-8")
    assert "## Skipped documents" in card and "| 3002 | crocus-3 |" in card
    import pyarrow.parquet as pq

    stories = pq.read_table(out / "segments/test.parquet").column("story_id").to_pylist()
    assert list(dict.fromkeys(stories)) == ["crocus-1", "crocus-2"]
    docs = pq.read_table(out / "comparable/test.parquet").column("doc_id").to_pylist()
    assert list(dict.fromkeys(docs)) == ["1000", "1001", "1003"]
