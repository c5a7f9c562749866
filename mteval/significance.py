"""Paired significance tests against a baseline, through sacrebleu's ``PairedTest``.

sacrebleu takes its random seed from the ``SACREBLEU_SEED`` environment
variable when a test is set up and run (there is no argument for it), so the
seed is put there for the duration of the call and the old value restored.
A seed of 0 would make sacrebleu's comparisons unseeded (it treats a falsy
seed as "none"), hence seeds start at 1.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sacrebleu.metrics.base import Metric
from sacrebleu.significance import PairedTest

DEFAULT_SEED = 12345  # sacrebleu's own default
BOOTSTRAP_SAMPLES = 1000  # sacrebleu's defaults for each test
AR_TRIALS = 10000
# Upper bounds (--bootstrap, --ar-trials), ten times those defaults: beyond them a run only costs memory
# and time. Koehn (2004) and sacrebleu use 1,000 bootstrap resamples, and a 95% percentile interval is
# stable well before 10,000; sacrebleu holds every resample's sufficient statistics at once, so memory
# grows with resamples x rows (10,000 resamples of 1,000 rows: about 1 GB for chrF++). An approximate
# randomization p-value has a resolution of 1/trials: 100,000 resolve 1e-5, far below any significance
# level in use, and trials cost time only (about 12 s per 100,000 per system pair on a small set).
BOOTSTRAP_MAX = 10_000
AR_TRIALS_MAX = 100_000


@dataclass(frozen=True)
class Estimate:
    """One system's figure on one metric under one test.

    ``mean`` and ``ci`` (half-width of the 95% interval, sacrebleu's
    convention: the true mean is ``mean ± ci``) come from bootstrap resampling;
    ``p_value`` is against the baseline and is None for the baseline itself.
    """

    score: float
    p_value: float | None = None
    mean: float | None = None
    ci: float | None = None


@dataclass(frozen=True)
class TestResult:
    """One paired test (``bs`` or ``ar``) of every system against the first."""

    __test__ = False  # not a pytest class, despite the name

    test: str
    samples: int
    seed: int
    signatures: dict[str, str]  # metric -> sacrebleu signature with seed and sample count
    systems: dict[str, dict[str, Estimate]]  # system -> metric -> estimate


@contextmanager
def _seeded(seed: int) -> Iterator[None]:
    old = os.environ.get("SACREBLEU_SEED")
    os.environ["SACREBLEU_SEED"] = str(seed)
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("SACREBLEU_SEED", None)
        else:
            os.environ["SACREBLEU_SEED"] = old


def check_seed(seed: int) -> int:
    if seed < 1:
        raise ValueError(f"--seed must be a positive integer (got {seed}); sacrebleu treats 0 as unseeded")
    return seed


def paired_test(systems: Sequence[tuple[str, Sequence[str]]], references: Sequence[str],
                make_metrics: Callable[[], dict[str, Metric]], *, test: str, samples: int, seed: int,
                langpair: str | None = None) -> TestResult:
    """Run sacrebleu's paired ``test`` (``bs``: paired bootstrap, ``ar``: approximate randomization).

    The first system is the baseline. Bootstrap gives every system a mean and
    95% interval, and every other system a p-value; approximate randomization
    gives p-values only (intervals come from the bootstrap run). The same
    seed gives the same resamples, so identical figures on every run.
    """
    if test not in ("bs", "ar"):
        raise ValueError(f"unknown test {test!r}")
    what, most = ("bootstrap samples", BOOTSTRAP_MAX) if test == "bs" else ("randomization trials", AR_TRIALS_MAX)
    if not 1 <= samples <= most:
        raise ValueError(f"the number of {what} must be between 1 and {most} (got {samples})")
    check_seed(seed)
    metrics = make_metrics()
    named = [(name, list(hyps)) for name, hyps in systems]
    with _seeded(seed):
        tester = PairedTest(named, metrics, [list(references)], test_type=test, n_samples=samples,
                            n_ar_confidence=-1, n_jobs=1)
        sigs, scores = tester()
    names = scores.pop("System")
    out: dict[str, dict[str, Estimate]] = {name: {} for name in names}
    for metric, results in scores.items():
        for name, r in zip(names, results, strict=True):
            out[name][metric] = Estimate(score=float(r.score), p_value=_num(r.p_value), mean=_num(r.mean),
                                         ci=_num(r.ci))
    signatures = {}
    for metric, sig in sigs.items():
        if langpair:
            sig.update("lang", langpair)
        signatures[metric] = sig.format()
    return TestResult(test=test, samples=samples, seed=seed, signatures=signatures, systems=out)


def _num(x: object) -> float | None:
    return None if x is None else float(x)
