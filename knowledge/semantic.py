"""Latent semantic space of the knowledge base itself (character LSA), fitted at index build."""
from __future__ import annotations

import logging
import math
from collections import Counter
from typing import Sequence

import numpy as np

from knowledge.rows import grow

_LOGGER = logging.getLogger(__name__)

FIT_SAMPLE = 3000
"""The SVD is fitted on at most this many entries; the others are folded in."""


class SemanticSpace:
    """Character-unigram LSA over the entries' text (title repeated, plus the answer prefix).

    Characters that co-occur in the same entries end up close, which links a resident's words to
    the official wording (婚假 ~ 婚丧假, 带薪年假 ~ 年休假) without any external model: the space is
    learnt from the published entries when the index is built, and new entries are folded in.
    ``similarities`` returns the cosine between a query and every slot (0 for empty slots).
    """

    def __init__(self, dims: int = 150, seed: int = 0):
        self.dims, self.seed = dims, seed
        self.vocab: dict[str, int] = {}
        self.idf = np.zeros(0, np.float32)
        self.proj = np.zeros((0, 0), np.float32)  # vocab x dims
        self.vectors = np.zeros((0, 0), np.float32)  # slots x dims, rows unit length or zero
        self.fitted_docs = 0

    @property
    def ready(self) -> bool:
        """True once a space has been fitted."""
        return self.proj.size > 0

    def _weights(self, texts: Sequence[str]
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Unit-length TF-IDF weights of ``texts`` over the characters the space knows, flattened.

        Returns:
            (columns, weights, bounds, known shares). Text ``i`` owns entries
            ``bounds[i]:bounds[i + 1]``. Its known share is the IDF-weighted share of its
            characters that the space knows (unknown characters count with the highest IDF), so
            a query made mostly of unseen words is not judged on its one familiar character.
        """
        vocab, idf, top = self.vocab, self.idf, float(self.idf.max())
        cols: list[int] = []
        counts: list[int] = []
        bounds = [0]
        shares = np.zeros(len(texts), np.float32)
        for i, text in enumerate(texts):
            known = total = 0.0
            for ch, c in Counter(text).items():
                col = vocab.get(ch)
                w = (1.0 + math.log(c)) * (float(idf[col]) if col is not None else top)
                total += w * w
                if col is not None:
                    known += w * w
                    cols.append(col)
                    counts.append(c)
            bounds.append(len(cols))
            shares[i] = math.sqrt(known / total) if total else 0.0
        col_arr = np.asarray(cols, np.int64)
        vals = (np.log(np.asarray(counts, np.float32)) + 1.0) * idf[col_arr]
        bound_arr = np.asarray(bounds)
        owner = np.repeat(np.arange(len(texts)), np.diff(bound_arr))
        norms = np.sqrt(np.bincount(owner, vals * vals, minlength=len(texts)))
        vals /= np.maximum(norms, 1e-9)[owner].astype(np.float32)
        return col_arr, vals, bound_arr, shares

    def embed(self, text: str) -> np.ndarray:
        """Unit vector of a normalised text in the space (zeros if nothing is known)."""
        if not self.ready:
            return np.zeros(0, np.float32)
        return self._embed_many([text])[0][0]

    def fit(self, texts: Sequence[str | None]) -> None:
        """Fit the space on ``texts`` (slot order; None marks an empty slot) and embed them all.

        Args:
            texts: Normalised entry texts by slot.
        """
        from scipy.sparse import csr_matrix
        from sklearn.utils.extmath import randomized_svd

        live = [i for i, t in enumerate(texts) if t]
        step = max(1, math.ceil(len(live) / FIT_SAMPLE))
        df: Counter = Counter()
        for i in live[::step]:
            df.update(set(texts[i]))
        n = len(live[::step])
        chars = sorted(ch for ch, d in df.items() if d >= 2)
        dims = min(self.dims, n - 1, len(chars) - 1)
        if dims < 2:
            self.__init__(self.dims, self.seed)
            return
        self.vocab = {ch: i for i, ch in enumerate(chars)}
        self.idf = np.array([math.log((1 + n) / (1 + df[ch])) + 1.0 for ch in chars], np.float32)
        cols, vals, bounds, _ = self._weights([texts[i] for i in live])
        mat = csr_matrix((vals, cols, bounds), shape=(len(live), len(chars)), dtype=np.float32)
        _, _, vt = randomized_svd(mat[::step], dims, n_iter=3, random_state=self.seed)
        self.proj = np.ascontiguousarray(vt.T, dtype=np.float32)
        self.dims = dims
        emb = np.asarray(mat @ self.proj, np.float32)
        emb /= np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-9)
        self.vectors = np.zeros((len(texts), dims), np.float32)
        self.vectors[live] = emb
        self.fitted_docs = len(live)
        _LOGGER.debug("semantic space: %d docs (%d sampled), %d chars, %d dims", len(live), n,
                      len(chars), dims)

    def set(self, slot: int, text: str | None) -> None:
        """Embed (or clear, with None) one slot, growing the table as needed."""
        if not self.ready:
            return
        self.vectors = grow(self.vectors, slot + 1)
        self.vectors[slot] = self.embed(text) if text else 0.0

    def _embed_many(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Unit vectors and known shares of several texts in one pass (a long query's clauses).

        Returns:
            (vectors, a zero row for a text with nothing known; known shares, see ``_weights``).
        """
        cols, vals, bounds, shares = self._weights(texts)
        vecs = np.zeros((len(texts), self.dims), np.float32)
        has = np.diff(bounds) > 0
        if has.any():
            sums = np.add.reduceat(self.proj[cols] * vals[:, None], bounds[:-1][has], axis=0)
            sums /= np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-9)
            vecs[has] = sums
        return vecs, shares

    def similarities(self, texts: Sequence[str], weights: Sequence[float],
                     slots: int) -> np.ndarray | None:
        """Cosine of the weighted sum of the texts' vectors with the first ``slots`` slots.

        Args:
            texts: Normalised query clauses.
            weights: Their weights.
            slots: Length of the result.

        Returns:
            Similarities by slot, or None when the space or the query is empty.
        """
        if not self.ready or not texts:
            return None
        vecs, shares = self._embed_many(texts)
        w = np.asarray(weights, np.float32)
        vec = w @ vecs
        norm = float(np.linalg.norm(vec))
        if norm < 1e-9:
            return None
        vec /= norm
        total = float(w.sum()) or 1.0
        share = float(w @ shares) / total
        out = np.zeros(slots, np.float32)
        m = min(slots, len(self.vectors))
        out[:m] = (self.vectors[:m] @ vec) * share
        return out
