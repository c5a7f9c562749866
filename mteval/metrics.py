"""BLEU, chrF, chrF++ and TER through sacrebleu's API, with their signatures.

Nothing is reimplemented: each metric is a sacrebleu ``Metric`` object, so the
figures and signatures are the ones ``sacrebleu`` itself prints.

SentencePiece BLEU: sacrebleu's own ``spm``/``flores200`` tokenizers load their
model only from ``$SACREBLEU/models/<name of the download URL>`` and download
it when absent, so they cannot be pointed at a local file. Given
``--spm-model PATH``, BLEU is instead built with ``tokenize="none"`` and each
segment is split into pieces by the ``sentencepiece`` package with that model
before sacrebleu counts n-grams; the signature's ``tok`` field then reads
``spm-local[<file name>@<sha256 prefix>]`` so a figure is never mistaken for
sacrebleu's flores200 spBLEU.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sacrebleu.metrics import BLEU, CHRF, TER
from sacrebleu.metrics.base import Metric

from corpus.errors import CorpusError

# Score names as sacrebleu gives them (Score.name); the keys of every result.
METRICS = ("BLEU", "chrF2", "chrF2++", "TER")
LOWER_IS_BETTER = frozenset({"TER"})
# sacrebleu tokenizers that need nothing downloaded or installed beyond sacrebleu.
TOKENIZERS = ("13a", "intl", "char", "none")


@lru_cache(maxsize=4)
def _load_spm(path: Path, size: int, mtime_ns: int):  # noqa: ANN202 - size and mtime key the cache
    """A SentencePiece processor and the file's sha256, loaded once per file version."""
    import sentencepiece as spm

    from corpus.documents import read_bytes

    data = read_bytes(path, limit=256 * 1024 * 1024)
    sp = spm.SentencePieceProcessor()
    try:
        sp.LoadFromSerializedProto(data)
    except (RuntimeError, OSError, TypeError) as e:
        raise CorpusError(path, f"not a SentencePiece model ({e})") from None
    return sp, hashlib.sha256(data).hexdigest()


class LocalSpmTokenizer:
    """A SentencePiece model file as a sacrebleu tokenizer (a callable with a ``signature``)."""

    def __init__(self, model_path: str | Path):
        path = Path(model_path)
        if not path.is_file():
            raise CorpusError(path, "no such file (a SentencePiece .model file)")
        st = path.stat()
        self.sp, self.sha256 = _load_spm(path.resolve(), st.st_size, st.st_mtime_ns)
        self.path = path
        # `|` and `:` separate a signature's fields, so a file name keeps neither.
        self.name = re.sub(r"[^A-Za-z0-9._-]", "_", path.name)
        self._memo: dict[str, str] = {}

    def signature(self) -> str:
        return f"spm-local[{self.name}@{self.sha256[:12]}]"

    def __call__(self, line: str) -> str:
        out = self._memo.get(line)
        if out is None:
            out = self._memo[line] = " ".join(self.sp.EncodeAsPieces(line))
        return out


@dataclass(frozen=True)
class MetricConfig:
    """How to build the metrics; one config gives fresh, identical metric objects on every call."""

    tokenize: str = "13a"
    spm_model: Path | None = None

    def __post_init__(self) -> None:
        if self.tokenize == "spm":
            if self.spm_model is None:
                raise CorpusError(None, "--tokenize spm needs --spm-model PATH (a local SentencePiece .model file; "
                                        "sacrebleu's flores200 model cannot be downloaded here)")
            LocalSpmTokenizer(self.spm_model)  # a missing or broken file fails now, before any scoring
        elif self.tokenize not in TOKENIZERS:
            raise CorpusError(None, f"unknown BLEU tokenizer {self.tokenize!r}; use one of "
                                    f"{', '.join((*TOKENIZERS, 'spm'))}")
        elif self.spm_model is not None:
            raise CorpusError(None, f"--spm-model goes with --tokenize spm, not {self.tokenize}")

    def bleu(self, *, sentence: bool = False) -> BLEU:
        """Corpus BLEU, or sentence BLEU with effective order (sacrebleu's advice for single sentences)."""
        if self.tokenize != "spm":
            return BLEU(tokenize=self.tokenize, effective_order=sentence)
        bleu = BLEU(tokenize="none", effective_order=sentence)
        bleu.tokenizer = LocalSpmTokenizer(self.spm_model)
        bleu.tokenizer_signature = bleu.tokenizer.signature()  # what BLEUSignature reports as `tok`
        return bleu

    def corpus_metrics(self) -> dict[str, Metric]:
        return {"BLEU": self.bleu(), "chrF2": CHRF(), "chrF2++": CHRF(word_order=2), "TER": TER()}

    def sentence_metrics(self) -> dict[str, Metric]:
        return {"BLEU": self.bleu(sentence=True), "chrF2": CHRF(), "chrF2++": CHRF(word_order=2), "TER": TER()}

    def describe(self) -> str | None:
        """A note for the report when BLEU's tokenisation is not sacrebleu's own."""
        if self.tokenize != "spm":
            return None
        tok = LocalSpmTokenizer(self.spm_model)
        return (f"BLEU tokenised with the sentencepiece package and {self.spm_model} (sha256 {tok.sha256}), "
                "then scored by sacrebleu with tokenize=none; signature tok:" + tok.signature())


@dataclass(frozen=True)
class CorpusScore:
    score: float
    signature: str


def corpus_scores(metrics: dict[str, Metric], hypotheses: Sequence[str], references: Sequence[str],
                  langpair: str | None = None) -> dict[str, CorpusScore]:
    """Each metric's corpus score of one system against one reference stream."""
    out = {}
    for name, metric in metrics.items():
        score = metric.corpus_score(list(hypotheses), [list(references)])
        sig = metric.get_signature()
        if langpair:
            sig.update("lang", langpair)
        out[name] = CorpusScore(score=float(score.score), signature=sig.format())
    return out


def sentence_scores(metrics: dict[str, Metric], hypotheses: Sequence[str],
                    references: Sequence[str]) -> dict[str, list[float]]:
    """Each metric's score of every segment on its own, in segment order."""
    return {name: [float(metric.sentence_score(h, [r]).score) for h, r in zip(hypotheses, references, strict=True)]
            for name, metric in metrics.items()}


def signatures(metrics: dict[str, Metric], langpair: str | None = None) -> dict[str, str]:
    """Signatures of metrics that have scored something (sacrebleu fills in the reference count then)."""
    out = {}
    for name, metric in metrics.items():
        sig = metric.get_signature()
        if langpair:
            sig.update("lang", langpair)
        out[name] = sig.format()
    return out
