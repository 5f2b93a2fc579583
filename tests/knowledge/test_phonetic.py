"""Tests for knowledge.phonetic: toneless pinyin, folding, homophone matching."""
from knowledge.phonetic import bigrams, fuzzy, pinyin_overlap, syllables, to_pinyin, token_pinyin


def test_token_pinyin_is_toneless():
    assert token_pinyin("社保") == ("she", "bao")
    assert token_pinyin("") == ()


def test_homophone_asr_errors_share_pinyin():
    assert token_pinyin("设保") == token_pinyin("社保")
    assert syllables(["公基金"]) == syllables(["公积金"])
    assert syllables(["公基金"], fold=False) == ["gong", "ji", "jin"]


def test_heteronym_uses_phrase_context():
    assert token_pinyin("银行") == ("yin", "hang")
    assert token_pinyin("行走")[0] == "xing"


def test_non_han_kept_as_one_item():
    assert token_pinyin("12345") == ("12345",)
    assert to_pinyin("C1驾照")[0].lower() == "c1"


def test_fuzzy_folds_accent_confusions():
    assert fuzzy("shang") == "san"
    assert fuzzy("zhi") == "zi"
    assert fuzzy("qing") == "qin"
    assert fuzzy("ma") == "ma"


def test_bigrams_and_overlap():
    assert bigrams(["a", "b", "c"]) == ["a_b", "b_c"]
    assert bigrams(["a"]) == ["a"]
    same = pinyin_overlap(syllables(["设保卡"]), syllables(["社保卡"]))
    other = pinyin_overlap(syllables(["设保卡"]), syllables(["公积金"]))
    assert same == 1.0 and other == 0.0
    assert pinyin_overlap([], []) == 0.0
