"""Strict/lax P/R/F1 in Vecalign's convention, against figures worked out by hand."""

from __future__ import annotations

import pytest

from align.beads import Bead, parse_bead, read_beads
from align.scoring import score_alignments
from corpus import CorpusError

from .conftest import shared

GOLD = ["[0]:[0]", "[1]:[1, 2]", "[]:[3]", "[2, 3]:[4]"]
TEST = ["[0]:[0]", "[1]:[1]", "[]:[2]", "[]:[3]", "[2]:[4]", "[3]:[]"]


def beads(lines):
    return [parse_bead(x) for x in lines]


def test_hand_computed_single_document():
    s = score_alignments([beads(GOLD)], [beads(TEST)])
    # precision over all 6 test beads: strict hits [0]:[0] and []:[3]; lax adds [1]:[1] and [2]:[4]
    assert s.precision_strict == pytest.approx(2 / 6)
    assert s.precision_lax == pytest.approx(4 / 6)
    # recall over the 3 two-sided gold beads against the 3 two-sided test beads
    assert s.recall_strict == pytest.approx(1 / 3)
    assert s.recall_lax == pytest.approx(1.0)
    assert s.f1_strict == pytest.approx(1 / 3)
    assert s.f1_lax == pytest.approx(0.8)


def test_counts_are_pooled_not_averaged():
    s = score_alignments([beads(GOLD), beads(["[0]:[0]"])], [beads(TEST), beads(["[0]:[0]"])])
    assert s.precision_strict == pytest.approx(3 / 7)
    assert s.recall_strict == pytest.approx(2 / 4)
    assert s.f1_strict == pytest.approx(6 / 13)


def test_perfect_and_empty():
    s = score_alignments([beads(GOLD)], [beads(GOLD)])
    assert (s.f1_strict, s.f1_lax) == (1.0, 1.0)
    s = score_alignments([beads(GOLD)], [[]])
    assert (s.precision_strict, s.recall_strict, s.f1_strict) == (0.0, 0.0, 0.0)


def test_bead_format_round_trips():
    b = parse_bead("[0, 1]:[2]:0.873")
    assert (b.src, b.tgt, b.score, b.kind) == ((0, 1), (2,), 0.873, "2-1")
    assert b.format() == "[0, 1]:[2]:0.873"
    assert Bead((), (5,)).format() == "[]:[5]"


def test_bad_bead_file_names_the_line(tmp_path):
    p = tmp_path / "x.beads"
    p.write_text("[0]:[0]\n[1]-[1]\n")
    with pytest.raises(CorpusError, match=r"x\.beads: line 2: not a bead line"):
        read_beads(p)


def test_textberg_gold_scores_itself_perfectly():
    gold = read_beads(shared("benchmarks/textberg-dev/dev.defr"))
    assert len(gold) == 422
    assert score_alignments([gold], [gold]).f1_strict == 1.0
