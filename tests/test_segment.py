"""Segmentation of the real seed articles, checked against what a reader sees."""

from __future__ import annotations

import pytest

from corpus import segment, segment_document
from corpus.segment import split_sentences

from .conftest import shared


def units(doc):
    return segment_document(doc)


def texts(us, label=None):
    return [u.text for u in us if label is None or u.label == label]


def test_offsets_round_trip_on_every_seed(bundled):
    for doc in bundled.documents.values():
        for u in units(doc):
            assert doc.text[u.start : u.end] == u.text
            assert u.text == u.text.strip() and u.text


def test_nothing_is_lost_and_nothing_overlaps(bundled):
    """Every non-space character of the page is in exactly one unit."""
    for doc in bundled.documents.values():
        covered = [0] * len(doc.text)
        for u in units(doc):
            for i in range(u.start, u.end):
                covered[i] += 1
        for i, ch in enumerate(doc.text):
            assert covered[i] <= 1, (doc.id, i)
            assert covered[i] == 1 or ch.isspace(), (doc.id, i, ch)
        assert [u.id for u in units(doc)] == list(range(len(units(doc))))


def test_persian_sentences_004(fa004):
    us = units(fa004)
    body = texts(us, "text")
    assert "گروه داعش مسئوليت اين حمله برعهده گرفته است." in body
    # the two sentences of the attack paragraph share a paragraph id, after the outlet's attribution
    i = body.index("گروه داعش مسئوليت اين حمله برعهده گرفته است.")
    assert body[i - 1].startswith("در مرگبارترين حمله در داخل روسيه در 20 سال گذشته")
    by_text = {u.text: u for u in us}
    assert by_text[body[i]].paragraph == by_text[body[i - 1]].paragraph
    # a quotation closed after its full stop keeps its closing guillemet
    assert any(t.startswith("يکي از منابع که نخواست نامش فاش شود") and t.endswith("به دست آمده بود.»") for t in body)
    # two sentences inside one quotation are two sentences; the closing » stays with the second
    assert "يکي از تروريستهاي دستگير شده در ايران گفت که برخي از اعضاي گروه از قبل به روسيه سفر کردهاند.»" in body
    assert "پسکوف گفت: من از هيچ گونه تصميمي درباره اين مسئله مطلع نيستم." in body
    assert "گزارشي که به شدت از سوي کييف رد شده است." in body
    assert texts(us, "heading") == ["نقش اتباع تاجيک"]


def test_persian_page_furniture_004(fa004):
    bp = {u.text: u.reason for u in units(fa004) if u.label == "boilerplate"}
    assert bp == {"گروه ديپلماسي:": "desk-label", "به گزارش مردم سالاری آنلاین ،": "outlet-attribution"}
    first = next(u for u in units(fa004) if u.label == "text")
    assert first.text.startswith("خبرگزاري رويترز به نقل از سه منبع")


def test_arabic_sentences_002(ar002):
    us = units(ar002)
    body = texts(us, "text")
    # the Arabic ".." ends a sentence, even inside a quotation
    assert any(t.endswith("تعليمات بالاستعداد لعملية كبيرة في روسيا..") for t in body)
    assert 'قال واحد من الإرهابيين (جرى اعتقاله في إيران) إن بعض أعضاء الجماعة سافروا بالفعل إلى روسيا".' in body
    # two sentences on one line
    assert "وفي تحدٍ للتأكيدات الأمريكية، قالت روسيا إنها تعتقد أن أوكرانيا مرتبطة بالهجوم، بدون تقديم أدلة." in body
    assert "ونفت كييف بشدة هذا التأكيد." in body
    assert "ولم يكن لدى البيت الأبيض أي تعليق على الأمر." in body
    # closing quote after the full stop stays with its sentence
    assert any(t.startswith("وقال أحد المصادر:") and t.endswith('تفجيرات مميتة في إيران".') for t in body)
    # headings: the title, and the unpunctuated section heads
    assert texts(us, "heading") == [
        'إيران حذرت روسيا من خطر أمني قبل هجوم موسكو.. ما علاقة "تفجيرات كرمان"؟',
        '"عملية كبيرة"',
        "عناصر من طاجيكستان",
    ]


def test_arabic_page_furniture_002(ar002):
    us = units(ar002)
    related = [u for u in us if u.text == "أخبار ذات صلة"]
    assert len(related) == 3
    for u in related:
        assert (u.label, u.reason) == ("boilerplate", "related-links")
        headline = us[u.id + 1]  # the linked headline after each header is furniture too
        assert (headline.label, headline.reason) == ("boilerplate", "related-links")
    assert {us[u.id + 1].text for u in related} == {
        'واشنطن تؤكد نقل "تحذير مكتوب" إلى موسكو قبل هجوم "كروكوس"',
        'بوتين: هجوم موسكو نفذه"متطرفون" حاولوا الهروب إلى أوكرانيا',
        "تفجيرا كرمان.. لماذا هاجم داعش إيران؟",
    }
    reasons = {u.text: u.reason for u in us if u.label == "boilerplate"}
    assert reasons["نصب تذكاري مؤقت لضحايا هجوم موسكورويترز"] == "photo-credit"
    assert reasons["نصب تذكاري مؤقت لضحايا هجوم موسكو"] == "photo-caption"
    assert reasons["الأكثر قراءة"] == "most-read"
    assert reasons["No stories found."] == "no-stories"
    assert reasons["logo"] == "logo"
    assert reasons["إرم نيوز"] == "site-name"
    assert reasons["www.eremnews.com"] == "site-url"
    # nothing of the report itself is set aside
    assert all(u.label != "boilerplate" for u in us if u.text.startswith(("نقلت وكالة رويترز", "وأكد مصدر دبلوماسي")))


def test_related_block_after_blank_line_003(bundled):
    us = units(bundled.documents["003"])
    rel = [u.text for u in us if u.reason == "related-links"]
    assert "واشنطن تندد بهجوم موسكو \"البغيض\"" in rel
    assert "ارتفاع عدد قتلى هجوم موسكو.. والبحث بين الأنقاض يستغرق أياما" in rel
    assert "أزمة التعاون الاستخباراتي" in texts(us, "heading")


def test_outlet_name_glued_to_title_and_dateline_000(bundled):
    us = units(bundled.documents["000"])
    assert [u.text for u in us[:3]] == [
        "صادم: “أمن الكرملين” كان على علم بتهديد داعش قبل الهجوم الدامي وتجاهل التحذير",
        "وطن",
        "وطن",
    ]
    assert [u.label for u in us[:3]] == ["heading", "boilerplate", "boilerplate"]
    assert us[3].text.startswith("فيما تبدو مفاجأة من العيار الثقيل")


def test_without_outlet_the_site_name_is_not_guessed(bundled):
    doc = bundled.documents["000"]
    us = segment(doc.text, "ar")  # no outlet: "وطن" (homeland) is an ordinary word
    assert us[1].text.startswith("وطن فيما تبدو")


def test_german_and_french_rules():
    de = "Dr. Müller kam am 3. März nach Genf. Dort traf er u. a. Herrn Meier! War das alles? Ja."
    assert [de[s:e] for s, e in split_sentences(de, "de")] == [
        "Dr. Müller kam am 3. März nach Genf.", "Dort traf er u. a. Herrn Meier!", "War das alles?", "Ja.",
    ]
    fr = "Il est arrivé à Genève. M. Dupont a dit : « Nous partons. » Puis il est parti."
    assert [fr[s:e] for s, e in split_sentences(fr, "fr")] == [
        "Il est arrivé à Genève.", "M. Dupont a dit : « Nous partons. »", "Puis il est parti.",
    ]


@pytest.mark.parametrize("name, lang", [("dev.de", "de"), ("dev.fr", "fr")])
def test_presegmented_keeps_lines(name, lang):
    path = shared(f"benchmarks/textberg-dev/{name}")
    text = path.read_text("utf-8")
    lines = text.splitlines()
    us = segment(text, lang, presegmented=True)
    assert [u.text for u in us] == lines
    assert [u.id for u in us] == list(range(len(lines)))
    assert all(text[u.start : u.end] == u.text for u in us)


def test_presegmented_empty_lines_are_kept_and_labelled():
    us = segment("Erster Satz.\n\nZweiter Satz.\n", "de", presegmented=True)
    assert [(u.id, u.text, u.label) for u in us] == [
        (0, "Erster Satz.", "text"), (1, "", "boilerplate"), (2, "Zweiter Satz.", "text"),
    ]
    assert us[1].reason == "empty-line"


def test_a_line_of_only_bidi_marks_and_zero_width_characters_is_blank():
    """Such a line has nothing to align (it became a unit of no visible text, aligned 1-1); marks at a
    line's edge stay outside its span, and inside a word (ZWNJ in Persian) they stay in it."""
    from corpus.segment import segment

    text = "نخستین جمله این است.\n\u200f\u061c\u200b\u2067\u2069\nدومین جمله\u200cها اینجاست.\u200f\n"
    units = segment(text, "fa")
    assert [u.text for u in units] == ["نخستین جمله این است.", "دومین جمله\u200cها اینجاست."]
    assert all(text[u.start:u.end] == u.text for u in units)
