"""The matching view folds letter variants and keeps exact offsets into the original."""

from __future__ import annotations

import re

import pytest

from corpus.normalize import fold, fold_text


@pytest.mark.parametrize(
    "a, b",
    [
        ("كرملين", "کرملین"),  # Arabic kaf/yeh vs Persian keheh/farsi yeh
        ("مصطفى", "مصطفی"),  # alef maksura
        ("الدولة الإسلامية", "الدوله الاسلاميه"),  # teh marbuta, hamza on alef
        ("مسؤولية", "مسوولیه"),  # hamza on waw
        ("می‌گوید", "میگوید"),  # ZWNJ, which scraped Persian often loses
        ("هجـــوم", "هجوم"),  # tatweel
        ("شَخْصًا", "شخصا"),  # harakat
        ("۱۴۴ نفر", "144 نفر"),  # Persian digits
        ("١٤٤ شخصا", "144 شخصا"),  # Arabic-Indic digits
        ("«کروکوس»", '"کروکوس"'),
        ("ﻻ", "لا"),  # presentation-form ligature
        ("Straße  Genf", "strasse genf"),  # casefold, white space
    ],
)
def test_variants_fold_together(a, b):
    assert fold_text(a) == fold_text(b)


def test_distinct_words_stay_distinct():
    assert fold_text("کرمان") != fold_text("کرملین")
    assert fold_text("پ") != fold_text("ب")  # Persian letters are not folded into Arabic ones


def test_offsets_point_at_the_original_characters(fa004):
    text = fa004.text
    view = fold(text)
    assert len(view.offsets) == len(view.text)
    assert list(view.offsets) == sorted(view.offsets)
    for i, ch in enumerate(view.text):
        original = text[view.offsets[i]]
        assert ch == " " and original.isspace() or ch in fold_text(original) or ch in fold(original).text


def test_view_spans_map_back_to_original_words(fa004, ar002):
    # "Kremlin" is spelt with Arabic letters in the Persian page and Arabic ones in the Arabic page;
    # folded they match, and the spans give back each page's own spelling.
    for doc, original in ((fa004, "کرملين"), (ar002, "الكرملين")):
        view = fold(doc.text)
        m = re.search(fold_text("کرملین"), view.text)
        assert m, doc.id
        s, e = view.span(*m.span())
        assert original.endswith(doc.text[s:e])
        assert fold_text(doc.text[s:e]) == fold_text("کرملین")


def test_numbers_match_across_the_pair(fa004, ar002):
    nums = [set(re.findall(r"\d+", fold(d.text).text)) for d in (fa004, ar002)]
    assert {"144", "22", "35", "100", "20"} <= nums[0] & nums[1]
