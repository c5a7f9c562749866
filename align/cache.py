"""On-disk caches for embeddings, word vectors and translations, keyed by model signature and text.

One SQLite file per kind under ``$DIPTYCH_CACHE`` (default
``$XDG_CACHE_HOME/diptych`` or ``~/.cache/diptych``). The key is a hash of the
model's signature and the exact text, so a second run on the same text
computes nothing, a changed sentence is computed afresh, and two models never
share entries.

Many processes may read and write one cache at once (``diptych build`` workers,
several commands): the file is in SQLite's WAL mode, so readers never block a
writer, every write is one transaction (an entry is there whole or not at all),
and a writer that finds the database busy waits and retries. WAL needs a local
file system; on a network share SQLite falls back to its rollback journal, which
is still safe, only slower.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import time
from pathlib import Path

import numpy as np


def default_cache_dir() -> Path:
    if os.environ.get("DIPTYCH_CACHE"):
        return Path(os.environ["DIPTYCH_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "diptych"


def load_model(spec: str, build):
    """``build()`` a user's model (``spec`` = ``name:path or hub id``) with the libraries' warnings
    and log lines silenced, turning a failure into one line that names the spec: a local path that
    is not a model folder is said so before any library sees it."""
    import logging
    import warnings

    from corpus.errors import CorpusError

    _, _, arg = spec.partition(":")
    p = Path(arg) if arg else None
    if p is not None and p.exists():
        if not p.is_dir():
            raise CorpusError(spec, f"{arg} is a file; give the model's folder")
        if not any((p / f).is_file() for f in ("config.json", "modules.json", "model.bin")):
            raise CorpusError(spec, f"{arg} is not a model folder (no config.json, modules.json or model.bin in it)")
    for lib in ("huggingface_hub", "transformers"):  # their logging set-up runs on import: import first
        try:
            __import__(lib)
        except ImportError:
            pass
    loggers = [logging.getLogger(n) for n in ("transformers", "sentence_transformers", "huggingface_hub", "torch")]
    levels = [lg.level for lg in loggers]
    bars = None
    try:  # transformers draws a "Loading weights" bar on stderr, --quiet or not
        from transformers.utils import logging as tf_logging

        bars = tf_logging.is_progress_bar_enabled()
        tf_logging.disable_progress_bar()
    except ImportError:
        pass
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR + 10)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return build()
    except (CorpusError, ImportError, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - corrupt weights raise the libraries' own types (SafetensorError ...)
        raise CorpusError(spec, f"cannot load the model ({_brief(e)})") from None
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)
        if bars:
            tf_logging.enable_progress_bar()


def _brief(e: BaseException) -> str:
    text = " ".join(str(e).split())[:300]
    return f"{type(e).__name__}: {text}" if text else type(e).__name__


def run_model(spec: str, call, *args):
    """``call(*args)`` on a user's model, a failure inside the model (a tokenizer or position limit its
    config gets wrong, weights of the wrong shape) becoming one line that names it. Our own errors
    (an unknown language code, a missing library) pass through as they are."""
    from corpus.errors import CorpusError

    try:
        return call(*args)
    except (ValueError, ImportError, MemoryError):
        raise
    except Exception as e:  # noqa: BLE001 - whatever the library raises, the model failed on this input
        raise CorpusError(spec, f"the model failed on its input ({_brief(e)})") from None


def model_fingerprint(arg: str) -> str:
    """Part of a model's cache signature: for a local folder, every file's name, size and
    modification time, so a model retrained or re-saved in place gets a new key; "hub" for a hub id."""
    p = Path(arg)
    if not p.is_dir():
        return "hub"
    stats = sorted((str(f.relative_to(p)), f.stat().st_size, f.stat().st_mtime_ns) for f in p.rglob("*") if f.is_file())
    return hashlib.sha256(repr(stats).encode()).hexdigest()[:16]


def _key(signature: str, text: str) -> str:
    return hashlib.sha256(f"{signature}\x00{text}".encode("utf-8")).hexdigest()


class _Store:
    def __init__(self, path: Path, table: str):
        from corpus.errors import CorpusError

        self.path, self.table = path, table
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, timeout=min(30.0, LOCK_BUDGET_S))
            _retry(lambda: self.db.execute("PRAGMA journal_mode=WAL"), path)
            _retry(lambda: self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {table} (key TEXT PRIMARY KEY, value BLOB NOT NULL)"), path)
        except (OSError, sqlite3.Error) as e:
            raise CorpusError(path.parent, f"cannot be used as the cache folder ({e}); "
                              "set DIPTYCH_CACHE to a writable folder, or pass --no-cache") from None

    def get_many(self, keys: list[str]) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for i in range(0, len(keys), 500):
            part = keys[i : i + 500]
            q = f"SELECT key, value FROM {self.table} WHERE key IN ({','.join('?' * len(part))})"
            out.update(_retry(lambda: self.db.execute(q, part).fetchall(), self.path))
        return out

    def put_many(self, items: list[tuple[str, bytes]]) -> None:
        def write():
            with self.db:  # one transaction: all of these entries or none
                self.db.executemany(f"INSERT OR REPLACE INTO {self.table} VALUES (?, ?)", items)

        _retry(write, self.path)


LOCK_BUDGET_S = 90.0  # how long a cache write or read waits for another process's lock before giving up


def _retry(action, path: Path):
    """Run a database action, waiting and retrying while another process holds the lock (beyond
    sqlite's own busy timeout, which does not cover every case, e.g. a WAL checkpoint). Writers hold
    the lock for milliseconds; one held for :data:`LOCK_BUDGET_S` is a stuck process, said in one line
    (it was ten 60 s timeouts and a traceback)."""
    from corpus.errors import CorpusError

    start, attempt = time.monotonic(), 0
    while True:
        try:
            return action()
        except sqlite3.OperationalError as e:
            waited = time.monotonic() - start
            if not any(w in str(e) for w in ("locked", "busy")):
                raise CorpusError(path, f"the cache database failed ({e}); "
                                  "remove it or pass --no-cache") from None
            if waited >= LOCK_BUDGET_S:
                raise CorpusError(path, f"the cache database stayed locked by another process for {waited:.0f} s; "
                                  "stop that process, set DIPTYCH_CACHE to another folder, or pass --no-cache") from None
            time.sleep(min(0.05 * 2**attempt, 2.0))
            attempt += 1


class EmbeddingCache:
    """Vectors by (encoder signature, text)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None):
        self.store = _Store(Path(directory or default_cache_dir()) / "embeddings.sqlite", "embeddings")

    def get(self, signature: str, texts: list[str]) -> dict[str, np.ndarray]:
        keys = {_key(signature, t): t for t in texts}
        found = self.store.get_many(list(keys))
        return {keys[k]: np.frombuffer(v, dtype=np.float32) for k, v in found.items()}

    def put(self, signature: str, vectors: dict[str, np.ndarray]) -> None:
        self.store.put_many([(_key(signature, t), np.asarray(v, np.float32).tobytes()) for t, v in vectors.items()])


class TranslationCache:
    """Translations by (translator signature with language pair, text)."""

    def __init__(self, directory: str | os.PathLike[str] | None = None):
        self.store = _Store(Path(directory or default_cache_dir()) / "translations.sqlite", "translations")

    def get(self, signature: str, texts: list[str]) -> dict[str, str]:
        keys = {_key(signature, t): t for t in texts}
        return {keys[k]: v.decode("utf-8") for k, v in self.store.get_many(list(keys)).items()}

    def put(self, signature: str, translations: dict[str, str]) -> None:
        self.store.put_many([(_key(signature, s), t.encode("utf-8")) for s, t in translations.items()])


class WordVectorCache:
    """A text's word vectors (rows of a 2-D array, the framing scorer's contextual vectors) by
    (model signature, text and word spans), stored as float16: a few tens of kB per sentence, so
    a warm build runs no token model at all. Callers round fresh vectors the same way, so a cold
    and a warm build give the same bytes."""

    def __init__(self, directory: str | os.PathLike[str] | None = None):
        self.store = _Store(Path(directory or default_cache_dir()) / "wordvectors.sqlite", "wordvectors")

    def get(self, signature: str, keys: list[str]) -> dict[str, np.ndarray]:
        hashed = {_key(signature, k): k for k in keys}
        out = {}
        for h, v in self.store.get_many(list(hashed)).items():
            cols = int.from_bytes(v[:4], "little")
            out[hashed[h]] = np.frombuffer(v, dtype=np.float16, offset=4).reshape(-1, cols)
        return out

    def put(self, signature: str, arrays: dict[str, np.ndarray]) -> None:
        self.store.put_many([(_key(signature, k), a.shape[1].to_bytes(4, "little")
                              + np.ascontiguousarray(a, np.float16).tobytes()) for k, a in arrays.items()])
