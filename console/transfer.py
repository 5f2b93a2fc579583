"""Import and export: upload CSV, XLSX or JSONL; a dry run reports each row's errors before
anything is written, and a reviewer confirms; every entry can be downloaded."""
from __future__ import annotations

import secrets
import tempfile
from pathlib import Path
from typing import Any, List

import aiohttp_jinja2
from aiohttp import web

from console.app import console_of
from console.auth import require
from knowledge.errors import ImportFileError, KnowledgeError, ValidationError
from knowledge.exporter import export_file
from knowledge.importer import FORMATS, import_file
from knowledge.models import ENTRY_STATUSES

UPLOADS = Path(tempfile.gettempdir()) / "govbot-console-imports"
EXPORT_TYPES = {"csv": "text/csv", "jsonl": "application/x-ndjson",
                "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


async def transfer_page(request: web.Request, report: Any = None, token: str = "",
                        error: str = "", status: int = 200) -> web.Response:
    """The upload form, a dry run's report, and the export links."""
    return aiohttp_jinja2.render_template("transfer.html", request, {
        "report": report, "token": token, "error": error, "formats": FORMATS,
        "statuses": ENTRY_STATUSES}, status=status)


def _upload_path(token: str) -> Path:
    if not token.replace("-", "").replace("_", "").isalnum() or len(token) > 64:
        raise ValidationError("导入文件已失效，请重新上传", "token")
    found = sorted(UPLOADS.glob(f"{token}.*"))
    if not found:
        raise ValidationError("导入文件已失效，请重新上传", "token")
    return found[0]


async def upload(request: web.Request) -> web.Response:
    """Check an uploaded file (a dry run): the report, and a token to confirm with."""
    require(request, "editor")
    form = await request.post()
    field = form.get("file")
    if not isinstance(field, web.FileField) or not field.filename:
        return await transfer_page(request, error="请选择要导入的文件", status=400)
    suffix = Path(field.filename).suffix.lower()
    if suffix.lstrip(".") not in FORMATS + ("ndjson", "xlsm"):
        return await transfer_page(request, error=f"不支持的文件格式“{suffix or '无扩展名'}”，"
                                   f"支持 {', '.join(FORMATS)}", status=400)
    UPLOADS.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(16)
    path = UPLOADS / f"{token}{suffix}"
    path.write_bytes(field.file.read())
    console = console_of(request)
    try:
        report = await console.blocking(_run, console.kb, path, "dry-run", True)
    except (ImportFileError, KnowledgeError) as exc:
        path.unlink(missing_ok=True)
        return await transfer_page(request, error=f"文件无法读取：{exc}", status=400)
    if report.errors:
        path.unlink(missing_ok=True)
        token = ""
    return await transfer_page(request, report, token, status=400 if report.errors else 200)


def _run(kb: Any, path: Path, actor: str, dry_run: bool) -> Any:
    try:
        return import_file(kb, path, actor=actor, dry_run=dry_run, progress=False)
    except UnicodeDecodeError as exc:
        raise ImportFileError("文件不是 UTF-8 编码") from exc
    except (ValueError, KeyError, OSError) as exc:  # a broken workbook or archive
        raise ImportFileError(f"文件已损坏或格式不对（{type(exc).__name__}）") from exc


async def confirm(request: web.Request) -> web.Response:
    """Write a checked file (reviewers only: imported entries can be published)."""
    staff = require(request, "reviewer")
    form = await request.post()
    path = _upload_path(str(form.get("token", "")))
    console = console_of(request)
    try:
        report = await console.blocking(_run, console.kb, path, staff.name, False)
    finally:
        path.unlink(missing_ok=True)
    await console.blocking(console.staff.audit, staff.name, "import", path.suffix,
                           {"created": report.created, "updated": report.updated})
    return await transfer_page(request, report, status=400 if report.errors else 200)


async def download(request: web.Request) -> web.Response:
    """Every entry (or those with one status) as CSV, XLSX or JSONL."""
    fmt = request.query.get("format", "csv")
    status = request.query.get("status", "")
    if fmt not in EXPORT_TYPES or (status and status not in ENTRY_STATUSES):
        raise ValidationError("导出格式应为 csv、xlsx 或 jsonl", "format")
    console = console_of(request)
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / f"govbot-entries.{fmt}"
        await console.blocking(export_file, console.kb.engine, path, fmt, status or None)
        body = path.read_bytes()
    await console.blocking(console.staff.audit, request["staff"].name, "export", fmt)
    return web.Response(body=body, headers={
        "Content-Type": EXPORT_TYPES[fmt],
        "Content-Disposition": f'attachment; filename="govbot-entries.{fmt}"'})


def routes() -> List[Any]:
    """Import and export."""
    return [web.get("/transfer", transfer_page), web.post("/import", upload),
            web.post("/import/confirm", confirm), web.get("/export", download)]
