"""Row and entry scores over postings: channel coverage, BM25, and the best row per entry."""
from __future__ import annotations

import logging
from typing import Mapping

import numpy as np

from knowledge.postings import Postings

_LOGGER = logging.getLogger(__name__)

K1, B = 1.2, 0.5
"""BM25 constants of the answer channel (short fields: mild length normalisation)."""


def _spread(values: list[float], lens: list[int]) -> np.ndarray:
    """Each term's value repeated over its postings (one array op, not one per term)."""
    return np.repeat(np.asarray(values, np.float32), lens)


def coverage(post: Postings, terms: Mapping[str, float], n_rows: int, n_alive: int,
             row_mass: np.ndarray, power: float, exponent: float) -> np.ndarray:
    """Per row, ``qcov**a * dcov**(1-a)``: the IDF-weighted share of the query found in the
    row and of the row found in the query.

    Args:
        post: The channel's postings (rows are the index's question rows).
        terms: Query term -> weight (clause weights of a long query).
        n_rows: Rows to score.
        n_alive: Live rows (for the IDF).
        row_mass: Each row's total ``idf ** power`` (``dcov``'s denominator).
        power: IDF exponent.
        exponent: ``a``.

    Returns:
        Scores in 0..1, shape ``(n_rows,)``.
    """
    hits, qvals, dvals, lens = [], [], [], []
    qmass = 0.0
    for term, qw in terms.items():
        tid = post.vocab.get(term)
        idf = post.idf(tid, n_alive) ** power
        qmass += qw * idf
        if tid is not None and post.df[tid] > 0:
            hits.append(np.frombuffer(post.rows[tid], np.int32))
            qvals.append(qw * idf)
            dvals.append(idf)
            lens.append(len(hits[-1]))
    if not hits:
        return np.zeros(n_rows, np.float32)
    rows = np.concatenate(hits)
    qh = np.bincount(rows, _spread(qvals, lens), minlength=n_rows)[:n_rows]
    dh = np.bincount(rows, _spread(dvals, lens), minlength=n_rows)[:n_rows]
    qcov = np.minimum(qh / max(qmass, 1e-6), 1.0)
    dcov = np.minimum(dh / np.maximum(row_mass[:n_rows], 1e-6), 1.0)
    return ((qcov ** exponent) * (dcov ** (1.0 - exponent))).astype(np.float32)


def bm25(post: Postings, terms: Mapping[str, float], doc_len: np.ndarray,
         n_docs: int) -> np.ndarray:
    """BM25 of every entry's answer field, divided by the query's best possible score.

    Args:
        post: The answer-field postings (rows are entry slots).
        terms: Query term -> weight.
        doc_len: Field length per slot (its length is the number of slots).
        n_docs: Live entries (for the IDF and the mean length).

    Returns:
        Scores in 0..1, shape ``(len(doc_len),)``.
    """
    nslots = len(doc_len)
    avg = max(float(doc_len.sum()) / max(n_docs, 1), 1.0)
    slots, tfs, weights, lens = [], [], [], []
    qmass = 0.0
    for term, qw in terms.items():
        tid = post.vocab.get(term)
        idf = post.idf(tid, n_docs)
        qmass += qw * idf
        if tid is not None and post.df[tid] > 0:
            slots.append(np.frombuffer(post.rows[tid], np.int32))
            tfs.append(np.frombuffer(post.tfs[tid], np.float32))
            weights.append(qw * idf)
            lens.append(len(slots[-1]))
    if not slots:
        return np.zeros(nslots, np.float32)
    hit, tf = np.concatenate(slots), np.concatenate(tfs)
    vals = _spread(weights, lens) * tf * (K1 + 1) / (tf + K1 * (1 - B + B * doc_len[hit] / avg))
    score = np.bincount(hit, vals, minlength=nslots)[:nslots]
    return (score / max(qmass * (K1 + 1), 1e-6)).astype(np.float32)


def best_docs(sim: np.ndarray, row_doc: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The ``k`` best entries by their best row (rows scoring 0 or less never count).

    Args:
        sim: Score per row.
        row_doc: Entry slot of each row.
        k: Entries wanted.

    Returns:
        (slot, score) pairs, best first; ties keep row order.
    """
    m = min(len(sim), 4 * k + 8)
    part = np.argpartition(-sim, m - 1)[:m] if m < len(sim) else np.arange(len(sim))
    out, seen = [], set()
    for row in part[np.argsort(-sim[part], kind="stable")]:
        if sim[row] <= 0 or len(out) >= k:
            break
        slot = int(row_doc[row])
        if slot not in seen:
            seen.add(slot)
            out.append((slot, float(sim[row])))
    return out
