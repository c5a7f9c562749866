from __future__ import annotations

from pathlib import Path

import pytest

from corpus import bundled_corpus_dir, load_corpus

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


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
