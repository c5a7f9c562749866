"""Machine translation behind one interface, chosen by a spec string.

* ``transformers:<hub id or path>``: any seq2seq model. Language codes are
  handled by model family: NLLB-200 (``pes_Arab``), M2M100 (``fa``), mBART-50
  (``fa_IR``), MADLAD-400 and other T5 models with ``<2xx>`` tokens, and
  multi-target Marian (``>>ara<<``); a single-pair Marian model needs none.
* ``ctranslate2:<converted model dir>``: the same families, through
  CTranslate2 (the folder must also hold the tokenizer files, as
  ``ct2-transformers-converter --copy_files`` leaves them).
* Precomputed: a file line-parallel to the source (``--translations``), the
  Bleualign convention; see :func:`read_translations`.

:class:`CachingTranslator` adds the on-disk cache keyed by model, language
pair and text. Both model paths need the ``mt`` extra (torch, transformers).
"""

from __future__ import annotations

import sys
import tomllib
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Protocol

from corpus.errors import CorpusError

from .cache import TranslationCache, load_model, model_fingerprint, run_model


class Translator(Protocol):
    spec: str
    signature: str

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]: ...


@lru_cache(maxsize=1)
def _codes() -> dict[str, dict[str, str]]:
    return tomllib.loads(resources.files("align").joinpath("resources/langcodes.toml").read_text("utf-8"))


def model_code(lang: str, scheme: str) -> str:
    """``fa`` -> ``pes_Arab`` (nllb), ``pes`` (iso3), ``fa_IR`` (mbart); an unknown language is an error."""
    row = _codes().get(lang)
    if not row or scheme not in row:
        raise ValueError(f"no {scheme} code for language {lang!r}; add it to align/resources/langcodes.toml")
    return row[scheme]


class _Conventions:
    """How one tokenizer wants the language pair said: source code, forced first target token, or a prefix."""

    def __init__(self, tokenizer):
        self.tok = tokenizer
        vocab = tokenizer.get_vocab()
        name = type(tokenizer).__name__
        if "Nllb" in name:
            self.family = "nllb"
        elif "M2M100" in name:
            self.family = "m2m100"
        elif "MBart" in name and hasattr(tokenizer, "lang_code_to_id"):
            self.family = "mbart"
        elif any(t.startswith("<2") and t.endswith(">") for t in list(vocab)[:5000]) or "<2ar>" in vocab:
            self.family = "t5-2xx"
        elif any(t.startswith(">>") and t.endswith("<<") for t in vocab):
            self.family = "marian-multi"
        else:
            self.family = "plain"

    def prepare(self, src: str, tgt: str) -> tuple[str, str | None]:
        """Set the tokenizer's source language; return the source prefix and the forced first target token."""
        self.set_source(src)
        return self.source_prefix(tgt), self.target_token(tgt)

    def source_prefix(self, tgt: str) -> str:
        if self.family == "t5-2xx":
            return f"<2{tgt}> "
        if self.family == "marian-multi":
            return f">>{model_code(tgt, 'iso3')}<< "
        return ""

    def set_source(self, src: str) -> None:
        if self.family == "nllb":
            self.tok.src_lang = model_code(src, "nllb")
        elif self.family == "m2m100":
            self.tok.src_lang = src
        elif self.family == "mbart":
            self.tok.src_lang = model_code(src, "mbart")

    def target_token(self, tgt: str) -> str | None:
        if self.family == "nllb":
            return model_code(tgt, "nllb")
        if self.family == "m2m100":
            return f"__{tgt}__"
        if self.family == "mbart":
            return model_code(tgt, "mbart")
        return None


_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "sentencepiece.bpe.model", "spiece.model",
                    "source.spm", "vocab.json", "vocab.txt")


def _tokenizer(auto, arg: str, kind: str):
    """The model's tokenizer; a local folder saved without one (``model.save_pretrained`` alone) is
    said so, not left to fail inside transformers on a missing file name (a TypeError about None)."""
    folder = Path(arg)
    if folder.is_dir() and not any((folder / f).is_file() for f in _TOKENIZER_FILES):
        raise CorpusError(f"{kind}:{arg}", "has no tokenizer files (tokenizer.json, tokenizer_config.json, a "
                          "sentencepiece model ...); save the tokenizer into the model's folder "
                          "(tokenizer.save_pretrained)")
    return auto.from_pretrained(arg)


class TransformersTranslator:
    """A Hugging Face seq2seq model (NLLB, M2M100, mBART, Marian, MADLAD, ...)."""

    def __init__(self, arg: str | None, device: str | None = None, batch_size: int = 16,
                 num_beams: int = 4, max_new_tokens: int = 256):
        if not arg:
            raise ValueError("transformers needs a model: transformers:<hub id or path>")
        try:
            import torch
            import transformers
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        except ImportError:
            raise ImportError("the transformers translator needs: pip install 'diptych[mt]'") from None
        self.torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.tokenizer = _tokenizer(AutoTokenizer, arg, "transformers")
        self.model = AutoModelForSeq2SeqLM.from_pretrained(arg).to(self.device).eval()
        self.conv = _Conventions(self.tokenizer)
        self.batch_size, self.num_beams, self.max_new_tokens = batch_size, num_beams, max_new_tokens
        self.spec = f"transformers:{arg}"
        self.signature = (f"transformers=={transformers.__version__}/{arg}/{model_fingerprint(arg)}/"
                          f"beams={num_beams}/max_new_tokens={max_new_tokens}")

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        prefix, target = self.conv.prepare(src_lang, tgt_lang)
        kwargs = {}
        if target is not None:
            kwargs["forced_bos_token_id"] = self.tokenizer.convert_tokens_to_ids(target)
        out: list[str] = []
        for k in range(0, len(texts), self.batch_size):
            batch = [prefix + t for t in texts[k : k + self.batch_size]]
            enc = self.tokenizer(batch, return_tensors="pt", padding=True, truncation=True).to(self.device)
            with self.torch.inference_mode():
                gen = self.model.generate(**enc, num_beams=self.num_beams, max_new_tokens=self.max_new_tokens, **kwargs)
            out.extend(self.tokenizer.batch_decode(gen, skip_special_tokens=True))
        return [o.strip() for o in out]


class CTranslate2Translator:
    """A model converted with ``ct2-transformers-converter``, tokenizer files beside it."""

    def __init__(self, arg: str | None, device: str | None = None, batch_size: int = 16,
                 beam_size: int = 4, max_decoding_length: int = 256):
        if not arg:
            raise ValueError("ctranslate2 needs a converted model folder: ctranslate2:<path>")
        try:
            import ctranslate2
            from transformers import AutoTokenizer
        except ImportError:
            raise ImportError("the ctranslate2 translator needs: pip install 'diptych[mt]' ctranslate2") from None
        device = device or ("cuda" if ctranslate2.get_cuda_device_count() > 0 else "cpu")
        self.translator = ctranslate2.Translator(arg, device=device)
        self.tokenizer = _tokenizer(AutoTokenizer, arg, "ctranslate2")
        self.conv = _Conventions(self.tokenizer)
        self.batch_size, self.beam_size, self.max_len = batch_size, beam_size, max_decoding_length
        self.spec = f"ctranslate2:{arg}"
        self.signature = (f"ctranslate2=={ctranslate2.__version__}/{arg}/{model_fingerprint(arg)}/"
                          f"beam={beam_size}/max_len={max_decoding_length}")

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        prefix, target = self.conv.prepare(src_lang, tgt_lang)
        sources = [self.tokenizer.convert_ids_to_tokens(self.tokenizer.encode(prefix + t)) for t in texts]
        results = self.translator.translate_batch(
            sources, target_prefix=[[target]] * len(sources) if target else None,
            beam_size=self.beam_size, max_batch_size=self.batch_size, max_decoding_length=self.max_len)
        out = []
        for r in results:
            tokens = r.hypotheses[0]
            if target and tokens[:1] == [target]:
                tokens = tokens[1:]
            out.append(self.tokenizer.decode(self.tokenizer.convert_tokens_to_ids(tokens), skip_special_tokens=True).strip())
        return out


TRANSLATORS: dict[str, Callable[[str | None], Translator]] = {
    "transformers": TransformersTranslator,
    "ctranslate2": CTranslate2Translator,
}


def get_translator(spec: str) -> Translator:
    name, _, arg = spec.partition(":")
    if name not in TRANSLATORS:
        raise ValueError(f"unknown translator {name!r}; known: {', '.join(TRANSLATORS)}")
    return load_model(spec, lambda: TRANSLATORS[name](arg or None))


class CachingTranslator:
    """Translates each distinct sentence once per model and language pair, remembering it on disk."""

    def __init__(self, translator: Translator, cache: TranslationCache | None = None,
                 progress: bool = False, chunk: int = 64):
        self.translator, self.cache, self.progress, self.chunk = translator, cache, progress, chunk
        self.translated = 0

    @property
    def signature(self) -> str:
        return self.translator.signature

    def translate(self, texts: Sequence[str], src_lang: str, tgt_lang: str) -> list[str]:
        sig = f"{self.signature}/{src_lang}->{tgt_lang}"
        memo: dict[str, str] = self.cache.get(sig, list(dict.fromkeys(texts))) if self.cache else {}
        todo = [t for t in dict.fromkeys(texts) if t not in memo]
        bar = None
        if todo and self.progress:
            from tqdm import tqdm

            bar = tqdm(total=len(todo), desc=f"translating {src_lang}->{tgt_lang}", unit="sent", file=sys.stderr, leave=False)
        for k in range(0, len(todo), self.chunk):
            batch = todo[k : k + self.chunk]
            out = run_model(getattr(self.translator, "spec", self.signature), self.translator.translate, batch,
                            src_lang, tgt_lang)
            new = dict(zip(batch, out))
            memo.update(new)
            if self.cache:
                self.cache.put(sig, new)
            self.translated += len(batch)
            if bar:
                bar.update(len(batch))
        if bar:
            bar.close()
        return [memo[t] for t in texts]


def read_translations(path: str | Path, n_source: int) -> list[str]:
    """A precomputed translation file, line-parallel to the source sentences."""
    from corpus.documents import read_lines

    lines = read_lines(path)  # split on newlines only: a translation may hold U+2028 and the like
    if len(lines) != n_source:
        raise CorpusError(path, f"has {len(lines)} lines but the source has {n_source} sentences; "
                                "translations must be line-parallel to the source")
    return lines
