"""The embedding and translation caches under concurrent writers (build workers, several commands)."""

from __future__ import annotations

import multiprocessing as mp
import sqlite3

import numpy as np
import pytest

from align.cache import EmbeddingCache, TranslationCache, WordVectorCache

N_WRITERS, N_SHARED, N_OWN, ROUNDS = 4, 300, 100, 6


def _vector(text: str) -> np.ndarray:
    rng = np.random.default_rng(sum(map(ord, text)) * 7919 + len(text))
    return rng.normal(size=16).astype(np.float32)


def _words(text: str) -> np.ndarray:
    """A text's word vectors: as many rows as it has words, exactly representable in float16."""
    return np.round(_vector(text)[: len(text.split())] * 64)[:, None].repeat(8, 1) / 64


def _writer(folder: str, worker: int) -> None:
    emb, tr, wv = EmbeddingCache(folder), TranslationCache(folder), WordVectorCache(folder)
    shared = [f"sentence {k}" for k in range(N_SHARED)]
    own = [f"worker {worker} sentence {k}" for k in range(N_OWN)]
    for r in range(ROUNDS):  # many small transactions, interleaved with the other writers
        for chunk in range(0, N_SHARED, 50):
            texts = shared[chunk:chunk + 50] + own[r * 10:(r + 1) * 10]
            emb.put("model-a", {t: _vector(t) for t in texts})
            tr.put("mt-a/fa-ar", {t: t.upper() for t in texts})
            wv.put("tokens-a", {t: _words(t) for t in texts})
            got = emb.get("model-a", texts)
            assert set(got) == set(texts)


def test_concurrent_writers_on_the_same_keys_lose_and_corrupt_nothing(tmp_path):
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w)) for w in range(N_WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0] * N_WRITERS
    emb, tr = EmbeddingCache(tmp_path), TranslationCache(tmp_path)
    texts = [f"sentence {k}" for k in range(N_SHARED)]
    texts += [f"worker {w} sentence {k}" for w in range(N_WRITERS) for k in range(min(N_OWN, ROUNDS * 10))]
    got = emb.get("model-a", texts)
    assert len(got) == len(texts)
    assert all(np.array_equal(got[t], _vector(t)) for t in texts)
    assert tr.get("mt-a/fa-ar", texts) == {t: t.upper() for t in texts}
    words = WordVectorCache(tmp_path).get("tokens-a", texts)
    assert len(words) == len(texts)
    assert all(words[t].shape == (len(t.split()), 8) and np.array_equal(words[t], _words(t)) for t in texts)
    for name in ("embeddings.sqlite", "translations.sqlite", "wordvectors.sqlite"):
        db = sqlite3.connect(tmp_path / name)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_cache_held_locked_by_a_stuck_process_is_one_line_after_the_budget(tmp_path, monkeypatch):
    """Another process holding an exclusive lock: a one-line error naming the database once the wait
    budget is spent (it was ten 60 s sqlite timeouts, 615 s, then a traceback)."""
    import sqlite3
    import time

    import align.cache as cache
    from corpus.errors import CorpusError

    store = cache.EmbeddingCache(tmp_path)
    store.put("sig", {"a sentence": np.ones(4, np.float32)})
    holder = sqlite3.connect(tmp_path / "embeddings.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    monkeypatch.setattr(cache, "LOCK_BUDGET_S", 1.0)
    t0 = time.monotonic()
    with pytest.raises(CorpusError, match=r"embeddings\.sqlite: the cache database stayed locked by another process "
                                          r"for \d+ s; stop that process"):
        cache.EmbeddingCache(tmp_path).put("sig", {"another": np.zeros(4, np.float32)})
    assert time.monotonic() - t0 < 10
    holder.execute("ROLLBACK")
    assert set(cache.EmbeddingCache(tmp_path).get("sig", ["a sentence", "another"])) == {"a sentence"}
