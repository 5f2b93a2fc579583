"""Build the bot's replies (text with rich ``custom`` payloads that fall back to plain text)."""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Mapping, Sequence, Tuple

from knowledge.index import SearchResult
from knowledge.models import GUIDE_FIELDS, LIST_FIELDS
from knowledge.schema import guide_fields

_LOGGER = logging.getLogger(__name__)

LABELS = dict(GUIDE_FIELDS)
FIELDS_BY_INTENT = {
    "ask_materials": ("materials",),
    "ask_steps": ("steps",),
    "ask_time_limit": ("time_limit",),
    "ask_fees": ("fees",),
    "ask_place_hours": ("place", "hours"),
    "ask_online": ("online_url",),
    "ask_conditions": ("conditions",),
    "ask_phone": ("phone",),
}
HUMAN_BUTTON = {"title": "转人工", "payload": "/request_human"}
COMPLAIN_BUTTON = {"title": "反映问题或提建议", "payload": "/complain_or_suggest"}
LEAVE_BUTTON = {"title": "留言给工作人员", "payload": "/leave_question"}
LEAVE_HINT = "您可以说“留言”，把问题留给工作人员，答复后会联系您；"
NONE_OF_THESE_BUTTON = {"title": "都不是", "payload": "都不是"}
NOT_UNDERSTOOD = "抱歉，我没有听明白。您可以换个说法，或说“人工”转人工服务，也可以拨打 12345 热线。"
ANYTHING_ELSE = "好的。还有什么可以帮您？"


def _format_field(name: str, value: Any) -> str:
    if name in LIST_FIELDS:
        items = [str(v) for v in value or []]
        return "\n".join(f"{i}. {item}" for i, item in enumerate(items, 1))
    return str(value or "")


def entry_text(entry: Mapping[str, Any]) -> str:
    """Everything an entry says (question, answer and guide fields) as one string."""
    parts = [str(entry.get("question") or ""), str(entry.get("answer") or "")]
    parts += [_format_field(name, entry.get(name)) for name, _ in GUIDE_FIELDS]
    return "\n".join(parts)


def answer_message(entry: Mapping[str, Any]) -> Dict[str, Any]:
    """The full answer to an entry, with its service-guide card when it has one."""
    fields = guide_fields(entry)
    custom = {"type": "guide" if fields else "answer", "entry_id": entry["id"],
              "title": entry["question"], "short": entry.get("short_answer") or "",
              "fields": fields}
    return {"text": entry["answer"], "custom": custom}


def with_related(message: Dict[str, Any], related: Sequence[Mapping[str, str]]
                 ) -> Dict[str, Any]:
    """An answer to a close call, with the entries it was close to as "您可能还想问" (tapping
    one asks it)."""
    if not related:
        return message
    items = [{"id": r["id"], "title": r["title"]} for r in related]
    custom = dict(message.get("custom") or {}, related=items)
    buttons = list(message.get("buttons") or []) + [
        {"title": f"您可能还想问：{it['title']}", "payload": it["title"]} for it in items]
    return dict(message, custom=custom, buttons=buttons)


def field_message(entry: Mapping[str, Any], names: Sequence[str]) -> Dict[str, Any]:
    """Answer a follow-up from the entry's service-guide fields (not from a new search)."""
    parts: List[str] = []
    present: Dict[str, Any] = {}
    for name in names:
        value = entry.get(name)
        if value:
            present[name] = value
            parts.append(f"{LABELS[name]}：\n{_format_field(name, value)}"
                         if name in LIST_FIELDS else f"{LABELS[name]}：{value}")
    title = entry["question"]
    if not present:
        wanted = "、".join(LABELS[n] for n in names)
        text = (f"关于“{title}”，目前没有单独列出{wanted}的信息。"
                f"简要说明：{entry.get('short_answer') or entry['answer'][:120]}"
                f" 如需确认，可以说“人工”或拨打咨询电话。")
        return {"text": text, "buttons": [HUMAN_BUTTON],
                "custom": {"type": "field", "entry_id": entry["id"], "title": title, "fields": {}}}
    text = f"关于“{title}”：\n" + "\n".join(parts)
    return {"text": text, "custom": {"type": "field", "entry_id": entry["id"], "title": title,
                                     "fields": present}}


def _numbered(pairs: Sequence[Sequence[str]]
              ) -> Tuple[List[Dict[str, Any]], str, List[Dict[str, str]]]:
    """``(id, title)`` pairs as numbered items, their lines and their ``/choose_option`` buttons."""
    items = [{"n": i, "id": entry_id, "title": title}
             for i, (entry_id, title) in enumerate(pairs, 1)]
    lines = "\n".join(f"{it['n']}. {it['title']}" for it in items)
    buttons = [{"title": f"{it['n']}. {it['title']}",
                "payload": "/choose_option" + json.dumps({"option": str(it["n"])})} for it in items]
    return items, lines, buttons


def _offer(pairs: Sequence[Sequence[str]], lead: str) -> Dict[str, Any]:
    """Numbered entries to choose from, then "都不是" and "转人工"."""
    items, lines, buttons = _numbered(pairs)
    return {"text": f"{lead}请说序号或点选：\n{lines}",
            "buttons": buttons + [NONE_OF_THESE_BUTTON, HUMAN_BUTTON],
            "custom": {"type": "candidates", "candidates": items}}


def candidates_message(result: SearchResult) -> Dict[str, Any]:
    """Numbered candidates to choose from by tapping, typing "2" or saying "第二个"."""
    return _offer([(c.id, c.question) for c in result.candidates], "您想问的是下面哪一个？")


def field_offer_message(entries: Sequence[Mapping[str, Any]], fields: Sequence[str]) -> Dict[str, Any]:
    """A field question while entries are on offer ("在哪领"): which of them, the offer kept."""
    what = "、".join(LABELS[f] for f in fields) if fields else "办理方法"
    return _offer([(str(e["id"]), str(e["question"])) for e in entries],
                  f"您想问下面哪一项的{what}？")


def topics_message(topics: Sequence[str], unknown: str = "") -> Dict[str, Any]:
    """The topics a resident who cannot name the service picks from (and a way to a person)."""
    lead = f"没有找到“{unknown}”这个类别。" if unknown else "没关系。"
    text = (f"{lead}您可以直接说说遇到了什么事，比如“补办身份证”“养老金认证”“看病报销”；"
            f"也可以选一个类别，我列出常见问题：\n" + "、".join(topics))
    buttons = [{"title": t, "payload": "/browse_topic" + json.dumps({"topic": t}, ensure_ascii=False)}
               for t in topics] + [HUMAN_BUTTON]
    return {"text": text, "buttons": buttons, "custom": {"type": "topics", "topics": list(topics)}}


def topic_entries_message(topic: str, entries: Sequence[Sequence[str]]) -> Dict[str, Any]:
    """A topic's common questions, numbered, chosen like an offer (by tap, "2" or "第二个")."""
    items, lines, buttons = _numbered(entries)
    return {"text": f"“{topic}”方面的常见问题，请说序号或点选：\n{lines}",
            "buttons": buttons + [HUMAN_BUTTON],
            "custom": {"type": "topic_entries", "topic": topic, "candidates": items}}


def none_of_these_message(hotline: str) -> Dict[str, Any]:
    """"都不是": sorry, and the ways on (another wording, a person, the hotline)."""
    return {"text": (f"抱歉，没有找到您要的内容。您可以换个说法再问一次。{LEAVE_HINT}"
                     f"也可以说“人工”转人工服务，或拨打 {hotline} 热线。"),
            "buttons": [LEAVE_BUTTON, HUMAN_BUTTON],
            "custom": {"type": "none", "hotline": hotline}}


def none_message(hotline: str) -> Dict[str, Any]:
    """An honest "I don't know" with a way to a person."""
    return {"text": (f"抱歉，这个问题我暂时没有准确的答案。{LEAVE_HINT}"
                     f"也可以说“人工”转人工服务，或拨打 {hotline} 热线咨询。"),
            "buttons": [LEAVE_BUTTON, HUMAN_BUTTON],
            "custom": {"type": "none", "hotline": hotline}}


def out_of_scope_message(hotline: str) -> Dict[str, Any]:
    """A polite decline for questions outside public services."""
    return {"text": (f"这个问题不在政务服务范围内，我回答不了。办事方面的问题欢迎随时问我，"
                     f"也可以拨打 {hotline} 热线。如果您是要反映问题或提建议，请说“投诉”，我帮您登记。"),
            "buttons": [COMPLAIN_BUTTON], "custom": {"type": "out_of_scope"}}


NOTHING_TO_REPEAT = "我们还没有开始问答。请说出您想咨询的事情。"


def say_again(dispatcher: Any, last: Sequence[Mapping[str, Any]]) -> None:
    """Send the last answer again (``last_answer``), or say there is none yet."""
    if not last:
        dispatcher.utter_message(text=NOTHING_TO_REPEAT)
    for message in last:
        dispatcher.utter_message(**as_dispatch(message))


def as_dispatch(message: Mapping[str, Any]) -> Dict[str, Any]:
    """Keyword arguments for ``dispatcher.utter_message``."""
    kwargs: Dict[str, Any] = {"text": message.get("text", "")}
    if message.get("buttons"):
        kwargs["buttons"] = list(message["buttons"])
    if message.get("custom"):
        kwargs["json_message"] = dict(message["custom"])
    return kwargs
