"""Export entries losslessly (JSONL by default; CSV and XLSX for spreadsheets)."""
from __future__ import annotations

import csv
import json
import logging
from pathlib import Path
from typing import IO, Any, Dict, Iterable, List, Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine

from knowledge.db import session_scope
from knowledge.importer import detect_format
from knowledge.models import GUIDE_FIELDS, LIST_FIELDS, Entry, entry_to_dict

_LOGGER = logging.getLogger(__name__)

COLUMNS = (["id", "question", "similar_questions", "answer", "short_answer", "category",
            "department"] + [name for name, _label in GUIDE_FIELDS] + ["status"])


def iter_entries(engine: Engine, status: Optional[str] = None) -> List[Dict[str, Any]]:
    """All entries (optionally of one status) in import layout, ordered by id."""
    stmt = select(Entry).order_by(Entry.ext_id)
    if status:
        stmt = stmt.where(Entry.status == status)
    with session_scope(engine) as session:
        return [entry_to_dict(e) for e in session.scalars(stmt)]


def _flat(row: Dict[str, Any]) -> Dict[str, Any]:
    """Lists become JSON arrays in spreadsheet cells, so ``|`` inside items survives."""
    out = dict(row)
    for name in ("similar_questions",) + LIST_FIELDS:
        out[name] = json.dumps(out[name], ensure_ascii=False) if out[name] else ""
    return out


def write_jsonl(rows: Iterable[Dict[str, Any]], out: IO[str]) -> int:
    """One JSON object per line, UTF-8, keys in the documented column order."""
    count = 0
    for row in rows:
        out.write(json.dumps({k: row[k] for k in COLUMNS}, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[Dict[str, Any]], out: IO[str]) -> int:
    """CSV with a header row; list fields as JSON arrays."""
    writer = csv.DictWriter(out, fieldnames=COLUMNS, extrasaction="ignore")
    writer.writeheader()
    count = 0
    for row in rows:
        writer.writerow(_flat(row))
        count += 1
    return count


def write_xlsx(rows: Iterable[Dict[str, Any]], path: Path) -> int:
    """An XLSX workbook with one sheet, header in the first row."""
    from openpyxl import Workbook
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("entries")
    sheet.append(COLUMNS)
    count = 0
    for row in rows:
        flat = _flat(row)
        sheet.append([flat[c] for c in COLUMNS])
        count += 1
    workbook.save(path)
    return count


def export_file(engine: Engine, path: Optional[Path], fmt: Optional[str] = None,
                status: Optional[str] = None, stdout: Optional[IO[str]] = None) -> int:
    """Export to ``path`` (or ``stdout`` as JSONL when ``path`` is None); returns the count."""
    rows = iter_entries(engine, status)
    if path is None:
        if stdout is None:
            raise ValueError("stdout is required when no path is given")
        return write_jsonl(rows, stdout)
    fmt = detect_format(path, fmt)
    if fmt == "xlsx":
        return write_xlsx(rows, path)
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            return write_csv(rows, out)
        if fmt == "json":
            json.dump([{k: r[k] for k in COLUMNS} for r in rows], out, ensure_ascii=False, indent=1)
            return len(rows)
        return write_jsonl(rows, out)
