"""Tests for knowledge.matcher: pair files, threshold choice, evaluation and CLI."""
import json

import numpy as np
import pytest

from knowledge.matcher import best_threshold, evaluate, main, read_pairs, similarities


def test_read_pairs_skips_malformed(tmp_path):
    path = tmp_path / "p.tsv"
    path.write_bytes("a\tb\t1\nno tabs\nc\td\t2\ne\tf\t0\r\n\xff\t\t1\n".encode("utf-8")
                     + b"\xff\xfe\t\xe4\t0\n")
    pairs = read_pairs(path)
    assert [p[2] for p in pairs] == [1, 0, 1, 0]
    assert pairs[0] == ("a", "b", 1)


def test_best_threshold_is_exact():
    scores = np.array([0.1, 0.2, 0.3, 0.8, 0.9, 0.35])
    labels = np.array([0, 0, 1, 1, 1, 0])
    th, acc = best_threshold(scores, labels)
    assert acc == pytest.approx(5 / 6)
    assert ((scores >= th) == labels).mean() == pytest.approx(acc)
    th, acc = best_threshold(np.array([0.5, 0.5, 0.5]), np.array([1, 1, 0]))
    assert acc == pytest.approx(2 / 3) and th < 0.5  # ties cannot be split
    with pytest.raises(ValueError):
        best_threshold(np.zeros(0), np.zeros(0))


def _write(path, rows):
    path.write_text("".join(f"{a}\t{b}\t{y}\n" for a, b, y in rows), encoding="utf-8")


ROWS = [("社保卡丢了怎么补办", "社会保障卡遗失如何补领", 1),
        ("公积金怎么提取", "住房公积金提取需要什么条件", 1),
        ("驾照到期怎么换", "驾驶证有效期满换证流程", 1),
        ("社保卡丢了怎么补办", "护照过期了怎么办", 0),
        ("公积金怎么提取", "今天天气怎么样", 0),
        ("驾照到期怎么换", "结婚登记要带什么", 0)]


def test_evaluate_and_cli(tmp_path, encoder, capsys):
    _write(tmp_path / "lcqmc_dev.tsv", ROWS)
    _write(tmp_path / "lcqmc_test.tsv", ROWS[:2] + ROWS[3:5])
    sims = similarities(encoder, read_pairs(tmp_path / "lcqmc_dev.tsv"))
    assert sims[:3].min() > sims[3:].max()
    report = evaluate(encoder, tmp_path)
    assert report["lcqmc_dev"] == 1.0 and report["lcqmc_test"] == 1.0
    assert "afqmc_dev" not in report
    assert main(["--data", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["lcqmc_dev"] == 1.0


def test_cli_missing_data(tmp_path, encoder, capsys):
    assert main(["--data", str(tmp_path)]) == 2
    assert "lcqmc_dev.tsv" in capsys.readouterr().err
