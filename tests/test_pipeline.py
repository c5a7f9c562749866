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
