"""Spans of one version that the other lacks, typed and explained.

Contract with the build (``corpus.dataset``): :func:`annotate` fills the
``differences`` list of every row of the ``segments`` config in place, with
offsets into that row's text in that language (``corpus.schema``).

Two kinds of evidence, combined per aligned row (a bead):

* **Alignment** (DiffAlign, Vamvas & Sennrich 2023): every word of one side is
  scored by how well it aligns to the words of the other side, using
  contextual token vectors of the default encoder (multilingual-e5-small, read
  by :mod:`framing.tokens`; one forward pass per text, no deletion variants).
  Word vectors are the mean of their subword vectors at layer 8 of 12, centred
  on the mean token vector of the texts being annotated (which removes the
  direction all tokens share); the alignment probability of a word pair is the
  product of the row-wise and column-wise softmax of their cosines (as in
  awesome-align), and a word's score is one minus its best such probability.
  With a ``translate`` callable each side is also aligned, within its own
  language, to the machine translation of the other side, and the two scores
  averaged. Scores are smoothed over neighbours; a span grows from a confident
  content word over neighbours above a lower threshold, bridges a couple of
  function words, never starts or ends on a function word, and a one-word
  span must be very confident.
* **Lexicons** (``framing/resources/<lang>.toml``): figures (digits folded
  across alphabets, number words), named entities and sources, attribution
  verbs, hedges, loaded words and shared terms such as month names, all as
  concepts whose keys are shared across languages. A concept on one side of a
  bead that the other side lacks is a typed difference with a note; a concept
  on both sides (the shared vocabulary: names, figures and cognates that fold
  to the same spelling or are listed as equivalents) never starts a content
  span and is trimmed off its edges.

Typed items keep their exact words; the rest of an alignment span becomes
``content``. Differences within one text never overlap. One-sided rows are
already marked by their status; their differences are the typed items they
carry (what the other version loses with them), each noting whether the other
version mentions it elsewhere.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from .lexicon import Concepts, Item, Lexicon, Word, load_concepts, load_lexicon

Translate = Callable[[list[str], str, str], list[str]]  # (texts, src_lang, tgt_lang) -> translations


@dataclass(frozen=True)
class Difference:
    lang: str
    start: int
    end: int
    text: str
    kind: str  # one of corpus.schema.DIFFERENCE_KINDS
    note: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class DiffConfig:
    """Every setting that changes the output (chosen on the bundled story; see the README)."""

    layer: int = 8  # encoder layer whose token states are aligned (of 12)
    temperature: float = 0.05  # softmax temperature over cosine similarities
    smooth: float = 0.3  # share of a word's score taken from its two neighbours
    seed: float = 0.85  # a span starts at a content word scoring at least this
    grow: float = 0.8  # and takes in neighbours scoring at least this
    single: float = 0.95  # a span with one content word needs this
    bridge: int = 2  # spans this many function or shared words apart are one span
    mt_weight: float = 0.5  # weight of the monolingual alignment against the MT, when given
    cognate: int = 4  # content words sharing a folded stem this long (and most of their length) count as shared

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class _Side:
    lang: str
    text: str
    lex: Lexicon
    words: list[Word]
    items: list[Item]


@dataclass
class _Piece:
    first: int  # word range, end exclusive
    last: int
    kind: str
    note: str


# -- alignment scores ---------------------------------------------------------


def _diffalign(A: np.ndarray, B: np.ndarray, temperature: float) -> tuple[np.ndarray, np.ndarray]:
    """One minus each word's best alignment probability (forward x backward softmax), both sides."""
    if len(A) == 0 or len(B) == 0:
        return np.ones(len(A)), np.ones(len(B))
    S = A @ B.T
    E = np.exp((S - S.max()) / temperature)
    P = (E / E.sum(1, keepdims=True)) * (E / E.sum(0, keepdims=True))
    return 1.0 - P.max(1), 1.0 - P.max(0)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


class _WordVectors:
    """Word vectors for many texts at once: contextual (token model) or, failing that, per word (encoder).

    Contextual vectors are rounded to float16, as ``cache`` (a :class:`align.cache.WordVectorCache`)
    keeps them, so a warm build reads them and gives the same bytes as a cold one; the token model
    is loaded only when some text is not in the cache.
    """

    def __init__(self, texts: list[str], words: dict[str, list[Word]], layer: int, encoder=None,
                 progress: bool = False, cache=None):
        from .tokens import load_token_model, token_signature

        self.vectors: dict[str, np.ndarray] = {}
        raw: dict[str, np.ndarray] = {}
        signature = token_signature(layer) if cache is not None else None
        keys = {t: t + "\x00" + " ".join(f"{w.start}:{w.end}" for w in words[t]) for t in texts}
        if signature is not None:
            found = cache.get(signature, list(keys.values()))
            raw = {t: found[keys[t]] for t in texts if keys[t] in found}
        todo = [t for t in texts if t not in raw]
        model = load_token_model() if todo else None
        if model is not None or not todo:
            it = todo
            if progress and todo:
                from tqdm import tqdm

                it = tqdm(todo, desc="token vectors", unit="text", file=sys.stderr, leave=False)
            fresh: dict[str, np.ndarray] = {}
            for t in it:
                tv = model.encode_tokens(t, upto=layer)
                X = tv.layers[min(layer, len(tv.layers) - 1)]
                starts = np.array([a for a, _ in tv.spans])
                ends = np.array([b for _, b in tv.spans])
                rows = []
                for w in words[t]:
                    idx = np.nonzero((starts < w.end) & (ends > w.start))[0]
                    rows.append(X[idx].mean(0) if len(idx) else np.zeros(X.shape[1], np.float32))
                fresh[t] = (np.stack(rows) if rows else np.zeros((0, X.shape[1]), np.float32)).astype(np.float16)
            if fresh and signature is not None:
                cache.put(signature, {keys[t]: v for t, v in fresh.items()})
            raw.update(fresh)
            raw = {t: raw[t].astype(np.float32) for t in texts}
        elif encoder is not None:
            raw = {}
            distinct = sorted({t[w.start:w.end] for t in texts for w in words[t]})
            table = dict(zip(distinct, encoder.encode(distinct))) if distinct else {}
            for t in texts:
                raw[t] = np.stack([table[t[w.start:w.end]] for w in words[t]]) if words[t] else np.zeros((0, 1))
        else:
            return
        nonempty = [v for v in raw.values() if len(v)]
        mean = np.concatenate(nonempty).mean(0) if nonempty else 0.0
        self.vectors = {t: _unit(v - mean) for t, v in raw.items()}

    def __bool__(self) -> bool:
        return bool(self.vectors)


def _smooth(s: np.ndarray, weight: float) -> np.ndarray:
    if len(s) < 2 or weight <= 0:
        return s
    p = np.pad(s, 1, mode="edge")
    return (1 - weight) * s + weight / 2 * (p[:-2] + p[2:])


def _spans(scores: np.ndarray, side: _Side, cfg: DiffConfig, shared: set[int],
           typed: set[int]) -> list[tuple[int, int]]:
    """Word ranges grown from confident content words; function words never at an edge.

    Words the other side shares (a figure, a name, a month on both sides) never
    start a span and do not count as its content; words of a one-sided typed
    item let a span grow through them (they are differences anyway).
    """
    n = len(side.words)
    func = [side.lex.is_function(w) for w in side.words]
    stop = [w.folded in side.lex.stop for w in side.words]
    weak = [func[i] or i in shared for i in range(n)]
    passes = [scores[i] >= cfg.grow or i in typed for i in range(n)]
    flagged = np.zeros(n, bool)
    for i in range(n):
        if not weak[i] and i not in typed and scores[i] >= cfg.seed and not flagged[i]:
            a = b = i
            while a > 0 and passes[a - 1]:
                a -= 1
            while b < n - 1 and passes[b + 1]:
                b += 1
            flagged[a:b + 1] = True
    runs: list[tuple[int, int]] = []
    i = 0
    while i < n:
        if not flagged[i]:
            i += 1
            continue
        j = i
        while j < n and flagged[j]:
            j += 1
        gap = range(runs[-1][1], i) if runs else range(0)
        if runs and len(gap) <= cfg.bridge and all(weak[k] for k in gap):
            runs[-1] = (runs[-1][0], j)
        else:
            runs.append((i, j))
        i = j
    out = []
    for a, b in runs:
        while a < b and weak[a]:
            a += 1
        while b > a and (stop[b - 1] or b - 1 in shared):
            b -= 1
        content = [k for k in range(a, b) if not weak[k] and k not in typed]
        if len(content) >= 2 or (content and scores[content[0]] >= cfg.single) or any(k in typed for k in range(a, b)):
            out.append((a, b))
    return out


# -- typed comparison ---------------------------------------------------------


def _q(side: _Side, it: Item) -> str:
    return f"\u201c{side.text[it.start:it.end]}\u201d"


def _typed(A: _Side, B: _Side, concepts: Concepts) -> tuple[list[_Piece], set[int]]:
    """One-sided typed items of A against B, and the words of A's items that B shares."""
    pieces: list[_Piece] = []
    shared: set[int] = set()

    def words_of(it: Item) -> range:
        return range(it.first, it.last)

    # figures, as multisets
    left = Counter(it.concept for it in B.items if it.kind == "number")
    a_only = []
    for it in (x for x in A.items if x.kind == "number"):
        if left[it.concept] > 0:
            left[it.concept] -= 1
            shared.update(words_of(it))
        else:
            a_only.append(it)
    b_spare = [v for v, k in left.items() for _ in range(k)]
    for it in a_only:
        other = f"; {B.lang} gives {', '.join(b_spare)}" if b_spare else ""
        pieces.append(_Piece(it.first, it.last, "number", f"figure {it.concept} only in {A.lang}{other}"))

    # shared vocabulary that never differs by itself (months, weekdays)
    terms_b = {x.concept for x in B.items if x.kind == "term"}
    for it in (x for x in A.items if x.kind == "term" and x.concept in terms_b):
        shared.update(words_of(it))

    # named entities and sources
    named_b = [x for x in B.items if x.kind in ("entity", "source")]
    canon_b = {concepts.canonical(x.concept) for x in named_b}
    within_b = set().union(*(concepts.ancestors(x.concept) for x in named_b)) if named_b else set()
    for it in (x for x in A.items if x.kind in ("entity", "source")):
        c = concepts.canonical(it.concept)
        if c in canon_b or c in within_b:
            shared.update(words_of(it))
            continue
        if it.ambiguous:
            continue
        broader = [y for y in named_b if concepts.canonical(y.concept) in concepts.ancestors(it.concept)]
        what = "source" if it.kind == "source" else "named"
        if broader:
            note = (f"{A.lang} is more specific: {it.concept} {_q(A, it)} where {B.lang} has "
                    f"{broader[0].concept} {_q(B, broader[0])}")
        else:
            note = f"{what} only in {A.lang}: {it.concept} {_q(A, it)}"
        pieces.append(_Piece(it.first, it.last, "attribution" if it.kind == "source" else "entity", note))

    # attribution, hedges, loaded words: concepts compared within their groups
    for kind in ("attribution", "hedge", "evaluative"):
        mine = [x for x in A.items if x.kind == kind]
        theirs = [x for x in B.items if x.kind == kind]
        have_a = {x.concept for x in mine}
        have_b = {x.concept for x in theirs}
        neutral = concepts.neutral.get(kind, frozenset())
        for it in mine:
            c = it.concept
            if c in have_b:
                shared.update(words_of(it))
                continue
            group = concepts.group(kind, c)
            if c in neutral and not any(d in group and d not in neutral and d not in have_a for d in have_b):
                continue
            alt = [y for y in theirs if y.concept in group]
            label = concepts.label(kind, c)
            if alt:
                other = ", ".join(f"{_q(B, y)} ({concepts.label(kind, y.concept)})" for y in alt)
                rest = f" where {B.lang} has {other}"
            else:
                rest = {"attribution": f"; {B.lang} has no such attribution",
                        "hedge": f"; {B.lang} does not qualify it",
                        "evaluative": f"; {B.lang} has no such word"}[kind]
            verb = {"attribution": "", "hedge": "qualifies: ", "evaluative": "says "}[kind]
            pieces.append(_Piece(it.first, it.last, kind, f"{A.lang} {verb}{_q(A, it)} ({label}){rest}"))
    return pieces, shared


def _cognates(A: _Side, B: _Side, min_stem: int) -> set[int]:
    """Content words of A spelled like a content word of B once folded (names, loanwords, Arabic-origin words).

    Two folded words (clitics off) match when they share a prefix of at least
    ``min_stem`` letters covering three quarters of the shorter one: مرتبط and
    مرتبطة, عملیات and عملیة, امنیتی and أمنية.
    """
    if min_stem <= 0:
        return set()
    theirs = {v for w in B.words if not B.lex.is_function(w) for v in w.variants if len(v) >= min_stem}
    by_start: dict[str, list[str]] = {}
    for v in theirs:
        by_start.setdefault(v[:min_stem], []).append(v)
    out = set()
    for i, w in enumerate(A.words):
        if A.lex.is_function(w):
            continue
        for v in w.variants:
            for u in by_start.get(v[:min_stem], ()):
                k = min_stem
                while k < min(len(u), len(v)) and u[k] == v[k]:
                    k += 1
                if k >= 0.75 * min(len(u), len(v)):
                    out.add(i)
    return out


def _typed_and_shared(A: _Side, B: _Side, concepts: Concepts, cognate: int) -> tuple[list[_Piece], set[int]]:
    """A's one-sided typed items against B, and A's words B shares (typed items and cognates): what
    never starts a content span."""
    typed, shared = _typed(A, B, concepts)
    return typed, shared | (_cognates(A, B, cognate) - _words(typed))


def _one_sided(A: _Side, other: str, story: dict[str, set[str]], concepts: Concepts) -> list[_Piece]:
    """Typed items of a passage only A has: what the other version loses with it."""
    out = []
    for it in A.items:
        if it.ambiguous:
            continue
        if it.kind == "number":
            elsewhere = f"; {other} gives it elsewhere" if it.concept in story["number"] else ""
            out.append(_Piece(it.first, it.last, "number",
                              f"figure {it.concept} in a passage only {A.lang} has{elsewhere}"))
        elif it.kind in ("entity", "source"):
            seen = concepts.canonical(it.concept) in story["named"]
            elsewhere = f"{other} names it elsewhere" if seen else f"{other} never names it"
            out.append(_Piece(it.first, it.last, "attribution" if it.kind == "source" else "entity",
                              f"{it.concept} {_q(A, it)} in a passage only {A.lang} has; {elsewhere}"))
        elif it.kind in ("hedge", "evaluative") or (it.kind == "attribution" and it.concept not in
                                                    concepts.neutral.get("attribution", ())):
            out.append(_Piece(it.first, it.last, it.kind,
                              f"{_q(A, it)} ({concepts.label(it.kind, it.concept)}) in a passage only {A.lang} has"))
    return out


# -- assembling ---------------------------------------------------------------


def _words(pieces: list[_Piece]) -> set[int]:
    return {k for p in pieces for k in range(p.first, p.last)}


def _assemble(side: _Side, spans: list[tuple[int, int]], typed: list[_Piece], other: str) -> list[Difference]:
    """Typed items keep their words; what is left of each alignment span is content."""
    owner = {}
    for p in typed:
        for k in range(p.first, p.last):
            owner.setdefault(k, p)
    pieces = list({id(p): p for p in owner.values()}.values())
    func = [side.lex.is_function(w) for w in side.words]
    for a, b in spans:
        k = a
        while k < b:
            if k in owner:
                k += 1
                continue
            j = k
            while j < b and j not in owner:
                j += 1
            s, e = k, j
            while s < e and func[s]:
                s += 1
            while e > s and side.words[e - 1].folded in side.lex.stop:
                e -= 1
            if any(not func[x] for x in range(s, e)):
                pieces.append(_Piece(s, e, "content", f"no counterpart in {other}"))
            k = j
    out = []
    for p in sorted(pieces, key=lambda p: p.first):
        start, end = side.words[p.first].start, side.words[p.last - 1].end
        out.append(Difference(side.lang, start, end, side.text[start:end], p.kind, p.note))
    return out


def side(text: str, lang: str, label: str | None = None) -> _Side:
    """One text read with its language's lexicon; ``label`` names it in notes (default: the language)."""
    lex = load_lexicon(lang)
    words = lex.words(text)
    return _Side(label or lang, text, lex, words, lex.items(text, words))


def typed_differences(a: _Side, b: _Side, spans_a: Sequence[tuple[int, int]] = ()) -> tuple[list[Difference], list[Difference]]:
    """The typed items of each text that the other lacks (figures, names, sources, attribution,
    hedges, loaded words), as differences with offsets into their own text; with ``spans_a`` (word
    ranges of ``a``, from :func:`alignment_spans`), also what is left of them as ``content``. The
    two texts may be in one language (two outlets' Arabic) or two. The differences' ``lang`` is
    each side's label."""
    concepts = load_concepts()
    typed_a, _ = _typed(a, b, concepts)
    typed_b, _ = _typed(b, a, concepts)
    return _assemble(a, list(spans_a), typed_a, b.lang), _assemble(b, [], typed_b, a.lang)


def alignment_spans(pairs: Sequence[tuple[str, str, str, str]], *, encoder=None, cache=None,
                    config: DiffConfig = DiffConfig()) -> list[list[tuple[int, int]]]:
    """For each pair ``(text, lang, other_text, other_lang)``: the word ranges of ``text`` that
    ``other_text`` does not say, by the scorer :func:`annotate` uses on aligned rows (token vectors
    of both texts aligned, spans grown from confident content words; words the other text shares,
    names, figures and cognates among them, never start one). The texts may be in one language or
    two; all pairs' word vectors come from one pass (and ``cache``)."""
    if not pairs:
        return []
    concepts = load_concepts()
    sides: dict[tuple[str, str], _Side] = {}
    for t, lang, u, ulang in pairs:
        for text, lg in ((t, lang), (u, ulang)):
            if (text, lg) not in sides:
                sides[(text, lg)] = side(text, lg)
    texts = list(dict.fromkeys(text for text, _ in sides))
    vecs = _WordVectors(texts, {s.text: s.words for s in sides.values()}, config.layer, encoder, False, cache)
    if not vecs:
        return [[] for _ in pairs]
    out = []
    for t, lang, u, ulang in pairs:
        A, B = sides[(t, lang)], sides[(u, ulang)]
        typed_a, shared_a = _typed_and_shared(A, B, concepts, config.cognate)
        sa, _ = _diffalign(vecs.vectors[A.text], vecs.vectors[B.text], config.temperature)
        out.append(_spans(_smooth(sa, config.smooth), A, config, shared_a, _words(typed_a)))
    return out


def annotate(rows: list[dict], langs: Sequence[str], *, encoder=None, translate: Translate | None = None,
             progress: bool = False, config: DiffConfig = DiffConfig(), cache=None) -> None:
    """Fill ``row["differences"]`` (a list of dicts) for every segments row, in place.

    ``encoder`` is used only where the default encoder's token vectors cannot be
    read (then each distinct word is embedded on its own, in one batch);
    ``translate`` adds evidence from machine translation in both directions
    (one batched call each); ``cache`` (an :class:`align.cache.WordVectorCache`) keeps the token
    model's word vectors between builds. Boilerplate rows get no differences.
    """
    a, b = sorted(langs)
    lex = {a: load_lexicon(a), b: load_lexicon(b)}
    concepts = load_concepts()
    sides: dict[tuple[int, str], _Side] = {}
    story = {lang: {"number": set(), "named": set()} for lang in (a, b)}
    for k, row in enumerate(rows):
        row["differences"] = []
        if row.get("status") == "boilerplate":
            continue
        for lang in (a, b):
            text = row.get(lang) or ""
            if not text:
                continue
            words = lex[lang].words(text)
            side = _Side(lang, text, lex[lang], words, lex[lang].items(text, words))
            sides[(k, lang)] = side
            for it in side.items:
                if it.kind == "number":
                    story[lang]["number"].add(it.concept)
                elif it.kind in ("entity", "source"):
                    story[lang]["named"].add(concepts.canonical(it.concept))

    aligned = [k for k, r in enumerate(rows) if r.get("status") == "aligned" and (k, a) in sides and (k, b) in sides]
    texts = {lang: [sides[(k, lang)].text for k in aligned] for lang in (a, b)}
    mt: dict[str, list[str]] = {}
    if translate is not None and aligned:
        mt[a] = list(translate(texts[b], b, a))  # the other side, in this side's language
        mt[b] = list(translate(texts[a], a, b))
    words_of = {s.text: s.words for s in sides.values()}
    for lang in mt:
        for t in mt[lang]:
            words_of.setdefault(t, lex[lang].words(t))
    all_texts = list(dict.fromkeys([t for lang in (a, b) for t in texts[lang]] + [t for v in mt.values() for t in v]))
    vecs = _WordVectors(all_texts, words_of, config.layer, encoder, progress, cache) if aligned else None

    for n, k in enumerate(aligned):
        A, B = sides[(k, a)], sides[(k, b)]
        typed_a, shared_a = _typed_and_shared(A, B, concepts, config.cognate)
        typed_b, shared_b = _typed_and_shared(B, A, concepts, config.cognate)
        spans_a: list[tuple[int, int]] = []
        spans_b: list[tuple[int, int]] = []
        if vecs:
            sa, sb = _diffalign(vecs.vectors[A.text], vecs.vectors[B.text], config.temperature)
            if mt:
                ma, _ = _diffalign(vecs.vectors[A.text], vecs.vectors[mt[a][n]], config.temperature)
                mb, _ = _diffalign(vecs.vectors[B.text], vecs.vectors[mt[b][n]], config.temperature)
                sa = (1 - config.mt_weight) * sa + config.mt_weight * ma
                sb = (1 - config.mt_weight) * sb + config.mt_weight * mb
            spans_a = _spans(_smooth(sa, config.smooth), A, config, shared_a, _words(typed_a))
            spans_b = _spans(_smooth(sb, config.smooth), B, config, shared_b, _words(typed_b))
        diffs = _assemble(A, spans_a, typed_a, b) + _assemble(B, spans_b, typed_b, a)
        rows[k]["differences"] = [d.to_dict() for d in diffs]

    for k, row in enumerate(rows):
        status = row.get("status", "")
        if status.endswith("_only"):
            lang = status[: -len("_only")]
            other = b if lang == a else a
            if (k, lang) in sides:
                side = sides[(k, lang)]
                pieces = _one_sided(side, other, story[other], concepts)
                row["differences"] = [d.to_dict() for d in _assemble(side, [], pieces, other)]
