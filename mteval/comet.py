"""COMET, when it can run: ``unbabel-comet`` installed and a local checkpoint given.

COMET is optional and never downloaded: the project does not depend on
``unbabel-comet`` (it pulls in a large stack), and a checkpoint must be a file
the user already has. When either is missing the report says COMET was
skipped and why, rather than silently leaving a column out.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from corpus.errors import CorpusError


@dataclass(frozen=True)
class CometStatus:
    used: bool
    reason: str  # why it was skipped, or what was used


@dataclass(frozen=True)
class CometScores:
    system: float
    segments: list[float]


def comet_status(checkpoint: str | Path | None) -> CometStatus:
    """Whether COMET can run, and if not, a plain reason."""
    if checkpoint is not None and not Path(checkpoint).is_file():  # a typo is said whether COMET is installed or not
        raise CorpusError(checkpoint, "no such COMET checkpoint file")
    installed = importlib.util.find_spec("comet") is not None
    if not installed:
        how = "" if checkpoint is None else f" (--comet {checkpoint} was given)"
        return CometStatus(False, "COMET skipped: unbabel-comet is not installed" + how +
                           "; pip install unbabel-comet and give --comet PATH to a local checkpoint")
    if checkpoint is None:
        return CometStatus(False, "COMET skipped: no checkpoint given; pass --comet PATH to a local "
                                  "checkpoint (e.g. .../checkpoints/model.ckpt), nothing is downloaded")
    return CometStatus(True, f"COMET checkpoint {checkpoint}")


class CometScorer:
    """One loaded checkpoint, reused for every system."""

    def __init__(self, checkpoint: str | Path, *, batch_size: int = 32, quiet: bool = False):
        import torch
        from comet import load_from_checkpoint

        self.model = load_from_checkpoint(str(checkpoint))
        self.gpus = 1 if torch.cuda.is_available() else 0
        self.batch_size, self.quiet = batch_size, quiet

    def score(self, sources: Sequence[str], hypotheses: Sequence[str], references: Sequence[str]) -> CometScores:
        """System and segment scores as COMET gives them (the system score is the segments' mean)."""
        data = [{"src": s, "mt": h, "ref": r} for s, h, r in zip(sources, hypotheses, references, strict=True)]
        out = self.model.predict(data, batch_size=self.batch_size, gpus=self.gpus, progress_bar=not self.quiet)
        return CometScores(system=float(out.system_score), segments=[float(x) for x in out.scores])
