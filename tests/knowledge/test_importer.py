"""Import: formats, upsert idempotence, dry run, row errors, encodings, empty and large files."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from knowledge.errors import ImportFileError
from knowledge.exporter import export_file
from knowledge.importer import import_file, parse_file
from tests.conftest import SHARED_DATA, missing

FIX = Path(__file__).resolve().parent.parent / "fixtures" / "knowledge"


def test_jsonl_import_creates_then_is_idempotent(kb):
    first = import_file(kb, FIX / "good.jsonl")
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = import_file(kb, FIX / "good.jsonl")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    entry = kb.get_entry("t-pension")
    assert entry["similar_questions"] == ["退休金怎么领", "养老金发放时间"]
    assert entry["short_answer"]  # derived when staff leave it empty
    assert kb.get_entry("t-card-lost")["materials"] == ["居民身份证原件"]


def test_dry_run_writes_nothing(kb):
    report = import_file(kb, FIX / "good.jsonl", dry_run=True)
    assert report.dry_run and report.created == 3
    assert kb.count() == 0


def test_changed_row_is_an_update_with_revision(kb, tmp_path):
    import_file(kb, FIX / "good.jsonl")
    rows = [json.loads(l) for l in (FIX / "good.jsonl").read_text(encoding="utf-8").splitlines()]
    rows[1]["answer"] = "新的答案：养老金每月15日前发放。"
    path = tmp_path / "changed.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), encoding="utf-8")
    report = import_file(kb, path, actor="staff-a")
    assert (report.created, report.updated, report.unchanged) == (0, 1, 2)
    history = kb.history("t-pension")
    assert [h["action"] for h in history] == ["create", "update"]
    assert history[-1]["actor"] == "staff-a"
    assert history[-1]["before"]["answer"] != history[-1]["after"]["answer"]


def test_bad_rows_name_row_and_reason_and_import_nothing(kb):
    report = import_file(kb, FIX / "bad_rows.jsonl")
    rows = {e.row: e for e in report.errors}
    assert set(rows) == {2, 4, 5}
    assert rows[2].field == "answer"
    assert rows[4].field == "id"
    assert "JSON" in rows[5].message
    assert "第 2 行" in str(rows[2])
    assert kb.count() == 0


def test_skip_bad_rows_imports_the_good_ones(kb):
    report = import_file(kb, FIX / "bad_rows.jsonl", skip_bad_rows=True)
    assert report.created == 2 and report.skipped == 3
    assert kb.get_entry("ok-1") and kb.get_entry("ok-3")


def test_csv_and_xlsx_with_chinese_headers(kb):
    assert import_file(kb, FIX / "good.csv").created == 2
    assert kb.get_entry("c-1")["similar_questions"] == ["居住证办理", "外地人办居住证"]
    assert import_file(kb, FIX / "good.xlsx").created == 2
    assert kb.get_entry("x-1")["materials"] == ["居民身份证"]


def test_missing_column_is_a_file_error(kb):
    with pytest.raises(ImportFileError, match="answer"):
        import_file(kb, FIX / "missing_column.csv")


def test_empty_and_blank_files(kb, tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(ImportFileError, match="为空"):
        import_file(kb, empty)
    blank = tmp_path / "blank.jsonl"
    blank.write_text("\n\n  \n", encoding="utf-8")
    with pytest.raises(ImportFileError, match="没有任何条目"):
        import_file(kb, blank)


def test_wrong_encoding_names_the_line(kb, tmp_path):
    path = tmp_path / "gbk.csv"
    path.write_bytes("id,question,answer\ng-1,社保卡怎么办,带身份证\n".encode("gb18030"))
    with pytest.raises(ImportFileError, match="第 2 行不是 utf-8"):
        import_file(kb, path)
    report = import_file(kb, path, encoding="gb18030")
    assert report.created == 1 and kb.get_entry("g-1")["question"] == "社保卡怎么办"


def test_unknown_format_and_missing_file(kb, tmp_path):
    with pytest.raises(ImportFileError, match="不支持"):
        import_file(kb, FIX / "good.jsonl", fmt="docx")
    with pytest.raises(ImportFileError, match="找不到"):
        import_file(kb, tmp_path / "nope.jsonl")


def test_duplicate_ids_in_one_file(kb, tmp_path):
    path = tmp_path / "dup.jsonl"
    row = {"id": "d-1", "question": "问题", "answer": "答案"}
    path.write_text(json.dumps(row) + "\n" + json.dumps(row) + "\n", encoding="utf-8")
    report = import_file(kb, path)
    assert report.errors and "重复" in report.errors[0].message and kb.count() == 0


def test_hostile_text_is_stored_inert_and_controls_stripped(kb, tmp_path):
    path = tmp_path / "xss.jsonl"
    row = {"id": "x-1", "question": "<script>alert(1)</script>怎么办", "answer": "答\x00案<b>粗</b>"}
    path.write_text(json.dumps(row, ensure_ascii=False), encoding="utf-8")
    import_file(kb, path)
    entry = kb.get_entry("x-1")
    assert entry["question"] == "<script>alert(1)</script>怎么办"
    assert entry["answer"] == "答案<b>粗</b>"


def test_fifty_megabyte_file(kb, tmp_path):
    """A 50 MB file validates and imports in one transaction (not a timing test)."""
    path = tmp_path / "big.jsonl"
    filler = "材料说明" * 2500  # 10,000 characters, about 30 KB in UTF-8
    with path.open("w", encoding="utf-8") as fh:
        i = 0
        while fh.tell() < 50 * 1024 * 1024:
            fh.write(json.dumps({"id": f"big-{i}", "question": f"第{i}个问题怎么办理",
                                 "answer": filler}, ensure_ascii=False) + "\n")
            i += 1
    good, errors = parse_file(path)
    assert not errors and len(good) == i
    report = import_file(kb, path)
    assert report.created == i and kb.count() == i


def test_gov_faq_imports_as_it_is(kb):
    path = SHARED_DATA / "gov_faq_beijing.jsonl"
    if not path.is_file():
        missing(f"shared data absent: {SHARED_DATA} (set GOVBOT_SHARED_DATA)")
    report = import_file(kb, path)
    assert not report.errors and report.created == 2080
    assert len(kb.index) == 2080


def test_export_round_trips_losslessly(kb, tmp_path, sqlite_url):
    import_file(kb, FIX / "good.jsonl")
    import_file(kb, FIX / "good.xlsx")
    kb.set_status("t-fund-rent", "draft", "staff")
    for fmt in ("jsonl", "csv", "xlsx", "json"):
        out = tmp_path / f"export.{fmt}"
        export_file(kb.engine, out)
        from knowledge.db import make_engine, upgrade
        from knowledge.service import KnowledgeService
        other_engine = make_engine(f"sqlite:///{tmp_path / f'other-{fmt}.db'}")
        upgrade(other_engine)
        other = KnowledgeService(other_engine)
        assert import_file(other, out).created == 5
        first, second = io.StringIO(), io.StringIO()
        export_file(kb.engine, None, stdout=first)
        export_file(other_engine, None, stdout=second)
        assert first.getvalue() == second.getvalue(), fmt
    assert '"status": "draft"' in first.getvalue()


def test_a_corrupt_workbook_is_a_clear_import_error(kb, tmp_path):
    from knowledge.errors import ImportFileError
    from knowledge.importer import import_file
    broken = tmp_path / "entries.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(ImportFileError, match="XLSX"):
        import_file(kb, broken, dry_run=True, progress=False)
