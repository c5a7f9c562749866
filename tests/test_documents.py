"""Reading files: the original text, or one line that names the file and the problem."""

from __future__ import annotations

import pytest

from corpus import CorpusError, read_document, read_text
from pipeline.cli import main
from corpus.languages import detect_mismatch

from .conftest import data_file, shared


def test_reads_the_original_bytes_unchanged():
    path = data_file("004")
    assert read_text(path).encode("utf-8") == path.read_bytes()


def test_crlf_and_bom_are_kept(tmp_path):
    p = tmp_path / "x.txt"
    p.write_bytes("\ufeffسلام علیکم.\r\nخوب است.\r\n".encode("utf-8"))
    assert read_text(p) == "\ufeffسلام علیکم.\r\nخوب است.\r\n"


@pytest.mark.parametrize(
    "content, problem",
    [
        (b"", "file is empty"),
        (b"  \n\t\n", "only whitespace"),
        (b"\xef\xbb\xbf", "only whitespace and a byte-order mark"),
        (b"\xef\xbb\xbf \r\n\xef\xbb\xbf\n", "only whitespace and a byte-order mark"),
        (("\u200b\u200c\ufeff" * 50 + "\n\u200f\u061c\n").encode("utf-8"),
         "only whitespace and invisible format characters (U+061C, U+200B, U+200C, U+200F)"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "looks binary"),
        ("سلام".encode("cp1256"), "not UTF-8"),
        (b"caf\xe9 au lait", "not UTF-8 (byte 0xe9 at offset 3)"),
    ],
)
def test_bad_files_give_one_line_errors(tmp_path, content, problem):
    p = tmp_path / "article.txt"
    p.write_bytes(content)
    with pytest.raises(CorpusError) as e:
        read_text(p)
    msg = str(e.value)
    assert msg.startswith(f"{p}: ") and problem in msg and "\n" not in msg


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(CorpusError, match="no such file"):
        read_text(tmp_path / "nope.txt")
    with pytest.raises(CorpusError, match="is a folder"):
        read_text(tmp_path)
    dangling = tmp_path / "gone.txt"
    dangling.symlink_to(tmp_path / "moved.txt")
    with pytest.raises(CorpusError, match=f"gone.txt: is a link to {tmp_path / 'moved.txt'}, which does not exist"):
        read_text(dangling)
    loop = tmp_path / "loop.txt"
    loop.symlink_to(loop)
    with pytest.raises(CorpusError, match="loop.txt: cannot be read \\([Tt]oo many levels of symbolic links\\)"):
        read_text(loop)


@pytest.mark.parametrize(
    "doc, declared, told",
    [
        ("002", "fa", "looks like Arabic (ar), not the declared Persian (fa)"),
        ("004", "ar", "looks like Persian (fa), not the declared Arabic (ar)"),
        ("003", "fa", "looks like Arabic (ar)"),
        ("004", "de", "Arabic script, but German (de) is written in Latin script"),
    ],
)
def test_wrong_language_is_refused(doc, declared, told):
    path = data_file(doc)
    with pytest.raises(CorpusError) as e:
        read_document(path, declared)
    assert str(e.value).startswith(str(path)) and told in str(e.value)


def test_right_languages_pass():
    for doc, lang in (("000", "ar"), ("001", "ar"), ("002", "ar"), ("003", "ar"), ("004", "fa")):
        assert read_document(data_file(doc), lang).lang == lang


def test_latin_script_languages_are_told_apart():
    de = shared("benchmarks/textberg-dev/dev.de").read_text("utf-8")[:3000]
    fr = shared("benchmarks/textberg-dev/dev.fr").read_text("utf-8")[:3000]
    assert detect_mismatch(de, "de") is None and detect_mismatch(fr, "fr") is None
    assert "German (de)" in detect_mismatch(de, "fr")
    assert "French (fr)" in detect_mismatch(fr, "de")
    assert "Latin script" in detect_mismatch(de, "fa")


def test_short_texts_are_not_judged():
    assert detect_mismatch("OK.", "fa") is None


def test_cli_prints_one_line_and_no_traceback(tmp_path, capsys):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("Le café est fermé.".encode("latin-1"))
    assert main(["segment", str(bad), "--lang", "fr"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"diptych: error: {bad}: not UTF-8")
    assert main(["segment", str(data_file("002")), "--lang", "fa"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not the declared Persian (fa)" in err
