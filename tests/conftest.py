from __future__ import annotations

import os
import tempfile
from pathlib import Path

# datasets caches what load_dataset reads; each test session gets its own cache (set before
# datasets is imported), so a dataset built in a reused temporary path is never served stale.
os.environ["HF_DATASETS_CACHE"] = tempfile.mkdtemp(prefix="diptych-test-hf-")
os.environ["HF_HUB_OFFLINE"] = "1"

import pytest  # noqa: E402

from corpus import bundled_corpus_dir, load_corpus  # noqa: E402

REPO = Path(__file__).resolve().parents[1]

SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session", autouse=True)
def _private_cache(tmp_path_factory):
    """Tests never read or write the user's embedding/translation cache."""
    old = os.environ.get("DIPTYCH_CACHE")
    os.environ["DIPTYCH_CACHE"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if old is None:
        os.environ.pop("DIPTYCH_CACHE", None)
    else:
        os.environ["DIPTYCH_CACHE"] = old


@pytest.fixture(scope="session")
def bundled():
    return load_corpus()


@pytest.fixture(scope="session")
def ar002(bundled):
    return bundled.documents["002"]


@pytest.fixture(scope="session")
def fa004(bundled):
    return bundled.documents["004"]


def data_file(name: str) -> Path:
    return next(bundled_corpus_dir().glob(f"{name}_*.txt"))


def shared(rel: str) -> Path:
    """A path in ../shared (development data that is never committed); skip where it is absent."""
    path = SHARED / rel
    if not path.exists():
        pytest.skip(f"{path} not beside this checkout (development data)")
    return path
