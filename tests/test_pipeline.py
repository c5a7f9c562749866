"""The build's engines: one process, several, or Ray give the same bytes; a killed build resumes."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

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
    return _bundled_texts_with(root, "".join(out))


def _bundled_texts_with(root: Path, manifest: str) -> Path:
    """``root/corpus``: the bundled articles under ``manifest``."""
    corpus = root / "corpus"
    corpus.mkdir()
    for f in bundled_corpus_dir().glob("*.txt"):
        (corpus / f.name).write_bytes(f.read_bytes())
    (corpus / "manifest.toml").write_text(manifest, "utf-8")
    return corpus


def _digests(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(out: Path, config: str, column: str) -> list:
    from corpus.dataset import read_config

    return read_config(out, config).column(column).to_pylist()


def _pids(match) -> set[int]:
    """The processes whose command line (bytes, NUL-separated) ``match`` accepts."""
    import os

    out = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if match(f.read()):
                    out.add(int(pid))
        except OSError:
            continue
    return out


def _is_monitor(cmdline: bytes) -> bool:
    return b"autoscaler/_private/monitor.py" in cmdline


class _StoryTaskNiceness:
    """Samples, while it runs, the niceness of every Ray worker process running a story
    (``ray::_story_task``): the CPU priority the build's stories get."""

    def __enter__(self):
        import threading

        self.seen: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.02):
            for pid in _pids(lambda cmdline: cmdline.startswith(b"ray::_story_task")):
                try:
                    with open(f"/proc/{pid}/stat") as f:
                        self.seen.add(int(f.read().rsplit(")", 1)[1].split()[16]))
                except (OSError, IndexError, ValueError):
                    continue

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def test_one_and_two_workers_and_ray_build_byte_identical_sharded_datasets(tmp_path, monkeypatch):
    """Same bytes whatever the engine and the number of workers; small shards so every config is
    split in several, and `datasets` reads them back as one split in order."""
    corpus = _three_stories(tmp_path)
    one, two, ray = tmp_path / "one", tmp_path / "two", tmp_path / "ray"
    shard = ["--quiet", "--shard-mb", "0.02"]
    assert main(["build", str(corpus), "-o", str(one), *shard]) == 0
    assert main(["build", str(corpus), "-o", str(two), *shard, "--workers", "2"]) == 0
    with _StoryTaskNiceness() as nice:
        assert main(["build", str(corpus), "-o", str(ray), *shard, "--engine", "ray", "--workers", "2"]) == 0
    # the instance the build starts runs its stories at the local engine's priority, not Ray's nice 15
    assert nice.seen == {0}
    from pipeline.ray_engine import STARTED

    assert STARTED == []  # the cache the local builds filled answers every task: no model actor started
    d1 = _digests(one)
    assert d1 == _digests(two) == _digests(ray)
    for config in ("pairs", "segments", "documents", "comparable"):
        shards = sorted(p for p in d1 if p.startswith(config + "/"))
        assert len(shards) > 1 and shards[-1] == f"{config}/test-{len(shards) - 1:05d}-of-{len(shards):05d}.parquet"
    # the stories are all there, in manifest order, each with its own comparable coverage
    seg = _rows(one, "segments", "story_id")
    assert list(dict.fromkeys(seg)) == ["crocus-1", "crocus-2", "crocus-3"]
    assert list(dict.fromkeys(_rows(one, "comparable", "doc_id"))) == ["1000", "1001", "1003", "2000"]
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    import datasets

    loaded = datasets.load_dataset(str(one), "segments", split="test")
    assert loaded["id"] == _rows(one, "segments", "id") and len(set(loaded["id"])) == len(seg) == 3 * 47
    pairs = datasets.load_dataset(str(one), "pairs", split="test")
    assert pairs.features["translation"].languages == ["ar", "fa"] and pairs.num_rows == 3 * 21


def _cli() -> list[str]:
    import sys

    exe = Path(sys.executable).with_name("diptych")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]


def test_a_killed_build_resumes_without_redoing_finished_stories(tmp_path, capsys):
    """SIGKILL after two of three stories; a changed document then invalidates its story alone, and
    the resumed build ends byte-identical to an uninterrupted build of the corpus as it now is."""
    import pickle
    import signal
    import subprocess
    import time

    corpus = _three_stories(tmp_path)
    out = tmp_path / "out"
    store = tmp_path / ".out.stories"
    proc = subprocess.Popen([*_cli(), "build", str(corpus), "-o", str(out), "--quiet", "--no-cache"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600
        while len(list(store.glob("*.pickle"))) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL and not out.exists()
    finished = {pickle.loads(p.read_bytes()).story_id for p in store.glob("*.pickle")}
    assert len(finished) >= 2
    # story 3's Arabic version changes its outlet: only that story is invalidated
    manifest = (corpus / "manifest.toml").read_text("utf-8")
    block = manifest[manifest.index('id = "3002"'):]
    block = block[: block.index("[[")] if "[[" in block else block
    assert "outlet = " in block
    changed = re.sub(r'outlet = "[^"]*"', 'outlet = "Reuters (Arabic service)"', block)
    (corpus / "manifest.toml").write_text(manifest.replace(block, changed), "utf-8")
    expect = len(finished - {"crocus-3"})
    assert main(["build", str(corpus), "-o", str(out), "--resume", "--no-cache"]) == 0
    assert f"({expect} of 3 stories taken from the interrupted build)" in capsys.readouterr().err
    assert not store.exists()  # the finished build no longer needs them
    ref = tmp_path / "ref"
    assert main(["build", str(corpus), "-o", str(ref), "--quiet"]) == 0
    assert _digests(out) == _digests(ref)
    assert "Reuters (Arabic service)" in (out / "README.md").read_text("utf-8")


def test_a_build_resumed_after_the_code_changed_redoes_every_story(tmp_path, capsys, monkeypatch):
    """The stories kept for --resume are keyed by the code as well as the inputs and settings: the
    version number stays 0.1.0 through every edit, and a build resumed after one must not mix
    results of the old code with the new."""
    import pipeline.build

    corpus = _three_stories(tmp_path)
    out = tmp_path / "out"
    real = pipeline.build.run_stories

    def stopped_after_one(*args, **kwargs):
        for k, result in enumerate(real(*args, **kwargs)):
            if k == 1:
                raise KeyboardInterrupt  # the build stops with one story finished
            yield result

    monkeypatch.setattr(pipeline.build, "run_stories", stopped_after_one)
    assert main(["build", str(corpus), "-o", str(out), "--quiet"]) != 0
    assert len(list((tmp_path / ".out.stories").glob("*.pickle"))) == 1 and not out.exists()
    monkeypatch.setattr(pipeline.build, "run_stories", real)
    fingerprint = pipeline.build.code_fingerprint()
    assert len(fingerprint) == 64 and fingerprint == pipeline.build.code_fingerprint()
    monkeypatch.setattr(pipeline.build, "code_fingerprint", lambda: "0" * 64)  # an edit to any module
    assert main(["build", str(corpus), "-o", str(out), "--resume"]) == 0
    assert "(0 of 3 stories taken from the interrupted build)" in capsys.readouterr().err


def test_a_build_on_a_ray_instance_started_with_ray_start(tmp_path, monkeypatch):
    """`ray start --head`, then `--engine ray --ray-address auto`: the stories run in that instance's
    workers, which do not inherit the driver's environment but are given its DIPTYCH_CACHE (they
    write the word vectors there), and the dataset is the local build's, byte for byte."""
    import os
    import shutil
    import sqlite3
    import subprocess
    import sys

    ray_cli = str(Path(sys.executable).with_name("ray"))
    first, second = tmp_path / "cache1", tmp_path / "cache2"
    monkeypatch.setenv("DIPTYCH_CACHE", str(first))
    assert main(["build", "-o", str(tmp_path / "local"), "--quiet"]) == 0
    second.mkdir()
    shutil.copy(first / "embeddings.sqlite", second)  # sentence vectors there; word vectors to be written
    monkeypatch.setenv("DIPTYCH_CACHE", str(second))
    env = {k: v for k, v in os.environ.items() if k != "DIPTYCH_CACHE"}
    subprocess.run([ray_cli, "start", "--head", "--num-cpus", "2", "--include-dashboard=false"], check=True,
                   env=dict(env, RAY_USAGE_STATS_ENABLED="0"), capture_output=True)
    try:
        monitors = _pids(_is_monitor)
        with _StoryTaskNiceness() as nice:
            assert main(["build", "-o", str(tmp_path / "ray"), "--quiet", "--engine", "ray", "--ray-address",
                         "auto"]) == 0
        assert nice.seen == {15}  # a cluster someone started keeps its own settings (Ray's default here)
        # the build stops only what it started: the cluster's autoscaler monitor runs on
        assert monitors and _pids(_is_monitor) == monitors
        # without an address the build starts an instance of its own with --workers CPUs, even with
        # this one running (ray.init() alone would join it, and refuse num_cpus)
        assert main(["build", "-o", str(tmp_path / "own"), "--quiet", "--engine", "ray", "--workers", "2"]) == 0
    finally:
        subprocess.run([ray_cli, "stop", "--force"], capture_output=True)
    assert _digests(tmp_path / "local") == _digests(tmp_path / "ray") == _digests(tmp_path / "own")
    db = sqlite3.connect(second / "wordvectors.sqlite")
    assert db.execute("SELECT COUNT(*) FROM wordvectors").fetchone()[0] > 20  # the driver writes none


def test_an_own_ray_instance_stops_without_waiting_on_its_autoscaler_monitor(monkeypatch):
    """Ray stops the GCS before its autoscaler monitor, and then waits a second on the monitor's SIGTERM
    handler (which tries to reach the GCS) before killing it: 1.0 of the 1.3 s a shutdown took. The
    build's own instance stops the monitor first; Ray's shutdown then finds it gone, and every process
    the instance started is stopped."""
    import logging

    import ray
    from ray._private import node as ray_node
    from ray._private import worker as ray_worker

    from pipeline.ray_engine import _shutdown

    alive_when_reached: list[bool] = []
    kill = ray_node.Node._kill_process_impl

    def spy(self, process_type, *args, **kwargs):
        if process_type == "monitor":
            alive_when_reached.extend(i.process.poll() is None for i in self.all_processes.get(process_type, ()))
        return kill(self, process_type, *args, **kwargs)

    monkeypatch.setattr(ray_node.Node, "_kill_process_impl", spy)
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    ray.init(address="local", num_cpus=1, log_to_driver=False, logging_level=logging.ERROR)
    started = [i.process for infos in ray_worker._global_node.all_processes.values() for i in infos]
    _shutdown()
    assert alive_when_reached == [False]
    assert not ray.is_initialized() and all(p.poll() is not None for p in started)


def test_engine_options_are_checked(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "-o", str(out), "--ray-address", "auto"]) == 2
    assert capsys.readouterr().err.strip() == "diptych: error: --ray-address is for --engine ray"
    assert main(["build", "-o", str(out), "--engine", "spark"]) == 2
    assert "--engine" in capsys.readouterr().err and not out.exists()


def test_a_ray_address_where_no_cluster_runs_is_one_line_at_once(tmp_path, capsys, monkeypatch):
    """Ray retries an unreachable address for minutes (the build hung past 120 s), and without a
    cluster its message names Ray's own --address flag."""
    import time

    import ray

    out = tmp_path / "out"
    t0 = time.perf_counter()
    assert main(["build", "-o", str(out), "--quiet", "--engine", "ray", "--ray-address", "127.0.0.1:1"]) == 2
    assert time.perf_counter() - t0 < 10
    err = capsys.readouterr().err
    assert err == "diptych: error: --ray-address 127.0.0.1:1: no Ray cluster answers at 127.0.0.1:1 (connection refused)\n"

    def no_cluster(*args, **kwargs):
        raise ConnectionError("Could not find any running Ray instance. Please specify the one to connect to by "
                              "setting `--address` flag or `RAY_ADDRESS` environment variable.")

    monkeypatch.setattr(ray, "init", no_cluster)
    assert main(["build", "-o", str(out), "--quiet", "--engine", "ray", "--ray-address", "auto"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--ray-address auto: no Ray cluster found on this machine" in err
    assert "`--address`" not in err and not out.exists()


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
    assert list(dict.fromkeys(_rows(out, "segments", "story_id"))) == ["crocus-1", "crocus-2"]
    assert list(dict.fromkeys(_rows(out, "comparable", "doc_id"))) == ["1000", "1001", "1003"]


def _bundled_with_roles(root: Path, keep_comparable: bool) -> Path:
    """The bundled story with (or without) its comparable documents."""
    head, *blocks = re.split(r"(?m)^(?=\[\[)", (bundled_corpus_dir() / "manifest.toml").read_text("utf-8"))
    return _bundled_texts_with(root, head + "".join(b for b in blocks
                                                    if keep_comparable or 'role = "comparable"' not in b))


def test_a_config_with_no_rows_is_left_out_of_the_card_so_the_dataset_loads(tmp_path):
    """Two translations and no other coverage: `comparable` has no rows. load_dataset cannot read an
    empty split, so the card does not list it, and every listed config loads."""
    import datasets

    corpus = _bundled_with_roles(tmp_path, keep_comparable=False)
    out = tmp_path / "out"
    assert main(["build", str(corpus), "-o", str(out), "--quiet"]) == 0
    card = (out / "README.md").read_text("utf-8")
    listed = re.findall(r"(?m)^- config_name: (\w+)$", card)
    assert listed == ["pairs", "segments", "documents"]
    assert "`comparable` has no rows here" in card and '"comparable", split=' not in card
    for config in listed:
        assert datasets.load_dataset(str(out), config, split="test").num_rows > 0
    assert datasets.load_dataset(str(out), split="test").num_rows == len(_rows(out, "pairs", "id"))
    with pytest.raises(ValueError, match="comparable"):
        datasets.load_dataset(str(out), "comparable", split="test")



def test_a_build_that_skips_every_document_is_refused(tmp_path, capsys):
    corpus = _bundled_with_roles(tmp_path, keep_comparable=True)
    for f in corpus.glob("*.txt"):
        f.write_bytes(b"\xff\xfe not text")
    out = tmp_path / "out"
    assert main(["build", str(corpus), "-o", str(out), "--quiet", "--on-error", "skip"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "manifest.toml: all 5 documents were skipped (first: " in err
    assert "nothing to build" in err and not out.exists()


def test_debris_under_the_stories_folder_name_is_cleared_or_refused(tmp_path, capsys):
    """`.OUT.stories` is the build's private folder: a file there is cleared by a fresh build and
    refused by --resume (was a bare 'File exists' / 'Not a directory')."""
    out = tmp_path / "out"
    store = tmp_path / ".out.stories"
    store.write_text("not a folder")
    assert main(["build", "-o", str(out), "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{store}: is not the folder of an interrupted build's stories" in err
    assert store.read_text() == "not a folder" and not out.exists()
    assert main(["build", "-o", str(out), "--quiet"]) == 0
    assert out.is_dir() and not store.exists()


def test_a_stored_result_that_is_not_one_is_refused_on_resume(tmp_path):
    """A readable pickle of something else under a story's key (was an AttributeError traceback)."""
    from corpus.errors import CorpusError
    from pipeline.store import StoryStore

    store = StoryStore(tmp_path / "out", resume=True)
    for thing, kind in (({"segments": []}, "dict"), (None, "NoneType")):
        store.put("k", thing)
        with pytest.raises(CorpusError, match=f"k.pickle: holds a {kind}, not a story result; build again without --resume"):
            store.get("k")


def test_the_local_pool_starts_its_workers_before_the_first_result_is_asked_for(tmp_path):
    """The workers start (and take their first stories) while the driver sets up its writers, not
    after: run_stories returns with the pool's processes already running, and closing the results
    stops them."""
    import multiprocessing as mp

    from corpus import load_corpus
    from pipeline.build import BuildSettings, run_stories, story_jobs

    jobs = story_jobs(load_corpus(_three_stories(tmp_path)))
    before = set(mp.active_children())
    results = run_stories(jobs, BuildSettings(), workers=2)
    assert len(set(mp.active_children()) - before) == 2
    first = next(results)
    assert first.story_id == "crocus-1" and first.segments
    results.close()
    assert not set(mp.active_children()) - before
