"""Tests for knowledge.segment: private tokenizer, user words, stop words, user-dict files."""
import jieba

from knowledge.segment import STOP_WORDS, Segmenter, usable_word, write_user_dict

WORD = "蓝鲸办件通"


def test_add_words_keeps_domain_word_whole():
    seg = Segmenter()
    assert WORD not in seg.cut_all(f"{WORD}怎么用")
    seg.add_words([WORD])
    assert WORD in seg.cut_all(f"{WORD}怎么用")
    assert WORD in seg.user_words


def test_private_tokenizer_leaves_global_jieba_untouched():
    seg = Segmenter([WORD])
    assert WORD in seg.cut(f"{WORD}怎么用")
    assert seg._tok is not jieba.dt
    assert WORD not in jieba.dt.lcut(f"{WORD}怎么用")


def test_tokenizers_share_the_dictionary_but_not_user_words():
    first, second = Segmenter([WORD]), Segmenter()
    assert WORD in first.cut_all(f"{WORD}怎么用")
    assert WORD not in second.cut_all(f"{WORD}怎么用")
    assert first._tok.FREQ is not second._tok.FREQ
    # Both start from jieba's main dictionary: ordinary words segment as a fresh tokenizer does
    # (not the global one, which other code may have given user words).
    fresh = jieba.Tokenizer()
    for text in ("社会保障卡怎么办理", "住房公积金提取条件", "驾驶证到期换证"):
        assert second.cut_all(text) == fresh.lcut(text, HMM=False)


def test_stop_words_filtered_only_by_cut():
    seg = Segmenter()
    tokens = seg.cut("社保卡怎么补办")
    assert "怎么" in seg.cut_all("社保卡怎么补办")
    assert "怎么" not in tokens and "补办" in tokens
    assert not set(tokens) & STOP_WORDS


def test_empty_text():
    assert Segmenter().cut("") == []


def test_usable_word():
    assert usable_word("社保卡")
    assert not usable_word("社")
    assert not usable_word("社保 卡")
    assert not usable_word("这是一个特别特别长的服务事项名称啊")


def test_write_user_dict_loads_in_jieba(tmp_path):
    path = tmp_path / "sub" / "userdict.txt"
    written = write_user_dict(["社保卡", "社保卡", "长期护理保险", "x", "带 空格", WORD], path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert written == 3 == len(lines)
    assert all(len(line.split()) == 2 and line.split()[1].isdigit() for line in lines)
    tok = jieba.Tokenizer()
    tok.load_userdict(str(path))
    assert WORD in tok.lcut(f"{WORD}怎么用")
