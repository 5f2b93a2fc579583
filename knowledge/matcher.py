"""Question-pair similarity: gradient-boosted trees over lexical, phonetic and IDF features."""
from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from knowledge.normalize import normalize
from knowledge.phonetic import bigrams, syllables
from knowledge.segment import STOP_WORDS, Segmenter

_LOGGER = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parent / "data" / "matcher.json"
FORMAT = "govbot-matcher/1"
_MAX_CHARS = 64
_NEGATIONS = "不没无非未别勿莫"
_QTYPES = (("为什么", "为啥", "why", "原因"), ("怎么", "如何", "怎样", "咋", "方法"),
           ("哪", "在哪", "地点", "地址"), ("多少", "几", "多久", "多长"), ("什么时候", "何时", "时间"),
           ("吗", "是否", "能不能", "可不可以", "能否", "可以"), ("什么", "啥"))
FEATURES = (
    "char_jac", "bi_jac", "bi_cov_min", "bi_cov_max", "word_jac", "widf_jac", "widf_cov_min",
    "widf_cov_max", "cidf_cos", "py_dice", "edit_sim", "lcs_ratio", "len_min", "len_max",
    "len_ratio", "len_diff", "num_mismatch", "num_match", "neg_mismatch", "qtype_mismatch",
    "miss_idf_max_a", "miss_idf_max_b", "miss_words", "same_first", "same_last", "diff_chars",
    "miss_cidf_max", "miss_cidf_min", "miss_cidf_sum", "substring", "diff_function_only",
)
_FUNCTION_CHARS = frozenset("的了吗呢么啊吧呀是有在和与及或就都也还这那个一么什怎样如何哪谁请问能可以会要")


def _levenshtein(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def _lcs_substring(a: str, b: str) -> int:
    best, prev = 0, [0] * (len(b) + 1)
    for ca in a:
        cur = [0] * (len(b) + 1)
        for j, cb in enumerate(b, 1):
            if ca == cb:
                cur[j] = prev[j - 1] + 1
                if cur[j] > best:
                    best = cur[j]
        prev = cur
    return best


def _jac(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a or b else 0.0


def _qtypes(text: str) -> frozenset[int]:
    return frozenset(i for i, cues in enumerate(_QTYPES) if any(c in text for c in cues))


class PairFeaturizer:
    """Turns a pair of normalised questions into the ``FEATURES`` vector."""

    def __init__(self, word_idf: dict[str, float], char_idf: dict[str, float],
                 segmenter: Segmenter | None = None):
        self.word_idf, self.char_idf = word_idf, char_idf
        self.default_word_idf = max(word_idf.values(), default=8.0)
        self.default_char_idf = max(char_idf.values(), default=8.0)
        self.seg = segmenter or Segmenter()

    def _widf(self, w: str) -> float:
        return self.word_idf.get(w, self.default_word_idf)

    def _side(self, text: str):
        words = self.seg.cut_all(text)
        content = [w for w in words if w not in STOP_WORDS]
        return words, set(content), set(bigrams(list(text))), syllables(words)

    def features(self, a: str, b: str) -> list[float]:
        """Feature vector of a pair (both normalised, capped at 64 characters).

        Args:
            a: First question.
            b: Second question.

        Returns:
            Values in ``FEATURES`` order.
        """
        a, b = a[:_MAX_CHARS], b[:_MAX_CHARS]
        wa, ca, ba, pa = self._side(a)
        wb, cb, bb, pb = self._side(b)
        la, lb = len(a), len(b)
        inter_b = len(ba & bb)
        ia = sum(self._widf(w) for w in ca)
        ib = sum(self._widf(w) for w in cb)
        ii = sum(self._widf(w) for w in ca & cb)
        iu = sum(self._widf(w) for w in ca | cb)
        cov = (ii / ia if ia else 0.0, ii / ib if ib else 0.0)
        va = {c: self.char_idf.get(c, self.default_char_idf) for c in a}
        vb = {c: self.char_idf.get(c, self.default_char_idf) for c in b}
        dot = sum(v * vb[c] for c, v in va.items() if c in vb)
        na = math.sqrt(sum(v * v for v in va.values()))
        nb = math.sqrt(sum(v * v for v in vb.values()))
        pya, pyb = set(bigrams(pa)), set(bigrams(pb))
        num_a = {w for w in wa if w.isdigit()}
        num_b = {w for w in wb if w.isdigit()}
        neg_a = sum(a.count(c) for c in _NEGATIONS)
        neg_b = sum(b.count(c) for c in _NEGATIONS)
        miss_a = [self._widf(w) for w in ca - cb]
        miss_b = [self._widf(w) for w in cb - ca]
        longest = max(la, lb, 1)
        sa, sb = set(a), set(b)
        cmiss_a = [self.char_idf.get(c, self.default_char_idf) for c in sa - sb]
        cmiss_b = [self.char_idf.get(c, self.default_char_idf) for c in sb - sa]
        cm_a, cm_b = max(cmiss_a, default=0.0), max(cmiss_b, default=0.0)
        return [
            _jac(set(a), set(b)),
            _jac(ba, bb),
            inter_b / max(min(len(ba), len(bb)), 1) if min(len(ba), len(bb)) else 0.0,
            inter_b / max(len(ba), len(bb), 1),
            _jac(ca, cb),
            ii / iu if iu else 0.0,
            min(cov),
            max(cov),
            dot / (na * nb) if na and nb else 0.0,
            2 * len(pya & pyb) / (len(pya) + len(pyb)) if pya or pyb else 0.0,
            1.0 - _levenshtein(a, b) / longest,
            _lcs_substring(a, b) / max(min(la, lb), 1),
            float(min(la, lb)),
            float(max(la, lb)),
            min(la, lb) / longest,
            float(abs(la - lb)),
            float(bool(num_a or num_b) and num_a != num_b),
            float(bool(num_a) and num_a == num_b),
            float((neg_a > 0) != (neg_b > 0)),
            float(_qtypes(a) != _qtypes(b)),
            max(miss_a, default=0.0),
            max(miss_b, default=0.0),
            float(len(miss_a) + len(miss_b)),
            float(bool(wa and wb) and wa[0] == wb[0]),
            float(bool(wa and wb) and wa[-1] == wb[-1]),
            float(len(sa ^ sb)),
            max(cm_a, cm_b),
            min(cm_a, cm_b),
            sum(cmiss_a) + sum(cmiss_b),
            float(bool(a and b) and (a in b or b in a)),
            float(not ((sa ^ sb) - _FUNCTION_CHARS)),
        ]


class TreeEnsemble:
    """Binary gradient-boosted regression trees evaluated without scikit-learn."""

    def __init__(self, init: float, rate: float, trees: list[dict]):
        self.init, self.rate = init, rate
        self.trees = [{k: np.asarray(v) for k, v in t.items()} for t in trees]
        width = max((len(t["f"]) for t in self.trees), default=1)
        # Padded (trees x nodes) tables: every row of a batch walks all trees at once.
        self._f = np.zeros((len(trees), width), np.int64)
        self._t = np.zeros((len(trees), width), np.float64)
        self._l = np.full((len(trees), width), -1, np.int64)
        self._r = np.full((len(trees), width), -1, np.int64)
        self._v = np.zeros((len(trees), width), np.float64)
        for i, t in enumerate(self.trees):
            m = len(t["f"])
            self._f[i, :m] = np.maximum(t["f"], 0)
            self._t[i, :m], self._l[i, :m], self._r[i, :m] = t["t"], t["l"], t["r"]
            self._v[i, :m] = t["v"]

    @classmethod
    def from_sklearn(cls, model) -> "TreeEnsemble":
        """Export a fitted ``GradientBoostingClassifier`` (binary, log-loss)."""
        prior = model.init_.class_prior_[1]
        trees = []
        for est in model.estimators_[:, 0]:
            t = est.tree_
            trees.append({"f": t.feature.tolist(), "t": np.round(t.threshold, 6).tolist(),
                          "l": t.children_left.tolist(), "r": t.children_right.tolist(),
                          "v": np.round(t.value[:, 0, 0], 6).tolist()})
        return cls(math.log(prior / (1 - prior)), float(model.learning_rate), trees)

    def to_json(self) -> dict:
        """Serialisable form."""
        return {"init": self.init, "rate": self.rate,
                "trees": [{k: v.tolist() for k, v in t.items()} for t in self.trees]}

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Probability of the positive class for each row of ``X``."""
        X = np.atleast_2d(np.asarray(X, np.float64))
        n_trees = len(self.trees)
        if not n_trees:
            return np.full(len(X), 1.0 / (1.0 + math.exp(-self.init)))
        tree_ix = np.arange(n_trees)[None, :]
        node = np.zeros((len(X), n_trees), np.int64)
        rows = np.arange(len(X))[:, None]
        while True:
            left = self._l[tree_ix, node]
            inner = left >= 0
            if not inner.any():
                break
            go_left = X[rows, self._f[tree_ix, node]] <= self._t[tree_ix, node]
            node = np.where(inner, np.where(go_left, left, self._r[tree_ix, node]), node)
        score = self.init + self.rate * self._v[tree_ix, node].sum(axis=1)
        return 1.0 / (1.0 + np.exp(-score))


class Matcher:
    """Similarity of two questions as a probability that they ask the same thing."""

    def __init__(self, featurizer: PairFeaturizer, model: TreeEnsemble, threshold: float = 0.5):
        self.featurizer, self.model, self.threshold = featurizer, model, threshold

    def similarities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """Probabilities for pairs of texts (normalised here; normalising twice is harmless)."""
        if not pairs:
            return np.zeros(0)
        feats = [self.featurizer.features(normalize(a), normalize(b)) for a, b in pairs]
        return self.model.predict(np.array(feats))

    def similarity(self, a: str, b: str) -> float:
        """Probability that ``a`` and ``b`` ask the same thing."""
        return float(self.similarities([(a, b)])[0])

    def save(self, path: str | Path) -> None:
        """Write the model as JSON (no pickle)."""
        data = {"format": FORMAT, "features": list(FEATURES), "threshold": self.threshold,
                "word_idf": {k: round(v, 3) for k, v in self.featurizer.word_idf.items()},
                "char_idf": {k: round(v, 3) for k, v in self.featurizer.char_idf.items()},
                "model": self.model.to_json()}
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")),
                              encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path, segmenter: Segmenter | None = None) -> "Matcher":
        """Read a model written by ``save``."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != FORMAT or data.get("features") != list(FEATURES):
            raise ValueError(f"{path}: not a {FORMAT} model with the current features")
        m = data["model"]
        feat = PairFeaturizer(data["word_idf"], data["char_idf"], segmenter)
        return cls(feat, TreeEnsemble(m["init"], m["rate"], m["trees"]), data["threshold"])


def load_default(segmenter: Segmenter | None = None) -> Matcher | None:
    """The shipped model, or None (logged) when it is missing or unreadable."""
    try:
        return Matcher.load(DEFAULT_PATH, segmenter)
    except (OSError, ValueError) as exc:
        _LOGGER.warning("question matcher unavailable: %s", exc)
        return None


# ---------------------------------------------------------------------------- training
def read_pairs(path: str | Path) -> list[tuple[str, str, int]]:
    """Read ``s1<TAB>s2<TAB>label`` rows (malformed rows skipped), normalised."""
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3 and parts[2].strip() in ("0", "1"):
                out.append((normalize(parts[0]), normalize(parts[1]), int(parts[2])))
    return out


def _idf_tables(texts: Iterable[str], seg: Segmenter) -> tuple[dict, dict]:
    wdf: dict[str, int] = {}
    cdf: dict[str, int] = {}
    n = 0
    for text in texts:
        n += 1
        for w in set(seg.cut(text)):
            wdf[w] = wdf.get(w, 0) + 1
        for c in set(text):
            cdf[c] = cdf.get(c, 0) + 1
    idf = lambda df: math.log((n + 1) / (df + 1)) + 1.0  # noqa: E731
    return ({w: idf(d) for w, d in wdf.items() if d >= 2}, {c: idf(d) for c, d in cdf.items()})


def best_threshold(probs: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Threshold maximising accuracy, and that accuracy."""
    best = (0.5, float(((probs >= 0.5) == labels).mean()))
    for th in np.linspace(0.05, 0.95, 91):
        acc = float(((probs >= th) == labels).mean())
        if acc > best[1]:
            best = (float(th), acc)
    return best


def train(data_dir: str | Path, out: str | Path = DEFAULT_PATH, trees: int = 250,
          depth: int = 4) -> dict:
    """Fit the matcher on LCQMC dev; threshold from 5-fold out-of-fold predictions on it.

    Args:
        data_dir: Directory holding ``lcqmc_dev.tsv`` (read in place, never copied).
        out: Where the JSON model goes.
        trees: Boosting rounds.
        depth: Tree depth.

    Returns:
        Training report (threshold, out-of-fold accuracy, size, seconds).
    """
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.model_selection import cross_val_predict

    t0 = time.perf_counter()
    pairs = read_pairs(Path(data_dir) / "lcqmc_dev.tsv")
    seg = Segmenter()
    word_idf, char_idf = _idf_tables((t for a, b, _ in pairs for t in (a, b)), seg)
    feat = PairFeaturizer(word_idf, char_idf, seg)
    X = np.array([feat.features(a, b) for a, b, _ in pairs])
    y = np.array([lab for _, _, lab in pairs])
    gbm = GradientBoostingClassifier(n_estimators=trees, max_depth=depth, learning_rate=0.05,
                                     subsample=0.8, random_state=0)
    oof = cross_val_predict(gbm, X, y, cv=5, method="predict_proba")[:, 1]
    threshold, oof_acc = best_threshold(oof, y)
    gbm.fit(X, y)
    matcher = Matcher(feat, TreeEnsemble.from_sklearn(gbm), threshold)
    matcher.save(out)
    report = {"pairs": len(pairs), "threshold": threshold, "oof_accuracy": round(oof_acc, 4),
              "bytes": Path(out).stat().st_size, "seconds": round(time.perf_counter() - t0, 1)}
    _LOGGER.info("matcher trained: %s", report)
    return report


def evaluate(matcher: Matcher, path: str | Path) -> dict:
    """Accuracy of ``matcher`` at its threshold on one pair file."""
    pairs = read_pairs(path)
    probs = matcher.similarities([(a, b) for a, b, _ in pairs])
    labels = np.array([lab for _, _, lab in pairs])
    return {"pairs": len(pairs), "accuracy": round(float(((probs >= matcher.threshold) ==
                                                          labels).mean()), 4)}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m knowledge.matcher train|eval --data DIR``."""
    parser = argparse.ArgumentParser(prog="python -m knowledge.matcher")
    parser.add_argument("command", choices=("train", "eval"))
    parser.add_argument("--data", required=True, help="directory with lcqmc_*.tsv, afqmc_dev.tsv")
    parser.add_argument("--out", default=str(DEFAULT_PATH))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.command == "train":
        print(json.dumps(train(args.data, args.out), ensure_ascii=False))
    matcher = Matcher.load(args.out)
    for name in ("lcqmc_dev.tsv", "lcqmc_test.tsv", "afqmc_dev.tsv"):
        path = Path(args.data) / name
        if path.exists():
            print(name, json.dumps(evaluate(matcher, path)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
