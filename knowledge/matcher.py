"""Question-pair matching with the sentence encoder: cosine similarity at a dev-chosen threshold."""
from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Sequence

import numpy as np

from knowledge.encoder import SentenceEncoder, load_default

_LOGGER = logging.getLogger(__name__)

PAIR_FILES = ("lcqmc_dev.tsv", "lcqmc_test.tsv", "afqmc_dev.tsv")


def read_pairs(path: str | Path) -> list[tuple[str, str, int]]:
    """Read ``s1<TAB>s2<TAB>label`` rows (label 0 or 1); malformed rows are skipped."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            parts = line.rstrip("\r\n").split("\t")
            if len(parts) == 3 and parts[2].strip() in ("0", "1"):
                out.append((parts[0], parts[1], int(parts[2])))
    return out


def similarities(encoder: SentenceEncoder, pairs: Sequence[tuple[str, str, int]]) -> np.ndarray:
    """Cosine similarity of each pair's two questions."""
    if not pairs:
        return np.zeros(0, np.float32)
    left = encoder.encode([a for a, _, _ in pairs])
    right = encoder.encode([b for _, b, _ in pairs])
    return (left * right).sum(axis=1)


def best_threshold(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """The threshold with the best accuracy (``score >= threshold`` means a match), and that
    accuracy; every midpoint between distinct scores is tried."""
    if len(scores) == 0:
        raise ValueError("no pairs to choose a threshold on")
    order = np.argsort(scores, kind="stable")
    s, y = scores[order], labels[order].astype(np.int64)
    # Threshold just above s[i]: pairs 0..i say "no", the rest say "yes".
    neg_right = np.cumsum(1 - y)
    pos_right = y[::-1].cumsum()[::-1]
    correct = np.concatenate([[pos_right[0]], neg_right + np.append(pos_right[1:], 0)])
    cuts = np.concatenate([[s[0] - 1e-6], (s[:-1] + s[1:]) / 2, [s[-1] + 1e-6]])
    valid = np.concatenate([[True], s[:-1] != s[1:], [True]])
    best = int(np.argmax(np.where(valid, correct, -1)))
    return float(cuts[best]), float(correct[best] / len(s))


def evaluate(encoder: SentenceEncoder, data_dir: Path) -> dict:
    """Accuracy on LCQMC dev/test and AFQMC dev at the threshold chosen on LCQMC dev.

    Args:
        encoder: The sentence encoder.
        data_dir: Directory with the pair files (read in place, never copied).

    Returns:
        ``{"threshold": t, "lcqmc_dev": acc, ...}`` for the files present.
    """
    dev = read_pairs(data_dir / PAIR_FILES[0])
    labels = np.array([y for _, _, y in dev])
    threshold, dev_acc = best_threshold(similarities(encoder, dev), labels)
    out: dict = {"threshold": round(threshold, 4), "lcqmc_dev": round(dev_acc, 4)}
    for name in PAIR_FILES[1:]:
        path = data_dir / name
        if path.exists():
            pairs = read_pairs(path)
            sims = similarities(encoder, pairs)
            gold = np.array([y for _, _, y in pairs])
            out[name.removesuffix(".tsv")] = round(float(((sims >= threshold) == gold).mean()), 4)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m knowledge.matcher --data DIR``: print the matching accuracies as JSON."""
    parser = argparse.ArgumentParser(prog="python -m knowledge.matcher",
                                     description="问句匹配评测 / question matching accuracy")
    parser.add_argument("--data", type=Path, required=True,
                        help="含 lcqmc_dev.tsv 的目录 / directory with lcqmc_dev.tsv")
    args = parser.parse_args(argv)
    encoder = load_default()
    if encoder is None:
        print("句向量模型未安装（make install）/ encoder not installed (make install)",
              file=sys.stderr)
        return 2
    if not (args.data / PAIR_FILES[0]).exists():
        print(f"缺少 / missing: {args.data / PAIR_FILES[0]}", file=sys.stderr)
        return 2
    print(json.dumps(evaluate(encoder, args.data), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
