"""Tests for knowledge.matcher: features, tree export, persistence, training CLI."""
import json
import random

import numpy as np
import pytest

from knowledge.matcher import (DEFAULT_PATH, FEATURES, Matcher, PairFeaturizer, TreeEnsemble,
                               _levenshtein, load_default, main, read_pairs)


@pytest.fixture(scope="module")
def featurizer():
    return PairFeaturizer({"社保卡": 5.0, "补办": 4.0}, {"社": 3.0, "保": 2.0})


def test_levenshtein():
    assert _levenshtein("kitten", "sitting") == 3
    assert _levenshtein("", "abc") == 3
    assert _levenshtein("社保卡", "社保卡") == 0


def test_feature_vector(featurizer):
    same = featurizer.features("社保卡怎么补办", "社保卡怎么补办")
    diff = featurizer.features("社保卡怎么补办", "公积金贷款利率")
    assert len(same) == len(FEATURES)
    named = dict(zip(FEATURES, same))
    assert named["char_jac"] == 1.0 and named["edit_sim"] == 1.0 and named["substring"] == 1.0
    assert dict(zip(FEATURES, diff))["char_jac"] < 0.2
    nums = dict(zip(FEATURES, featurizer.features("3个月", "6个月")))
    assert nums["num_mismatch"] == 1.0


def test_tree_export_matches_sklearn():
    from sklearn.ensemble import GradientBoostingClassifier

    rng = np.random.RandomState(0)
    X = rng.rand(300, 4)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0.8).astype(int)
    gbm = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(X, y)
    ours = TreeEnsemble.from_sklearn(gbm)
    clone = TreeEnsemble(**{k: v for k, v in ours.to_json().items()})
    np.testing.assert_allclose(clone.predict(X), gbm.predict_proba(X)[:, 1], atol=1e-4)


def _write_pairs(path, n=240, seed=0):
    rng = random.Random(seed)
    topics = ["社保卡", "公积金", "驾驶证", "进京证", "养老金", "医保", "护照", "户口"]
    verbs = ["怎么补办", "如何办理", "在哪里办", "需要什么材料", "多少钱", "多久能办好"]
    rows = []
    for _ in range(n):
        t, v = rng.choice(topics), rng.choice(verbs)
        if rng.random() < 0.5:
            rows.append(f"{t}{v}\t请问{t}{v}？\t1")
        else:
            rows.append(f"{t}{v}\t{rng.choice([x for x in topics if x != t])}{v}\t0")
    rows.append("malformed row without tabs")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_read_pairs_skips_malformed(tmp_path):
    path = tmp_path / "lcqmc_dev.tsv"
    _write_pairs(path, n=10)
    pairs = read_pairs(path)
    assert len(pairs) == 10 and all(lab in (0, 1) for _, _, lab in pairs)


def test_train_cli_save_and_load(tmp_path, capsys):
    _write_pairs(tmp_path / "lcqmc_dev.tsv")
    out = tmp_path / "model.json"
    assert main(["train", "--data", str(tmp_path), "--out", str(out)]) == 0
    assert out.stat().st_size < 2_000_000
    assert "lcqmc_dev.tsv" in capsys.readouterr().out
    matcher = Matcher.load(out)
    assert 0.0 < matcher.threshold < 1.0
    pos = matcher.similarity("社保卡怎么补办", "请问社保卡怎么补办")
    neg = matcher.similarity("社保卡怎么补办", "护照怎么补办")
    assert pos > neg


def test_load_rejects_other_formats(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "other"}), encoding="utf-8")
    with pytest.raises(ValueError):
        Matcher.load(path)


@pytest.mark.skipif(not DEFAULT_PATH.exists(), reason="shipped model not built")
def test_shipped_model_ranks_paraphrase_above_unrelated():
    matcher = load_default()
    assert matcher is not None
    probs = matcher.similarities([("社保卡丢了怎么补办", "社保卡丢失如何补办"),
                                  ("社保卡丢了怎么补办", "公积金贷款利率是多少")])
    assert probs[0] > probs[1] + 0.1
    assert matcher.similarity("社保卡怎么补办", "社保卡怎么补办？") > matcher.threshold
