"""Tests for knowledge.vector_cache: the on-disk vector cache, its upgrade and its pruning."""
import sqlite3

import numpy as np
import pytest

from knowledge.encoder import SentenceEncoder, default_dir
from knowledge.index import IndexDoc, SearchIndex
from bot.settings import Settings
from knowledge import encoder as encoder_mod
from knowledge.vector_cache import IDLE_DAYS, VectorCache

DAY = 86400.0


class Clock:
    """A movable clock (seconds since the epoch)."""

    def __init__(self, day: int = 20000):
        self.now = day * DAY

    def __call__(self) -> float:
        return self.now


def test_round_trip_and_model_separation(tmp_path):
    cache = VectorCache(tmp_path / "v.sqlite", "model-a")
    cache.put_many({"甲": np.ones(4, np.float32), "乙": np.zeros(4, np.float32)})
    got = cache.get_many(["甲", "乙", "丙"])
    assert set(got) == {"甲", "乙"} and got["甲"].tolist() == [1, 1, 1, 1]
    assert VectorCache(tmp_path / "v.sqlite", "model-b").get_many(["甲"]) == {}


def test_a_call_that_does_not_wait_skips_a_busy_cache(tmp_path):
    """A live save does not wait while a prune holds the cache: in this process (the lock) or
    in another (SQLite's file lock); it finds nothing and stores nothing, and goes on."""
    import threading

    cache = VectorCache(tmp_path / "v.sqlite", "m")
    cache.put_many({"甲": np.ones(4, np.float32)})
    with cache._lock:  # what a prune of this process holds
        done = []
        worker = threading.Thread(target=lambda: done.append(
            (cache.get_many(["甲"], wait=False), cache.put_many({"乙": np.ones(4)}, wait=False))))
        worker.start()
        worker.join(5)
        assert done == [({}, None)]
    other = sqlite3.connect(str(tmp_path / "v.sqlite"))
    other.execute("BEGIN EXCLUSIVE")  # what another process's VACUUM holds
    try:
        assert cache.get_many(["甲"], wait=False) == {}
        cache.put_many({"丙": np.ones(4)}, wait=False)
    finally:
        other.rollback()
        other.close()
    assert set(cache.get_many(["甲", "乙", "丙"])) == {"甲"}  # skipped writes left no trace
    cache.put_many({"丁": np.ones(4, np.float32)})  # a waiting call still writes
    assert set(cache.get_many(["丁"])) == {"丁"}
    assert cache._db.execute("PRAGMA busy_timeout").fetchone()[0] == 30000  # restored


def test_prune_deletes_what_no_build_used(tmp_path):
    clock = Clock()
    cache = VectorCache(tmp_path / "v.sqlite", "m", clock)
    cache.put_many({"旧问题": np.ones(4, np.float32), "常用问题": np.ones(4, np.float32)})
    clock.now += 20 * DAY
    assert set(cache.get_many(["常用问题"])) == {"常用问题"}  # read: counts as used today
    clock.now += 15 * DAY  # 旧问题 idle 35 days, 常用问题 15 days
    assert cache.prune(0) == 0 and cache.count() == 2  # 0 keeps everything
    assert cache.prune(30) == 1
    assert set(cache.get_many(["旧问题", "常用问题"])) == {"常用问题"}
    assert cache.prune(30) == 0


def test_other_models_vectors_are_pruned(tmp_path):
    clock = Clock()
    VectorCache(tmp_path / "v.sqlite", "old-model", clock).put_many({"甲": np.ones(4, np.float32)})
    clock.now += 31 * DAY
    cache = VectorCache(tmp_path / "v.sqlite", "new-model", clock)
    cache.put_many({"甲": np.zeros(4, np.float32)})
    assert cache.prune(30) == 1 and cache.count() == 1


def test_large_prune_compacts_the_file(tmp_path):
    clock = Clock()
    path = tmp_path / "v.sqlite"
    cache = VectorCache(path, "m", clock)
    cache.put_many({f"问题{i}": np.ones(512, np.float32) for i in range(2000)})
    before = path.stat().st_size
    clock.now += 31 * DAY
    assert cache.prune(30) == 2000
    assert path.stat().st_size < before / 4


def test_a_cache_from_before_the_used_column_is_upgraded(tmp_path):
    path = tmp_path / "v.sqlite"
    clock = Clock()
    key = VectorCache(tmp_path / "scratch.sqlite", "m")._key("老问题")
    with sqlite3.connect(path) as db:  # the layout written by earlier versions
        db.execute("CREATE TABLE vectors (key TEXT PRIMARY KEY, vec BLOB)")
        db.execute("INSERT INTO vectors VALUES (?, ?)", (key, np.ones(4, np.float32).tobytes()))
    cache = VectorCache(path, "m", clock)
    assert cache.get_many(["老问题"])["老问题"].tolist() == [1, 1, 1, 1]
    clock.now += 29 * DAY
    assert cache.prune(30) == 0  # upgraded rows start their idle time at the upgrade
    clock.now += 2 * DAY
    assert cache.prune(30) == 1


def test_not_a_cache_file_is_an_error(tmp_path):
    path = tmp_path / "v.sqlite"
    path.write_bytes(b"not a database" * 100)
    with pytest.raises(sqlite3.Error):
        VectorCache(path, "m")


@pytest.mark.parametrize("raw, days", [("", IDLE_DAYS), ("7", 7), (" 0 ", 0), ("-3", IDLE_DAYS),
                                       ("三十", IDLE_DAYS), ("1.5", IDLE_DAYS)])
def test_idle_days_setting(raw, days, caplog):
    assert Settings.from_env({"GOVBOT_VECTOR_CACHE_DAYS": raw}).vector_cache_days == days
    assert ("GOVBOT_VECTOR_CACHE_DAYS" in caplog.text) == (raw.strip() not in ("", "7", "0"))


def test_an_index_build_prunes_stale_vectors(tmp_path, encoder, monkeypatch):
    path = tmp_path / "v.sqlite"
    clock = Clock()
    stale = VectorCache(path, encoder.model_id, clock)
    stale.put_many({"一个早已删除的问题": np.ones(encoder.dim, np.float32)})
    enc = SentenceEncoder(default_dir(), cache_path=path)
    enc._cache._clock = lambda: clock.now + 31 * DAY  # the build runs a month later
    monkeypatch.setitem(encoder_mod._OPTIONS, "cache_days", 30)
    index = SearchIndex(encoder=enc)
    index.build([IndexDoc("a", "社保卡怎么补办", ("社保卡丢了",), "到网点补办。")], prune=False)
    assert stale.count() == 3  # a caller that holds a lock prunes later
    index.build([IndexDoc("a", "社保卡怎么补办", ("社保卡丢了",), "到网点补办。")])
    assert stale.get_many(["一个早已删除的问题"]) == {}
    assert set(stale.get_many(["社保卡怎么补办", "社保卡丢了"])) == {"社保卡怎么补办", "社保卡丢了"}
    monkeypatch.setitem(encoder_mod._OPTIONS, "cache_days", 0)  # 0: nothing is ever deleted
    enc._cache._clock = lambda: clock.now + 400 * DAY
    SearchIndex(encoder=enc).build([IndexDoc("b", "护照怎么办", (), "出入境窗口。")])
    assert stale.count() == 3


def test_an_empty_cache_is_filled(tmp_path, encoder):
    enc = SentenceEncoder(default_dir(), cache_path=tmp_path / "v.sqlite")
    assert enc._cache.count() == 0
    enc.encode(["居住证怎么办理"], use_cache=True)
    assert enc._cache.count() == 1
