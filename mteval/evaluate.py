"""Score systems on a test set: corpus and sentence figures, significance, breakdowns.

Pure apart from the optional COMET scorer: hypotheses come in as lists of
strings (the command line reads files or runs a model), a :class:`Report`
goes out (``report.py`` formats it, the command line writes it).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from .comet import CometScores, CometStatus
from .data import Segment, TestSet
from .metrics import METRICS, MetricConfig, corpus_scores, sentence_scores, signatures
from .significance import (AR_TRIALS, AR_TRIALS_MAX, BOOTSTRAP_MAX, BOOTSTRAP_SAMPLES, DEFAULT_SEED, Estimate,
                           TestResult, check_seed, paired_test)

DIVERGENCE_NOTE = ("MT on diverging segments is where references are least trustworthy: on rows with framing "
                   "differences the two versions do not say the same thing, so a faithful translation of the "
                   "source can score low against the reference. Compare systems on the rows without differences "
                   "before reading much into the rows with them.")


@dataclass(frozen=True)
class System:
    """A system's output, line-parallel to the test set; ``origin`` says where it came from."""

    name: str
    origin: str
    hypotheses: Sequence[str]


@dataclass(frozen=True)
class SystemScores:
    name: str
    origin: str
    scores: dict[str, float]  # metric -> corpus score
    sentences: dict[str, list[float]]  # metric -> one score per segment
    comet: float | None = None
    bootstrap: dict[str, Estimate] | None = None  # metric -> mean, 95% CI and p-value vs the baseline
    ar: dict[str, Estimate] | None = None  # metric -> approximate-randomization p-value vs the baseline


@dataclass(frozen=True)
class Group:
    """Corpus scores on one subset of the rows."""

    by: str  # "alignment_type" or "differences"
    value: str
    segments: int
    scores: dict[str, dict[str, float]]  # system -> metric -> score (COMET: mean of its segments)


@dataclass
class Report:
    dataset: str
    src: str
    tgt: str
    segments: int
    systems: list[SystemScores]
    signatures: dict[str, str]
    sentence_signatures: dict[str, str]
    groups: list[Group]
    comet: CometStatus
    seed: int
    bootstrap: TestResult | None = None
    ar: TestResult | None = None
    notes: list[str] = field(default_factory=list)
    metrics: tuple[str, ...] = METRICS

    @property
    def baseline(self) -> str:
        return self.systems[0].name

    @property
    def columns(self) -> tuple[str, ...]:
        """Metric columns of the tables: sacrebleu's, and COMET when it ran."""
        return (*self.metrics, "COMET") if self.comet.used else self.metrics


def _type_key(t: str) -> tuple:
    nums = [int(x) for x in re.findall(r"\d+", t)]
    return (0, sum(nums), nums, t) if nums else (1, 0, [], t)


def groups_of(segments: Sequence[Segment]) -> list[tuple[str, str, list[int]]]:
    """(by, value, row indices) for each alignment type, then rows with and without framing differences."""
    out = []
    for t in sorted({s.alignment_type for s in segments}, key=_type_key):
        out.append(("alignment_type", t, [i for i, s in enumerate(segments) if s.alignment_type == t]))
    for value, flag in (("with", True), ("without", False)):
        idx = [i for i, s in enumerate(segments) if s.has_differences == flag]
        if idx:
            out.append(("differences", value, idx))
    return out


def evaluate(test_set: TestSet, systems: Sequence[System], config: MetricConfig = MetricConfig(), *,
             seed: int = DEFAULT_SEED, bootstrap_samples: int = BOOTSTRAP_SAMPLES, ar_trials: int = AR_TRIALS,
             comet_status: CometStatus | None = None,
             comet: Callable[[Sequence[str], Sequence[str], Sequence[str]], CometScores] | None = None) -> Report:
    """Score every system; the first is the baseline of the paired tests.

    Bootstrap resampling runs for any number of systems (a single system
    still gets its 95% interval); approximate randomization needs two.
    ``bootstrap_samples`` or ``ar_trials`` of 0 skips that test.
    """
    if not systems:
        raise ValueError("no system to score: give --hyp NAME=FILE or --model SPEC")
    names = [s.name for s in systems]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"two systems are named {dup!r}; give each --hyp/--model a distinct NAME=")
    for s in systems:
        if len(s.hypotheses) != len(test_set):
            raise ValueError(f"system {s.name!r} has {len(s.hypotheses)} hypotheses for {len(test_set)} segments")
    check_seed(seed)
    if not 0 <= bootstrap_samples <= BOOTSTRAP_MAX:
        raise ValueError(f"--bootstrap must be 0 (skip) or at most {BOOTSTRAP_MAX} (got {bootstrap_samples})")
    if not 0 <= ar_trials <= AR_TRIALS_MAX:
        raise ValueError(f"--ar-trials must be 0 (skip) or at most {AR_TRIALS_MAX} (got {ar_trials})")
    status = comet_status or CometStatus(False, "COMET skipped: not requested")
    if status.used and comet is None:
        raise ValueError("COMET is marked usable but no scorer was given")
    langpair = f"{test_set.src_lang}-{test_set.tgt_lang}"
    refs, srcs = test_set.references, test_set.sources

    corpus_metrics, sent_metrics = config.corpus_metrics(), config.sentence_metrics()
    scored: list[SystemScores] = []
    for s in systems:
        hyps = list(s.hypotheses)
        corpus = corpus_scores(corpus_metrics, hyps, refs, langpair)
        sents = sentence_scores(sent_metrics, hyps, refs)
        comet_system = None
        if status.used:
            cs = comet(srcs, hyps, refs)
            comet_system, sents["COMET"] = cs.system, cs.segments
        scored.append(SystemScores(name=s.name, origin=s.origin, scores={m: c.score for m, c in corpus.items()},
                                   sentences=sents, comet=comet_system))
    sigs = signatures(corpus_metrics, langpair)
    sent_sigs = signatures(sent_metrics, langpair)

    named = [(s.name, list(s.hypotheses)) for s in systems]
    bs = ar = None
    if bootstrap_samples:
        bs = paired_test(named, refs, config.corpus_metrics, test="bs", samples=bootstrap_samples, seed=seed,
                         langpair=langpair)
    if ar_trials and len(systems) > 1:
        ar = paired_test(named, refs, config.corpus_metrics, test="ar", samples=ar_trials, seed=seed,
                         langpair=langpair)
    scored = [replace(s, bootstrap=bs.systems[s.name] if bs else None, ar=ar.systems[s.name] if ar else None)
              for s in scored]

    groups = []
    for by, value, idx in groups_of(test_set.segments):
        sub_refs = [refs[i] for i in idx]
        per_system = {}
        for s, sys_scores in zip(systems, scored, strict=True):
            sub_hyps = [s.hypotheses[i] for i in idx]
            figures = {m: c.score for m, c in corpus_scores(config.corpus_metrics(), sub_hyps, sub_refs).items()}
            if status.used:
                seg = sys_scores.sentences["COMET"]
                figures["COMET"] = sum(seg[i] for i in idx) / len(idx)
            per_system[s.name] = figures
        groups.append(Group(by=by, value=value, segments=len(idx), scores=per_system))

    notes = [DIVERGENCE_NOTE, "TER is an edit rate: lower is better; for the other metrics higher is better."]
    if (tok := config.describe()) is not None:
        notes.append(tok)
    notes.append(status.reason)
    return Report(dataset=test_set.path, src=test_set.src_lang, tgt=test_set.tgt_lang, segments=len(test_set),
                  systems=scored, signatures=sigs, sentence_signatures=sent_sigs, groups=groups, comet=status,
                  seed=seed, bootstrap=bs, ar=ar, notes=notes)
