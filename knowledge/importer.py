"""Import entries from JSONL, JSON, CSV or XLSX: validate everything first, then write atomically."""
from __future__ import annotations

import codecs
import csv
import json
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from knowledge.errors import ImportFileError, ValidationError
from knowledge.schema import COLUMN_ALIASES, EntryInput

_LOGGER = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("id", "question", "answer")
FORMATS = ("jsonl", "json", "csv", "xlsx")
PROGRESS_MIN_BYTES = 1_000_000
csv.field_size_limit(50 * 1024 * 1024)


@dataclass(frozen=True)
class RowError:
    """A problem with one row; ``row`` is the 1-based line (JSONL) or sheet row (CSV/XLSX)."""

    row: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"（字段 {self.field}）" if self.field else ""
        return f"第 {self.row} 行{where}：{self.message}"


@dataclass
class ImportReport:
    """The outcome of an import (or of a dry run)."""

    total: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    dry_run: bool = False
    errors: List[RowError] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        """Whether anything was (or, in a dry run, would be) written."""
        return not self.errors or self.skipped > 0

    def summary(self) -> str:
        """One line for the terminal, in Chinese."""
        verb = "将" if self.dry_run else "已"
        return (f"共 {self.total} 行：{verb}新增 {self.created}，{verb}更新 {self.updated}，"
                f"未变 {self.unchanged}，跳过 {self.skipped}，错误 {len(self.errors)}")


def detect_format(path: Path, fmt: Optional[str] = None) -> str:
    """The file format from ``fmt`` or the file extension."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    fmt = {"ndjson": "jsonl", "xlsm": "xlsx"}.get(fmt, fmt)
    if fmt not in FORMATS:
        raise ImportFileError(f"不支持的文件格式“{fmt or '无扩展名'}”，支持 {', '.join(FORMATS)}")
    return fmt


def _text_lines(path: Path, encoding: str) -> Iterator[Tuple[int, str]]:
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    with path.open("rb") as fh:
        number = 0
        pending = ""
        for raw in fh:
            number += 1
            try:
                text = decoder.decode(raw)
            except UnicodeDecodeError as exc:
                raise ImportFileError(f"第 {number} 行不是 {encoding} 编码，"
                                      f"请另存为 UTF-8 或用 --encoding 指定（如 gb18030）") from exc
            pending += text
            if pending.endswith("\n"):
                yield number, pending
                pending = ""
        if pending:
            yield number, pending


def _jsonl_rows(path: Path, encoding: str) -> Iterator[Tuple[int, Any]]:
    for number, line in _text_lines(path, encoding):
        line = line.lstrip("\ufeff").strip()
        if not line:
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, ValidationError(f"不是合法的 JSON：{exc.msg}（第 {exc.colno} 列）")


def _json_rows(path: Path, encoding: str) -> Iterator[Tuple[int, Any]]:
    try:
        data = json.loads(path.read_bytes().decode(encoding).lstrip("\ufeff"))
    except UnicodeDecodeError as exc:
        raise ImportFileError(f"文件不是 {encoding} 编码，请用 --encoding 指定") from exc
    except json.JSONDecodeError as exc:
        raise ImportFileError(f"不是合法的 JSON：{exc.msg}（第 {exc.lineno} 行）") from exc
    if not isinstance(data, list):
        raise ImportFileError("JSON 文件应为条目数组")
    yield from enumerate(data, 1)


def _check_header(header: List[str]) -> None:
    canonical = {COLUMN_ALIASES.get(h.strip(), h.strip()) for h in header if h}
    missing = [c for c in REQUIRED_COLUMNS if c not in canonical]
    if missing:
        raise ImportFileError(f"缺少必需的列：{', '.join(missing)}（至少需要 id, question, answer）")


def _csv_rows(path: Path, encoding: str) -> Iterator[Tuple[int, Any]]:
    lines = (text for _n, text in _text_lines(path, encoding))
    reader = csv.reader(lines)
    header = next(reader, None)
    if header is None:
        return
    header = [h.lstrip("\ufeff") for h in header]
    _check_header(header)
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            yield reader.line_num, ValidationError(f"列数 {len(row)} 多于表头 {len(header)}")
            continue
        yield reader.line_num, dict(zip(header, row))


def _xlsx_rows(path: Path) -> Iterator[Tuple[int, Any]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, BadZipFile, OSError, KeyError, ValueError) as exc:
        raise ImportFileError(f"无法读取 XLSX 文件：{exc}") from exc
    sheet = workbook.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    header_row = next(rows, None)
    if header_row is None:
        return
    header = ["" if h is None else str(h) for h in header_row]
    _check_header(header)
    for number, row in enumerate(rows, 2):
        if row is None or all(v in (None, "") for v in row):
            continue
        yield number, {h: ("" if v is None else v) for h, v in zip(header, row) if h}
    workbook.close()


def read_rows(path: Path, fmt: Optional[str] = None,
              encoding: str = "utf-8") -> Iterator[Tuple[int, Any]]:
    """Yield ``(row_number, mapping_or_error)`` from a file of any supported format.

    Raises:
        ImportFileError: when the file as a whole cannot be read.
    """
    if not path.is_file():
        raise ImportFileError(f"找不到文件：{path}")
    fmt = detect_format(path, fmt)
    if path.stat().st_size == 0:
        raise ImportFileError("文件为空")
    readers = {"jsonl": lambda: _jsonl_rows(path, encoding), "json": lambda: _json_rows(path, encoding),
               "csv": lambda: _csv_rows(path, encoding), "xlsx": lambda: _xlsx_rows(path)}
    yield from readers[fmt]()


def parse_file(path: Path, fmt: Optional[str] = None, encoding: str = "utf-8",
               progress: Optional[bool] = None) -> Tuple[List[Tuple[int, EntryInput]], List[RowError]]:
    """Validate every row; returns the good entries and the row errors."""
    from tqdm import tqdm
    if progress is None:
        progress = path.is_file() and path.stat().st_size >= PROGRESS_MIN_BYTES and sys.stderr.isatty()
    good: List[Tuple[int, EntryInput]] = []
    errors: List[RowError] = []
    seen: Dict[str, int] = {}
    rows = read_rows(path, fmt, encoding)
    for number, row in tqdm(rows, desc="校验 / validating", unit="行", disable=not progress):
        if isinstance(row, ValidationError):
            errors.append(RowError(number, row.field, row.message))
            continue
        if not isinstance(row, dict):
            errors.append(RowError(number, "", "每一行应为一个对象"))
            continue
        try:
            item = EntryInput.from_mapping(row)
        except ValidationError as exc:
            errors.append(RowError(number, exc.field, exc.message))
            continue
        if item.ext_id in seen:
            errors.append(RowError(number, "id", f"id {item.ext_id} 与第 {seen[item.ext_id]} 行重复"))
            continue
        seen[item.ext_id] = number
        good.append((number, item))
    if not good and not errors:
        raise ImportFileError("文件中没有任何条目")
    return good, errors


def import_file(service: Any, path: Path, actor: str = "import", fmt: Optional[str] = None,
                dry_run: bool = False, skip_bad_rows: bool = False, encoding: str = "utf-8",
                progress: Optional[bool] = None) -> ImportReport:
    """Import a file into ``service`` (a ``KnowledgeService``), upserting by id.

    A file with any bad row imports nothing unless ``skip_bad_rows`` is set.
    """
    good, errors = parse_file(path, fmt, encoding, progress)
    report = ImportReport(total=len(good) + len(errors), errors=errors, dry_run=dry_run)
    if errors and not skip_bad_rows:
        return report
    report.skipped = len(errors)
    items = [item for _n, item in good]
    outcomes = service.preview_entries(items) if dry_run else service.save_entries(items, actor)
    for outcome in outcomes:
        if outcome.action == "created":
            report.created += 1
        elif outcome.action == "updated":
            report.updated += 1
        else:
            report.unchanged += 1
    return report
