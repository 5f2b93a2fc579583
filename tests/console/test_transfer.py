"""Import and export in the console: a dry run reports each bad row and writes nothing; a
clean file is confirmed by a reviewer; broken files get a clear error; exports download."""
from __future__ import annotations

import csv
import io

import aiohttp

from tests.console.conftest import page_csrf, sign_in

HEADER = "id,question,answer,category,status\n"
GOOD = HEADER + ("new-a,新问题甲怎么办,答案甲。,社保,published\n"
                 "new-b,新问题乙怎么办,答案乙。,社保,draft\n")
BAD = HEADER + ("new-a,新问题甲怎么办,答案甲。,社保,published\n"
                "new-c,,没有问题的答案。,社保,published\n"
                "new-a,重复的编号,答案。,社保,published\n")


async def upload(client, name: str, body: bytes, csrf: str):
    form = aiohttp.FormData()
    form.add_field("csrf", csrf)
    form.add_field("file", body, filename=name, content_type="application/octet-stream")
    return await client.post("/admin/import", data=form, allow_redirects=False)


async def test_bad_rows_are_reported_and_nothing_is_written(console, seeded_kb) -> None:
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console, "/admin/transfer")
    resp = await upload(console, "entries.csv", BAD.encode(), csrf)
    page = await resp.text()
    assert resp.status == 400 and "错误 2" in page
    assert "<td>3</td><td>question</td>" in page and "与第 2 行重复" in page
    assert "确认导入" not in page and seeded_kb.get_entry("new-a") is None


async def test_a_clean_file_is_checked_then_confirmed_by_a_reviewer(console, seeded_kb) -> None:
    await sign_in(console, "editor")
    csrf = await page_csrf(console, "/admin/transfer")
    checked = await (await upload(console, "entries.csv", GOOD.encode(), csrf)).text()
    assert "将新增 2" in checked and "导入需要审核员确认" in checked
    assert seeded_kb.get_entry("new-a") is None  # a dry run writes nothing
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console, "/admin/transfer")
    checked = await (await upload(console, "entries.csv", GOOD.encode(), csrf)).text()
    token = checked.split('name="token" value="')[1].split('"')[0]
    done = await console.post("/admin/import/confirm", data={"csrf": csrf, "token": token})
    assert done.status == 200 and "已新增 2" in await done.text()
    assert seeded_kb.get_entry("new-a")["status"] == "published"
    assert seeded_kb.get_entry("new-b")["status"] == "draft"
    again = await console.post("/admin/import/confirm", data={"csrf": csrf, "token": token})
    assert again.status == 400 and "已失效" in await again.text()  # used once


async def test_broken_files_get_a_clear_error(console) -> None:
    await sign_in(console, "reviewer")
    csrf = await page_csrf(console, "/admin/transfer")
    for name, body, words in [("entries.xlsx", b"PK\x03\x04 not really a workbook", "文件"),
                              ("entries.csv", "编号,答案\n".encode("gbk"), "UTF-8"),
                              ("entries.exe", b"MZ", "不支持的文件格式"),
                              ("entries.jsonl", b"", "文件为空"),
                              ("entries.jsonl", b"\n\n", "没有任何条目")]:
        resp = await upload(console, name, body, csrf)
        assert resp.status == 400 and words in await resp.text(), (name, await resp.text())


async def test_exports_download_every_entry(console, seeded_kb) -> None:
    await sign_in(console, "editor")
    resp = await console.get("/admin/export?format=csv")
    assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
    assert len(rows) == seeded_kb.count() and any(r["id"] == "shebao-enroll" for r in rows)
    xlsx = await console.get("/admin/export?format=xlsx")
    assert (await xlsx.read())[:2] == b"PK"
    assert (await console.get("/admin/export?format=exe")).status == 400
    console.session.cookie_jar.clear()
    assert (await console.get("/admin/export?format=csv", allow_redirects=False)).status == 303
