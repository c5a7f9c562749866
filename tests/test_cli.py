"""The diptych command as a user runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import main

from .conftest import data_file


def test_console_script_segments_the_persian_version():
    exe = Path(sys.executable).parent / "diptych"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "pipeline.cli"]
    out = subprocess.run([*cmd, "segment", str(data_file("004")), "--lang", "fa"],
                         capture_output=True, text=True, check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert ["4", "1", "text", "گروه داعش مسئوليت اين حمله برعهده گرفته است."] in rows
    assert ["0", "0", "boilerplate:desk-label", "گروه ديپلماسي:"] in rows
    assert ["2", "1", "boilerplate:outlet-attribution", "به گزارش مردم سالاری آنلاین ،"] in rows  # outlet from the manifest
    assert all(len(r) == 4 for r in rows)


def test_segment_outside_a_corpus_needs_outlet_to_cut_the_site_name(tmp_path, capsys):
    copy = tmp_path / "000.txt"
    copy.write_bytes(data_file("000").read_bytes())
    assert main(["segment", str(copy), "--lang", "ar"]) == 0
    assert "\ttext\tوطن فيما تبدو" in capsys.readouterr().out
    assert main(["segment", str(copy), "--lang", "ar", "--outlet", "وطن"]) == 0
    assert "\tboilerplate:site-name\tوطن\n" in capsys.readouterr().out


def test_segment_jsonl_has_offsets(capsys):
    path = data_file("002")
    assert main(["segment", str(path), "--lang", "ar", "--format", "jsonl"]) == 0
    text = path.read_text("utf-8")
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows and all(text[r["start"] : r["end"]] == r["text"] for r in rows)
    assert {"related-links", "photo-credit", "site-url"} <= {r["reason"] for r in rows}


def test_build_writes_whole_and_refuses_to_clobber(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["build", "-o", str(out), "--quiet"]) == 0
    assert (out / "segments/test-00000-of-00001.parquet").stat().st_size > 0
    mask = os.umask(0)
    os.umask(mask)
    # ordinary permissions, not the owner-only ones of the temporary folder and files
    assert out.stat().st_mode & 0o777 == 0o777 & ~mask
    assert (out / "README.md").stat().st_mode & 0o777 == 0o666 & ~mask
    assert main(["build", "-o", str(out), "--quiet"]) == 2
    assert "already exists; pass --overwrite" in capsys.readouterr().err
    (out / "stale.txt").write_text("from an earlier build")
    assert main(["build", "-o", str(out), "--quiet", "--overwrite"]) == 0
    assert not (out / "stale.txt").exists()  # replaced whole, not merged
    assert sorted(os.listdir(tmp_path)) == ["out"]  # no temporary folders left behind


def test_failed_build_leaves_the_old_output_intact(tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("keep me")
    bad = tmp_path / "corpus"
    shutil.copytree(Path(data_file("002")).parent, bad)
    (bad / "004_4021acd122d8fafe.txt").chmod(0o644)
    (bad / "004_4021acd122d8fafe.txt").write_bytes(b"\xff\xfe broken")
    assert main(["build", str(bad), "-o", str(out), "--overwrite", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "004_4021acd122d8fafe.txt" in err and err.count("\n") == 1
    assert sorted(os.listdir(out)) == ["old.txt"]
    assert sorted(os.listdir(tmp_path)) == ["corpus", "out"]


def test_check_lists_the_bundled_documents(capsys):
    assert main(["check"]) == 0
    out = capsys.readouterr().out
    assert "5 documents" in out and "004\tfa\tparallel" in out


@pytest.mark.parametrize("argv", [["--help"], ["segment", "--help"], ["build", "--help"]])
def test_help(argv, capsys):
    assert main(argv) == 0 and "usage: diptych" in capsys.readouterr().out
