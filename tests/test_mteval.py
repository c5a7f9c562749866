"""`diptych eval-mt` and `diptych export-sources` on a small dataset of real aligned sentences.

The fixture dataset is written here with the published schema: ten rows whose
Arabic and Persian texts are cut from the bundled Reuters report (002 Arabic,
004 Persian), so the texts are real and really correspond. Every expected
figure is computed with sacrebleu's own API on the same strings, never by the
code under test.
"""

from __future__ import annotations

import importlib.machinery
import json
import re
import sys
import types

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import sacrebleu
from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.significance import PairedTest

from pipeline.cli import main
from corpus.schema import JOIN, pairs_schema
from corpus.exports import format_lines
from mteval.data import read_lines

from .conftest import data_file as article
from .test_models import nllb_dir  # noqa: F401  the tiny NLLB model fixture (built once for this module)

AR_TEXT = article("002").read_text("utf-8")
FA_TEXT = article("004").read_text("utf-8")


def _cut(text: str, start: str, end: str) -> str:
    """The real sentence of ``text`` that begins with ``start`` and ends with ``end``."""
    i = text.index(start)
    return text[i : text.index(end, i) + len(end)]


def _row_text(text: str, spans: list[tuple[str, str]]) -> str:
    return JOIN.join(_cut(text, s, e) for s, e in spans)


# (Arabic sentences, Persian sentences, alignment type, differences as (lang, text, kind, note))
ROWS = [
    ([("نقلت وكالة رويترز", "الشهر الماضي.")], [("خبرگزاري رويترز به نقل", "اين موضوع ندارد.")], "1-1",
     [("fa", "اما مسکو مي گويد که اطلاعي درباره اين موضوع ندارد", "content", "Moscow's denial only in Persian")]),
    ([("وأطلق مسلحون", "مسؤوليته عنه.")], [("در مرگبارترين حمله", "رساندند."), ("گروه داعش مسئوليت", "گرفته است.")],
     "1-2", [("ar", "تنظيم الدولة الإسلامية", "entity", "fa: گروه داعش")]),
    ([("وقال أحد المصادر", 'في إيران".')], [("يکي از منابع که نخواست", "به دست آمده بود.»")], "1-1", []),
    ([("واعتقلت إيران في يناير", "بجنوب شرق البلاد."), ("وتسببا بمقتل", "في أفغانستان.")],
     [("وزارت اطلاعات ايران در ماه", "دستگير کرده است."), ("اين وزارتخانه در 19", "دستگير کرده است.")], "2-2",
     [("fa", "وزارت اطلاعات ايران", "attribution", "ar: إيران")]),
    ([("قال مصدر ثان", "والهدف الدقيق.")], [("منبع دوم که او هم", "هدف دقيق بوده است.")], "1-1", []),
    ([("وردا على سؤال", 'عن هذا".')], [("«دميتري پسکوف»", "دريافت نکرده بود."), ("پسکوف گفت:", "مطلع نيستم.")],
     "1-2", [("fa", "مسکو هيچ گونه اطلاعاتي مرتبط با تهديد امنيتي را پيش از اين حمله از ايران دريافت نکرده بود",
              "content", "the Kremlin's denial only in Persian")]),
    ([("شمل الهجومان", "من طاجيكستان.")], [("هر دو حمله کرمان", "انجام شده است.")], "1-1", []),
    ([("وقالت مصادر إن إيران", "مع طاجيكستان.")], [("منابع رويترز در اين گزارش", "در ميان گذاشته است.")], "1-1", []),
    ([("وأكد مصدر دبلوماسي", "الأنشطة المسلحة.")], [("يک منبع ديپلماتيک", "بحث کرده است.")], "1-1",
     [("ar", "تورط", "evaluative", "fa: حضور (presence)")]),
    ([("وقال مصدر ثالث", 'المعتقلين".')], [("منبع سوم، يک مقام", "عمل کردند.»")], "1-1", []),
]
AR = [_row_text(AR_TEXT, r[0]) for r in ROWS]
FA = [_row_text(FA_TEXT, r[1]) for r in ROWS]
TYPES = [r[2] for r in ROWS]
WITH_DIFFS = [bool(r[3]) for r in ROWS]
N = len(ROWS)


def _differences(row: tuple, texts: dict[str, str]) -> list[dict]:
    out = []
    for lang, text, kind, note in row[3]:
        start = texts[lang].index(text)
        out.append({"lang": lang, "start": start, "end": start + len(text), "text": text, "kind": kind, "note": note})
    return out


def write_dataset(root, ar: list[str] = AR, fa: list[str] = FA) -> None:
    rows = []
    for i, (row, a, f) in enumerate(zip(ROWS, ar, fa, strict=True)):
        n_ar, n_fa = map(int, row[2].split("-"))
        rows.append({"id": str(i), "story_id": "crocus-2024", "translation": {"ar": a, "fa": f},
                     "alignment_type": row[2], "score": 0.9,
                     "ar_ids": [f"002:{2 * i + k}" for k in range(n_ar)], "fa_ids": [f"004:{2 * i + k}" for k in range(n_fa)],
                     "differences": _differences(row, {"ar": a, "fa": f})})
    path = root / "pairs" / "test-00000-of-00001.parquet"
    path.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=pairs_schema(["fa", "ar"])), path)
    (root / "README.md").write_text("---\nconfigs: [pairs]\n---\n", "utf-8")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("ds") / "crocus"
    write_dataset(root)
    return root


# Two systems' Arabic output, made from the references by dropping words, so they score differently.
HYP_A = [" ".join(w for k, w in enumerate(r.split()) if k % 5 != 4) for r in AR]
HYP_B = [" ".join(r.split()[: 2 * len(r.split()) // 3]) for r in AR]


@pytest.fixture
def hyps(tmp_path):
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    a.write_text("\n".join(HYP_A) + "\n", "utf-8")
    b.write_text("\n".join(HYP_B) + "\n", "utf-8")
    return a, b


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def run_json(capsys, *argv: str) -> dict:
    code, out, err = run(capsys, *argv, "--json", "--quiet")
    assert code == 0, err
    return json.loads(out)


FAST = ("--bootstrap", "200", "--ar-trials", "200")


def _sig(metric, langpair: str = "fa-ar") -> str:
    sig = metric.get_signature()
    sig.update("lang", langpair)
    return sig.format()


# --- the fixture itself -------------------------------------------------------------------------


def test_fixture_rows_are_real_corresponding_sentences():
    """Texts are whole sentences of the seed articles, and facts both versions report sit in the same rows."""
    for a, f in zip(AR, FA, strict=True):
        assert a and f and "\n" not in a and "\n" not in f
        assert a[-1] in '."' and f[-1] in ".»"
    assert "144" in AR[1] and "144" in FA[1] and "22 مارس" in AR[1] and "22 مارس" in FA[1]
    assert "35" in AR[3] and "35" in FA[3] and "100" in AR[3] and "100" in FA[3]
    assert "بيسكوف" in AR[5] and "پسکوف" in FA[5]
    assert "طاجيكستان" in AR[7] and "تاجيکستان" in FA[7]
    assert len(set(TYPES)) == 3 and 0 < sum(WITH_DIFFS) < N


# --- figures equal sacrebleu's -----------------------------------------------------------------


def test_corpus_and_sentence_scores_equal_sacrebleu(dataset, hyps, tmp_path, capsys):
    a, b = hyps
    out_dir = tmp_path / "scores"
    report = run_json(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}", "--hyp", f"B={b}",
                      "-o", out_dir, *FAST)

    refs = [AR]
    for system, hyp in zip(report["systems"], (HYP_A, HYP_B), strict=True):
        bleu, chrf, chrfpp, ter = BLEU(), CHRF(), CHRF(word_order=2), TER()
        assert system["scores"] == {
            "BLEU": bleu.corpus_score(hyp, refs).score,
            "chrF2": chrf.corpus_score(hyp, refs).score,
            "chrF2++": chrfpp.corpus_score(hyp, refs).score,
            "TER": ter.corpus_score(hyp, refs).score,
        }
        assert system["scores"]["BLEU"] == sacrebleu.corpus_bleu(hyp, refs).score  # the compat API agrees
    assert report["signatures"] == {"BLEU": _sig(bleu), "chrF2": _sig(chrf), "chrF2++": _sig(chrfpp), "TER": _sig(ter)}
    assert "tok:13a" in report["signatures"]["BLEU"]
    assert [s["name"] for s in report["systems"]] == ["A", "B"] and report["baseline"] == "A"
    assert 0 < report["systems"][0]["scores"]["BLEU"] != report["systems"][1]["scores"]["BLEU"] < 100

    # sentence scores, one line per segment and system, in the dataset's order
    lines = (out_dir / "sentence_scores.tsv").read_text("utf-8").splitlines()
    header = lines[0].split("\t")
    assert header == ["id", "story_id", "alignment_type", "differences", "system", "BLEU", "chrF2", "chrF2++", "TER"]
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]
    assert [(r["system"], r["id"]) for r in rows] == [(s, str(i)) for s in "AB" for i in range(N)]
    for r in rows:
        i = int(r["id"])
        hyp, ref = (HYP_A if r["system"] == "A" else HYP_B)[i], AR[i]
        assert r["alignment_type"] == TYPES[i] and r["differences"] == ("yes" if WITH_DIFFS[i] else "no")
        assert float(r["BLEU"]) == sacrebleu.sentence_bleu(hyp, [ref]).score
        assert float(r["chrF2"]) == sacrebleu.sentence_chrf(hyp, [ref]).score
        assert float(r["chrF2++"]) == CHRF(word_order=2).sentence_score(hyp, [ref]).score
        assert float(r["TER"]) == sacrebleu.sentence_ter(hyp, [ref]).score
    assert len({r["BLEU"] for r in rows}) > 2  # the figures really vary by segment
    assert json.loads((out_dir / "scores.json").read_text("utf-8"))["systems"] == report["systems"]
    assert sorted(p.name for p in out_dir.iterdir()) == ["scores.json", "sentence_scores.tsv"]


def test_breakdowns_are_sacrebleu_on_the_subsets(dataset, hyps, capsys):
    a, b = hyps
    report = run_json(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}", "--hyp", f"B={b}",
                      "--bootstrap", "0", "--ar-trials", "0")
    groups = {(g["by"], g["value"]): g for g in report["breakdowns"]}
    expected_keys = {("alignment_type", t) for t in TYPES} | {("differences", "with"), ("differences", "without")}
    assert set(groups) == expected_keys
    assert [g["value"] for g in report["breakdowns"] if g["by"] == "alignment_type"] == ["1-1", "1-2", "2-2"]
    for (by, value), g in groups.items():
        idx = [i for i in range(N) if (TYPES[i] == value if by == "alignment_type" else WITH_DIFFS[i] == (value == "with"))]
        assert g["segments"] == len(idx)
        for name, hyp in (("A", HYP_A), ("B", HYP_B)):
            sub_h, sub_r = [hyp[i] for i in idx], [[AR[i] for i in idx]]
            assert g["scores"][name] == {"BLEU": BLEU().corpus_score(sub_h, sub_r).score,
                                         "chrF2": CHRF().corpus_score(sub_h, sub_r).score,
                                         "chrF2++": CHRF(word_order=2).corpus_score(sub_h, sub_r).score,
                                         "TER": TER().corpus_score(sub_h, sub_r).score}
    assert report["significance"] == {} and report["systems"][1]["bootstrap"] is None
    assert any("diverging segments" in n and "least trustworthy" in n for n in report["notes"])


def test_perfect_hypothesis_scores_100_both_ways(dataset, tmp_path, capsys):
    """export-sources writes a side of pairs in order; that side, scored as a hypothesis, is perfect."""
    for src, tgt, texts in (("fa", "ar", AR), ("ar", "fa", FA)):
        ref_file = tmp_path / f"{tgt}.txt"
        code, out, err = run(capsys, "export-sources", dataset, "--lang", tgt, "-o", ref_file)
        assert code == 0, err
        assert ref_file.read_text("utf-8") == "".join(t + "\n" for t in texts)
        report = run_json(capsys, "eval-mt", dataset, "--src", src, "--tgt", tgt, "--hyp", f"ref={ref_file}", *FAST)
        [system] = report["systems"]
        assert system["scores"] == pytest.approx({"BLEU": 100.0, "chrF2": 100.0, "chrF2++": 100.0, "TER": 0.0}, abs=1e-9)
        assert system["bootstrap"]["BLEU"]["mean"] == pytest.approx(100.0, abs=1e-4)  # float32 in the resampling
        assert system["bootstrap"]["BLEU"]["p_value"] is None
        assert report["systems"][0]["approximate_randomization"] is None  # one system: nothing to compare
    code, out, _ = run(capsys, "export-sources", dataset, "--lang", "fa")
    assert code == 0 and out.splitlines() == FA


def test_export_sources_matches_what_datasets_reads(dataset, tmp_path, capsys, monkeypatch):
    """The README's claim: the same column, in the same order, through the `datasets` library."""
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf"))
    from datasets import load_dataset

    rows = load_dataset("parquet", data_files={"test": str(dataset / "pairs" / "test-00000-of-00001.parquet")}, split="test")
    assert main(["export-sources", str(dataset), "--lang", "fa"]) == 0
    assert capsys.readouterr().out.splitlines() == [r["fa"] for r in rows["translation"]] == FA


def test_line_breaks_inside_a_text_do_not_add_lines(tmp_path):
    texts = ["a\nb", "c\u2028d", "", "e\r\nf", "g"]
    path = tmp_path / "x.txt"
    path.write_text(format_lines(texts), "utf-8")
    assert read_lines(path) == ["a b", "c d", "", "e f", "g"]
    path.write_bytes(b"\xef\xbb\xbfone\r\ntwo")  # BOM, CRLF, no final newline
    assert read_lines(path) == ["one", "two"]


def test_spm_tokenised_bleu_is_sentencepiece_then_sacrebleu(dataset, hyps, tmp_path, capsys):
    """sacrebleu cannot load a local spm file, so pieces come from sentencepiece and BLEU uses tokenize=none."""
    import sentencepiece as spm

    a, _ = hyps
    spm.SentencePieceTrainer.train(sentence_iterator=iter([*AR_TEXT.splitlines(), *FA_TEXT.splitlines()]),
                                   model_prefix=str(tmp_path / "sp"), vocab_size=300, model_type="unigram",
                                   character_coverage=1.0, minloglevel=2)
    model = tmp_path / "sp.model"
    report = run_json(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}",
                      "--tokenize", "spm", "--spm-model", model, *FAST)

    sp = spm.SentencePieceProcessor(model_file=str(model))
    piece = lambda s: " ".join(sp.encode(s, out_type=str))  # noqa: E731
    expected = BLEU(tokenize="none").corpus_score([piece(h) for h in HYP_A], [[piece(r) for r in AR]]).score
    [system] = report["systems"]
    assert system["scores"]["BLEU"] == expected
    assert expected != BLEU().corpus_score(HYP_A, [AR]).score  # the tokenisation really changed the figure
    assert system["scores"]["chrF2"] == CHRF().corpus_score(HYP_A, [AR]).score  # chrF has no tokenizer
    assert re.search(r"tok:spm-local\[sp\.model@[0-9a-f]{12}\]", report["signatures"]["BLEU"])
    assert any("sentencepiece" in n and "tokenize=none" in n for n in report["notes"])


# --- significance --------------------------------------------------------------------------------


def test_paired_tests_reproduce_with_a_seed_and_equal_sacrebleus(dataset, hyps, capsys, monkeypatch):
    a, b = hyps
    argv = ("eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}", "--hyp", f"B={b}", *FAST)
    first = run_json(capsys, *argv, "--seed", "7")
    again = run_json(capsys, *argv, "--seed", "7")
    other = run_json(capsys, *argv, "--seed", "8")

    assert first["systems"] == again["systems"]
    bs = first["significance"]["bootstrap"]
    assert (bs["samples"], bs["seed"]) == (200, 7)
    assert "|seed:7|" in bs["signatures"]["BLEU"] and "|bs:200|" in bs["signatures"]["BLEU"]
    assert first["systems"][1]["bootstrap"] != other["systems"][1]["bootstrap"]

    # The same test run straight through sacrebleu with the same seed gives the same numbers.
    for test, key in (("bs", "bootstrap"), ("ar", "approximate_randomization")):
        monkeypatch.setenv("SACREBLEU_SEED", "7")
        metrics = {"BLEU": BLEU(), "chrF2": CHRF(), "chrF2++": CHRF(word_order=2), "TER": TER()}
        _, scores = PairedTest([("A", HYP_A), ("B", HYP_B)], metrics, [AR], test_type=test, n_samples=200)()
        for metric in ("BLEU", "chrF2", "chrF2++", "TER"):
            base, sys_b = scores[metric]
            got_a, got_b = first["systems"][0][key], first["systems"][1][key]
            assert got_b[metric]["p_value"] == sys_b.p_value
            assert 0 < sys_b.p_value <= 1
            if test == "bs":
                assert (got_a[metric]["mean"], got_a[metric]["ci"]) == (base.mean, base.ci)
                assert (got_b[metric]["mean"], got_b[metric]["ci"]) == (sys_b.mean, sys_b.ci)
                assert got_a[metric]["p_value"] is None and got_b[metric]["ci"] > 0


# --- COMET -------------------------------------------------------------------------------------


def test_comet_is_skipped_with_a_reason_when_not_installed(dataset, hyps, tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "comet", None)  # what find_spec reports for a package that is absent
    a, _ = hyps
    code, out, err = run(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}", *FAST)
    assert code == 0, err
    assert "COMET skipped: unbabel-comet is not installed" in out
    assert "COMET" not in out.splitlines()[1]  # no COMET column in the score table

    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(b"x")
    report = run_json(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}",
                      "--comet", ckpt, *FAST)
    assert report["comet"]["used"] is False
    assert report["comet"]["reason"].startswith("COMET skipped: unbabel-comet is not installed")
    assert str(ckpt) in report["comet"]["reason"] and "COMET" not in report["metrics"]
    assert report["systems"][0]["comet"] is None
    # a checkpoint that does not exist is an error whether COMET is installed or not (a typo)
    code, out, err = run(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}",
                         "--comet", tmp_path / "nope.ckpt", *FAST)
    assert code == 2 and err == f"diptych: error: {tmp_path / 'nope.ckpt'}: no such COMET checkpoint file\n"


def _fake_comet(monkeypatch, calls: list):
    """A stand-in `comet` package: records what it is given, scores a segment by its length."""
    module = types.ModuleType("comet")
    module.__spec__ = importlib.machinery.ModuleSpec("comet", None)

    class Model:
        def predict(self, data, batch_size, gpus, progress_bar):
            calls.append(data)
            scores = [len(d["mt"]) / 1000 for d in data]
            return types.SimpleNamespace(scores=scores, system_score=sum(scores) / len(scores))

    module.load_from_checkpoint = lambda path: calls.append(path) or Model()
    monkeypatch.setitem(sys.modules, "comet", module)


def test_comet_with_a_checkpoint_and_without_one(dataset, hyps, tmp_path, capsys, monkeypatch):
    calls: list = []
    _fake_comet(monkeypatch, calls)
    a, b = hyps
    report = run_json(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}", *FAST)
    assert report["comet"]["used"] is False and "no checkpoint given" in report["comet"]["reason"]
    assert calls == []

    ckpt = tmp_path / "model.ckpt"
    ckpt.write_bytes(b"x")
    out_dir = tmp_path / "o"
    report = run_json(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}", "--hyp", f"B={b}",
                      "--comet", ckpt, "-o", out_dir, *FAST)
    assert calls[0] == str(ckpt) and len(calls) == 3  # loaded once, then one predict per system
    assert calls[1] == [{"src": f, "mt": h, "ref": r} for f, h, r in zip(FA, HYP_A, AR, strict=True)]
    assert report["metrics"][-1] == "COMET"
    assert report["systems"][1]["comet"] == pytest.approx(sum(len(h) for h in HYP_B) / 1000 / N)
    diffs = next(g for g in report["breakdowns"] if g["value"] == "with")
    assert diffs["scores"]["A"]["COMET"] == pytest.approx(
        sum(len(HYP_A[i]) for i in range(N) if WITH_DIFFS[i]) / 1000 / sum(WITH_DIFFS))
    assert (out_dir / "sentence_scores.tsv").read_text("utf-8").splitlines()[0].endswith("\tTER\tCOMET")


# --- output formats ----------------------------------------------------------------------------


def test_text_table(dataset, hyps, capsys):
    a, b = hyps
    code, out, err = run(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}",
                         "--hyp", f"B={b}", "--quiet", *FAST)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0].startswith(f"fa->ar: {N} segments of ")
    assert lines[1].split() == ["System", "BLEU", "chrF2", "chrF2++", "TER"]
    bleu_a = BLEU().corpus_score(HYP_A, [AR]).score
    assert lines[3].split()[:2] == ["A", f"{bleu_a:.1f}"]
    assert "Paired tests against A" in out and "Breakdowns" in out and "|tok:13a|" in out
    assert "diverging segments" in out and "COMET skipped" in out


def test_markdown_and_latex_tables(dataset, hyps, tmp_path, capsys):
    a, b = hyps
    argv = ("eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"sys_a={a}", "--hyp", f"B|2={b}", "--quiet", *FAST)

    code, md, _ = run(capsys, *argv, "--format", "markdown")
    assert code == 0
    tables = [[line for line in block.splitlines() if line.startswith("|")] for block in md.split("\n\n")]
    tables = [t for t in tables if t]
    assert len(tables) == 3  # scores, paired tests, breakdowns
    scores = tables[0]
    assert scores[0] == "| System | BLEU | chrF2 | chrF2++ | TER |"
    assert scores[1] == "|:---|---:|---:|---:|---:|"
    assert [r.split(" | ")[0] for r in scores[2:]] == ["| sys_a", "| B\\|2"]
    for t in tables:
        widths = {len(re.split(r"(?<!\\)\|", row)) for row in t}
        assert len(widths) == 1  # every row has the header's number of cells
    assert len(tables[1]) == 2 + 2 * 4 and len(tables[2]) == 2 + 2 * 5  # systems x metrics; systems x subsets

    code, tex, _ = run(capsys, *argv, "--format", "latex", "-o", tmp_path / "o")
    assert code == 0
    assert tex.count(r"\begin{tabular}") == tex.count(r"\end{tabular}") == 3
    assert r"\begin{tabular}{lrrrr}" in tex and r"\toprule" in tex and r"\bottomrule" in tex
    assert r"System & BLEU & chrF2 & chrF2++ & TER \\" in tex
    assert r"sys\_a & " in tex and "sys_a" not in tex.replace(r"sys\_a", "")
    body = [line for line in tex.splitlines() if line.endswith(r"\\")]
    assert all(line.count(" & ") == body[0].count(" & ") for line in body[:3])
    assert all(line.startswith("%") for line in tex.split(r"\begin{table}")[0].strip().splitlines())
    assert (tmp_path / "o" / "scores.tex").read_text("utf-8") == tex


def test_json_shape(dataset, hyps, capsys):
    a, b = hyps
    report = run_json(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"A={a}", "--hyp", f"B={b}", *FAST)
    assert {"dataset", "src", "tgt", "segments", "metrics", "signatures", "sentence_signatures", "baseline", "seed",
            "systems", "significance", "breakdowns", "comet", "notes"} <= report.keys()
    assert (report["src"], report["tgt"], report["segments"], report["seed"]) == ("fa", "ar", N, 12345)
    assert report["metrics"] == ["BLEU", "chrF2", "chrF2++", "TER"]
    assert "eff:yes" in report["sentence_signatures"]["BLEU"] and "eff:no" in report["signatures"]["BLEU"]
    assert set(report["significance"]) == {"bootstrap", "approximate_randomization"}
    for s in report["systems"]:
        assert {"name", "origin", "scores", "comet", "bootstrap", "approximate_randomization"} <= s.keys()
        assert set(s["bootstrap"]["BLEU"]) == {"score", "p_value", "mean", "ci"}
    assert report["systems"][0]["origin"] == f"file:{a}"


# --- bad input: one line, exit 2 ---------------------------------------------------------------


def _one_line_error(capsys, argv) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 2, (out, err)
    assert err.startswith("diptych: error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


def test_wrong_number_of_lines_names_both_counts_and_the_file(dataset, tmp_path, capsys):
    short = tmp_path / "short.txt"
    short.write_text("\n".join(HYP_A[:-1]) + "\n", "utf-8")
    err = _one_line_error(capsys, ["eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"S={short}"])
    assert err.startswith(f"diptych: error: {short}: has {N - 1} lines but ")
    assert f"has {N} rows" in err and str(dataset) in err


@pytest.mark.parametrize("case", ["no-dir", "not-dataset", "bad-src", "same-lang", "no-hyp-file", "not-utf8",
                                  "no-system", "dup-name", "model-without-o", "spm-without-model", "missing-spm",
                                  "seed-0", "bad-model", "export-bad-lang", "taken-output"])
def test_bad_input_is_one_line(case, dataset, hyps, tmp_path, capsys):
    a, _ = hyps
    base = ["eval-mt", dataset, "--src", "fa", "--tgt", "ar"]
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("é\n".encode("latin-1") * N)
    empty_model = tmp_path / "empty-model"
    empty_model.mkdir()
    (tmp_path / "taken").mkdir()
    argv, expect = {
        "no-dir": (["eval-mt", tmp_path / "nope", "--src", "fa", "--tgt", "ar", "--hyp", a], f"{tmp_path / 'nope'}: no such dataset folder"),
        "not-dataset": (["eval-mt", tmp_path, "--src", "fa", "--tgt", "ar", "--hyp", a], "not a diptych dataset"),
        "bad-src": (["eval-mt", dataset, "--src", "de", "--tgt", "ar", "--hyp", a], "no language 'de' in pairs; it has ar, fa"),
        "same-lang": (["eval-mt", dataset, "--src", "ar", "--tgt", "ar", "--hyp", a], "both 'ar'"),
        "no-hyp-file": ([*base, "--hyp", f"X={tmp_path / 'missing.txt'}"], f"{tmp_path / 'missing.txt'}: no such file"),
        "not-utf8": ([*base, "--hyp", f"X={latin1}"], f"{latin1}: not UTF-8 (byte 0xe9 at offset 0)"),
        "no-system": (base, "nothing to score"),
        "dup-name": ([*base, "--hyp", f"X={a}", "--hyp", f"X={a}"], "two systems are named 'X'"),
        "model-without-o": ([*base, "--model", "transformers:whatever"], "needs -o DIR"),
        "spm-without-model": ([*base, "--hyp", a, "--tokenize", "spm"], "--tokenize spm needs --spm-model"),
        "missing-spm": ([*base, "--hyp", a, "--spm-model", tmp_path / "no.model"], f"{tmp_path / 'no.model'}: no such file"),
        "seed-0": ([*base, "--hyp", a, "--seed", "0"], "argument --seed: 0: must be at least 1"),
        "bad-model": ([*base, "--model", f"transformers:{empty_model}", "-o", tmp_path / "out", "--quiet"],
                      f"transformers:{empty_model}: {empty_model} is not a model folder"),
        "export-bad-lang": (["export-sources", dataset, "--lang", "en"], "no language 'en' in pairs"),
        "taken-output": ([*base, "--hyp", a, "-o", tmp_path / "taken"], "already exists; pass --overwrite"),
    }[case]
    err = _one_line_error(capsys, argv)
    assert expect in err
    if case == "bad-model":
        assert not (tmp_path / "out").exists()  # nothing half-written


# --- a real (tiny, random) model end to end -----------------------------------------------------


def test_model_translations_are_saved_and_are_what_was_scored(nllb_dir, dataset, tmp_path, capsys, monkeypatch):
    """`--model transformers:<dir>`: the saved translations, rescored as a --hyp file, give the same figures."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny model on a busy machine: thread pools only slow it down
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    try:
        out_dir = tmp_path / "run"
        code, out, err = run(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--model", f"tiny=transformers:{nllb_dir}",
                             "-o", out_dir, "--json", *FAST)
    finally:
        torch.set_num_threads(threads)
    assert code == 0, err
    report = json.loads(out)
    assert f"translated {N} of {N} distinct sources" in err  # progress and counts go to stderr, not into the JSON
    saved = out_dir / "translations" / "tiny.ar.txt"
    lines = read_lines(saved)
    assert len(lines) == N and all(isinstance(t, str) for t in lines) and len(set(lines)) > 1
    assert not any("arb_Arab" in t or "pes_Arab" in t for t in lines)
    [system] = report["systems"]
    assert system["name"] == "tiny" and system["origin"] == f"model:transformers:{nllb_dir}"
    assert system["scores"]["chrF2"] == CHRF().corpus_score(lines, [AR]).score

    rescored = run_json(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", f"tiny={saved}", *FAST)
    assert rescored["systems"][0]["scores"] == system["scores"]
    assert rescored["systems"][0]["bootstrap"] == system["bootstrap"]
    assert rescored["breakdowns"] == report["breakdowns"]

    # a second run reads the translation cache: nothing is translated again, the figures are the same
    code, out, err = run(capsys, "eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--model", f"tiny=transformers:{nllb_dir}",
                         "-o", out_dir, "--overwrite", "--json", *FAST)
    assert code == 0 and f"translated 0 of {N}" in err
    assert json.loads(out)["systems"][0]["scores"] == system["scores"]



@pytest.mark.parametrize("option, value, most", [("--bootstrap", "10001", "10000"), ("--ar-trials", "100001", "100000")])
def test_resamples_and_trials_have_an_upper_bound(option, value, most, dataset, hyps, tmp_path, capsys):
    a, b = hyps
    out_dir = tmp_path / "out"
    err = _one_line_error(capsys, ["eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", a, "--hyp", b,
                                   option, value, "-o", out_dir, "--quiet"])
    assert f"argument {option}: {value}: must be between 0 and {most}" in err
    assert not out_dir.exists()
    code, out, _ = run(capsys, "eval-mt", "--help")
    assert code == 0 and f"at most {int(most):,}" in " ".join(out.split())


def test_running_out_of_memory_is_a_one_line_error(dataset, hyps, tmp_path, capsys, monkeypatch):
    import mteval.evaluate

    def no_memory(*args, **kwargs):  # what numpy raises (its ArrayMemoryError is a MemoryError)
        raise MemoryError("Unable to allocate 78.2 GiB for an array with shape (100000000, 21, 10)")

    monkeypatch.setattr(mteval.evaluate, "paired_test", no_memory)
    a, b = hyps
    out_dir = tmp_path / "out"
    err = _one_line_error(capsys, ["eval-mt", dataset, "--src", "fa", "--tgt", "ar", "--hyp", a, "--hyp", b,
                                   "-o", out_dir, "--quiet"])
    assert err.startswith(f"diptych: error: {dataset}: out of memory while scoring (--bootstrap 1000, --ar-trials 10000)")
    assert not out_dir.exists() and not list(tmp_path.glob("*.partial"))
