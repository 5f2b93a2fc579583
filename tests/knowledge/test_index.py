"""Tests for knowledge.index: retrieval styles, live edits, terms, edge cases."""
import time
from dataclasses import replace

import pytest

from knowledge.decide import RetrievalConfig
from knowledge.index import IndexDoc, SearchIndex
from knowledge.store import EntryStore
from knowledge.segment import Segmenter

DOCS = [
    IndexDoc("card-replace", "社会保障卡丢失了如何补办？", ("社保卡坏了怎么换",),
             "社会保障卡丢失后，先拨打挂失电话办理临时挂失，再携带身份证到银行网点补办新卡。"),
    IndexDoc("card-apply", "如何申领社会保障卡？", ("第一次办社保卡去哪里",),
             "首次申领社会保障卡可通过单位集中申领，或本人携带身份证到合作银行网点申领。"),
    IndexDoc("fund-withdraw", "哪些情况可以提取住房公积金？", (),
             "职工购买、建造、翻建、大修自住住房，偿还住房贷款本息，租房，离休退休等情形可以提取住房公积金。"),
    IndexDoc("fund-loan-rate", "住房公积金个人住房贷款利率是多少？", (),
             "首套住房公积金贷款利率五年以上为百分之二点八五，二套房利率另行规定。"),
    IndexDoc("fund-transfer", "如何办理职工住房公积金账户转出？", (),
             "职工调离本市的，可以通过转入地公积金中心申请异地转移接续，无需回京办理。"),
    IndexDoc("pension-age", "企业职工退休年龄是如何规定的？", (),
             "男职工年满六十周岁，女干部年满五十五周岁，女工人年满五十周岁可以办理退休。"),
    IndexDoc("pension-inherit", "被保险人死亡后，基本养老保险个人账户如何处理？", (),
             "参保人员死亡后，个人账户中的个人缴费部分余额可以依法继承，由继承人申领。"),
    IndexDoc("driver-70", "70岁以上的驾驶人还可以继续开车吗？", (),
             "年满70周岁的驾驶人每年进行一次身体检查，提交身体条件证明后可以继续驾驶小型汽车。"),
    IndexDoc("entry-permit", "进京证有效期及申请次数？", (),
             "外埠车辆进京证每次有效期最长7天，每年最多办理12次。"),
    IndexDoc("dog-register", "怎么办理养犬登记？", (),
             "养犬人应当自取得犬只之日起30日内，携带犬只到动物诊疗机构办理养犬登记。"),
    IndexDoc("fire-extinguisher", "干粉灭火器该怎么用？", (),
             "提起灭火器，拔下保险销，一手握住喷管，另一手按下压把，对准火焰根部喷射。"),
    IndexDoc("marriage-leave", "职工婚丧假是如何规定的？", (),
             "职工本人结婚可以享受婚假三天，直系亲属死亡可以享受丧假三天，路程假另计。"),
]


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter()


@pytest.fixture()
def index(segmenter):
    idx = SearchIndex(segmenter=segmenter)
    idx.build(DOCS)
    return idx


def top(idx, query):
    result = idx.search(query)
    return result.candidates[0].id if result.candidates else None


def test_build_and_len(index):
    assert len(index) == len(DOCS)
    assert "card-apply" in index and "nope" not in index


def test_exact_question_is_answered(index):
    result = index.search("干粉灭火器该怎么用？")
    assert result.decision == "answer"
    assert result.candidates[0].id == "fire-extinguisher"
    assert result.candidates[0].question == "干粉灭火器该怎么用？"


@pytest.mark.parametrize("query,expected", [
    ("社保卡丢了咋补办", "card-replace"),                       # colloquial
    ("設保卡丟了怎麼補辦", "card-replace"),                     # Traditional + homophone
    ("那个设保卡丢了要怎么补", "card-replace"),                 # ASR, no punctuation
    ("公基金贷款利率", "fund-loan-rate"),                       # ASR homophone, keywords
    ("进京证次数", "entry-permit"),                             # keyword fragment
    ("我在北京上班交了五年公积金，今年辞职回郑州工作了，北京这边的公积金账户怎么转出去？",
     "fund-transfer"),                                          # long-winded
    ("我爸七十多岁了还能开车吗", "driver-70"),                  # numerals + paraphrase
    ("参保人去世以后养老保险个人账户里的钱能继承吗", "pension-inherit"),
])
def test_resident_styles(index, query, expected):
    assert top(index, query) == expected


def test_unrelated_query_is_not_answered(index):
    for query in ("怎么养猫", "明天天气怎么样", "量子计算机多少钱"):
        assert index.search(query).decision != "answer"


@pytest.mark.parametrize("query", ["", "   ", "？？！！", "😀😀"])
def test_empty_queries(index, query):
    result = index.search(query)
    assert result.decision == "none" and result.candidates == ()


def test_huge_query_is_cheap(index):
    query = "我想问一下社保卡丢了怎么补办，" + "前面说了很多很多的背景情况" * 8000
    start = time.perf_counter()
    result = index.search(query)
    assert time.perf_counter() - start < 1.0
    assert result.decision in ("answer", "clarify", "none")


def test_scores_calibrated_and_sorted(index):
    result = index.search("住房公积金", top=5)
    scores = [c.score for c in result.candidates]
    assert scores == sorted(scores, reverse=True)
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert len(result.candidates) <= 5


def test_live_upsert_and_remove(index):
    new = IndexDoc("elder-card", "如何办理老年人优待证？", ("老年卡在哪办",),
                   "年满60周岁的本市户籍老年人可在社区服务站申请办理老年人优待证。")
    assert top(index, "老年人优待证怎么办") != "elder-card"
    index.upsert(new)
    assert len(index) == len(DOCS) + 1
    assert top(index, "老年人优待证怎么办") == "elder-card"
    index.upsert(IndexDoc("elder-card", "如何办理北京通养老助残卡？", (),
                          "本市户籍老年人可在社区服务站申请北京通养老助残卡。"))
    assert len(index) == len(DOCS) + 1
    assert top(index, "养老助残卡怎么办理") == "elder-card"
    assert "elder-card" not in [c.id for c in index.search("老年人优待证").candidates[:1]]
    index.remove("elder-card")
    index.remove("elder-card")  # unknown ids are ignored
    assert len(index) == len(DOCS)
    assert "elder-card" not in [c.id for c in index.search("养老助残卡怎么办理").candidates]


def test_similar_questions_are_matched(index):
    assert top(index, "第一次办社保卡要去哪里") == "card-apply"


def test_terms_update_is_live(index):
    query = "长护险怎么申请"
    index.upsert(IndexDoc("ltc", "长期护理保险待遇如何申请？", (), "失能人员可以申请长期护理保险待遇。"))
    before = index.search(query)
    index.set_terms({"长护险": "长期护理保险"})
    after = index.search(query)
    assert after.candidates[0].id == "ltc"
    assert after.candidates[0].score > (before.candidates[0].score if before.candidates else 0)
    index.set_terms({"长护险": "长期护理保险"})  # unchanged map: no-op
    index.set_terms({})
    assert index.search(query).candidates[0].score <= after.candidates[0].score


def test_duplicate_ids_last_wins(segmenter):
    idx = SearchIndex(segmenter=segmenter)
    idx.build([DOCS[0], replace(DOCS[0], title="干粉灭火器该怎么用？")])
    assert len(idx) == 1 and top(idx, "干粉灭火器怎么用") == "card-replace"


def test_a_build_pauses_the_collector_and_restores_it(segmenter, monkeypatch):
    import gc

    seen = []
    real_insert = EntryStore.insert

    def insert(self, doc, config, terms, bulk=False):
        seen.append(gc.isenabled())
        if doc.id == "boom":
            raise RuntimeError("boom")
        real_insert(self, doc, config, terms, bulk)

    monkeypatch.setattr(EntryStore, "insert", insert)
    idx = SearchIndex(segmenter=segmenter)
    idx.build(DOCS)
    assert seen and not any(seen) and gc.isenabled()
    with pytest.raises(RuntimeError):  # a failing build still turns the collector back on
        idx.build([DOCS[0], replace(DOCS[1], id="boom")])
    assert gc.isenabled()
    gc.disable()  # and one that was off stays off
    try:
        idx.build(DOCS)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_empty_index_grows_by_upserts_and_compacts(segmenter):
    idx = SearchIndex(segmenter=segmenter)
    assert idx.search("社保卡").decision == "none"
    for doc in DOCS:
        idx.upsert(doc)
    assert idx._store.sem.ready  # the semantic space is fitted once enough entries arrived
    for i in range(700):  # churn: replace one entry over and over, forcing compaction
        idx.upsert(replace(DOCS[9], answer=f"第{i}版：" + DOCS[9].answer))
    assert len(idx) == len(DOCS)
    assert idx._store.rows.n < 700
    assert top(idx, "养犬登记怎么办") == "dog-register"
    assert top(idx, "干粉灭火器怎么用") == "fire-extinguisher"


def test_config_thresholds_drive_the_decision(segmenter):
    strict = SearchIndex(RetrievalConfig(answer_threshold=1.01, clarify_threshold=0.99),
                         segmenter=segmenter)
    strict.build(DOCS)
    assert strict.search("干粉灭火器该怎么用？").decision != "answer"
