"""Typed entry input: parsing and validation shared by import, service and console."""
from __future__ import annotations

import json
import logging
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple

from knowledge.errors import ValidationError
from knowledge.models import ENTRY_STATUSES, GUIDE_FIELDS, LIST_FIELDS

_LOGGER = logging.getLogger(__name__)

EXT_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
MAX_QUESTION = 5_000
MAX_ANSWER = 100_000
MAX_SIMILAR = 100
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
SHORT_ANSWER_MAX = 120

#: Accepted column aliases (Chinese headers from staff spreadsheets) -> canonical name.
COLUMN_ALIASES = {
    "编号": "id", "问题": "question", "标题": "question", "答案": "answer", "回答": "answer",
    "相似问题": "similar_questions", "相似问": "similar_questions", "简短回答": "short_answer",
    "分类": "category", "类别": "category", "部门": "department", "状态": "status",
    **{label: name for name, label in GUIDE_FIELDS},
}


def clean_text(value: Any, field_name: str, limit: int) -> str:
    """Strip control characters and surrounding space; enforce a length limit."""
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)):
        raise ValidationError(f"字段 {field_name} 应为文本", field_name)
    text = _CONTROL_RE.sub("", str(value)).strip()
    if len(text) > limit:
        raise ValidationError(f"字段 {field_name} 超过 {limit} 字", field_name)
    return text


def parse_list(value: Any, field_name: str) -> Tuple[str, ...]:
    """Accept a list, a JSON list string, or a ``|``/newline-separated string."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError as exc:
                raise ValidationError(f"字段 {field_name} 不是合法的 JSON 列表", field_name) from exc
        else:
            value = re.split(r"[|\n]", stripped)
    if not isinstance(value, (list, tuple)):
        raise ValidationError(f"字段 {field_name} 应为列表", field_name)
    items = tuple(clean_text(v, field_name, MAX_QUESTION * 4) for v in value)
    return tuple(i for i in items if i)


def derive_short_answer(answer: str) -> str:
    """At most two sentences from the start of the answer, for voice and WeChat."""
    flat = re.sub(r"\s+", " ", answer).strip()
    sentences = [s.strip() for s in _SENTENCE_RE.findall(flat) if s.strip()]
    short = "".join(sentences[:2]) if sentences else flat
    if len(short) > SHORT_ANSWER_MAX:
        short = short[: SHORT_ANSWER_MAX - 1].rstrip("，,、；; ") + "…"
    return short


@dataclass(frozen=True)
class EntryInput:
    """A validated entry as staff or an import file supplies it."""

    ext_id: str
    question: str
    answer: str
    similar_questions: Tuple[str, ...] = ()
    short_answer: str = ""
    category: str = ""
    department: str = ""
    conditions: str = ""
    materials: Tuple[str, ...] = ()
    steps: Tuple[str, ...] = ()
    time_limit: str = ""
    fees: str = ""
    place: str = ""
    hours: str = ""
    phone: str = ""
    online_url: str = ""
    basis: str = ""
    status: str = "published"
    extra: Dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_mapping(cls, row: Mapping[str, Any], default_status: str = "published") -> "EntryInput":
        """Parse a row (JSON object, CSV/XLSX row) into a validated entry.

        Raises:
            ValidationError: naming the first bad field.
        """
        data = {COLUMN_ALIASES.get(str(k).strip(), str(k).strip()): v for k, v in row.items()}
        ext_id = clean_text(data.get("id"), "id", 128)
        if not ext_id:
            raise ValidationError("缺少 id", "id")
        if not EXT_ID_RE.match(ext_id):
            raise ValidationError(f"id 格式不合法: {ext_id[:40]}", "id")
        question = clean_text(data.get("question"), "question", MAX_QUESTION)
        if not question:
            raise ValidationError("缺少 question（问题）", "question")
        answer = clean_text(data.get("answer"), "answer", MAX_ANSWER)
        if not answer:
            raise ValidationError("缺少 answer（答案）", "answer")
        similar = parse_list(data.get("similar_questions"), "similar_questions")
        if len(similar) > MAX_SIMILAR:
            raise ValidationError(f"相似问题超过 {MAX_SIMILAR} 条", "similar_questions")
        status = clean_text(data.get("status"), "status", 16) or default_status
        if status not in ENTRY_STATUSES:
            raise ValidationError(f"状态应为 {'/'.join(ENTRY_STATUSES)}", "status")
        kwargs: Dict[str, Any] = {}
        for name, _label in GUIDE_FIELDS:
            if name in LIST_FIELDS:
                kwargs[name] = parse_list(data.get(name), name)
            else:
                kwargs[name] = clean_text(data.get(name), name, 20_000)
        short = clean_text(data.get("short_answer"), "short_answer", 500)
        return cls(
            ext_id=ext_id, question=question, answer=answer,
            similar_questions=tuple(dict.fromkeys(s for s in similar if s != question)),
            short_answer=short,
            category=clean_text(data.get("category"), "category", 64),
            department=clean_text(data.get("department"), "department", 128),
            status=status, **kwargs,
        )

    def effective_short_answer(self) -> str:
        """The staff-written short answer, or one derived from the full answer."""
        return self.short_answer or derive_short_answer(self.answer)

    def to_row(self) -> Dict[str, Any]:
        """The import/export layout (``id``, ``question`` …) of this entry."""
        data = asdict(self)
        data.pop("extra")
        data["id"] = data.pop("ext_id")
        for name in ("similar_questions",) + LIST_FIELDS:
            data[name] = list(data[name])
        return data


def guide_fields(values: Mapping[str, Any]) -> Dict[str, Any]:
    """Only the non-empty service-guide fields of an entry-like mapping."""
    out: Dict[str, Any] = {}
    for name, _label in GUIDE_FIELDS:
        value = values.get(name)
        if value:
            out[name] = list(value) if name in LIST_FIELDS else value
    return out


def optional_int(value: Optional[Any]) -> Optional[int]:
    """Parse an optional integer (e.g. an expected version) from user input."""
    if value in (None, ""):
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError("版本号应为整数", "version") from exc
