"""Progress check for a 办件 or a ticket govbot gave: ask for the number, validate it, look it up."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.tickets import AskSlotAction
from actions.text import is_ticket_number, parse_tracking_number

_LOGGER = logging.getLogger(__name__)


class ValidateProgressForm(FormValidationAction):
    """Check the number's format (a 办件编号 or a ticket number) before looking it up."""

    def name(self) -> Text:
        return "validate_progress_form"

    def validate_application_number(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        number = parse_tracking_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(
                text="编号格式好像不对。办件编号是两个字母加十二位数字，例如 SB202611200001；"
                     "留言和工单的编号以 GD 开头，例如 GD20261122-000007。请再说一遍。")
        return {"application_number": number}


class ActionReportProgress(Action):
    """Read back the status of the 办件, or of the ticket and its answer."""

    def name(self) -> Text:
        return "action_report_progress"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        number = tracker.get_slot("application_number") or ""
        svc = runtime.services()
        if is_ticket_number(number):
            text, custom = ticket_progress(number, svc.records.get_ticket(number),
                                           tracker.sender_id, svc.hotline)
        else:
            text, custom = case_progress(number, svc.records.find_case(number), svc.hotline)
        message = {"text": text, "custom": custom}
        dispatcher.utter_message(text=text, json_message=custom)
        return [SlotSet("application_number", None), SlotSet("last_answer", [message])]


def case_progress(number: str, case: Any, hotline: str) -> Tuple[str, Dict[str, Any]]:
    """What a resident hears about a 办件 (``case`` None: not found)."""
    if case is None:
        return (f"没有查到编号为 {number} 的办件。请核对编号，或说“人工”，"
                f"也可以拨打 {hotline} 热线查询。",
                {"type": "progress", "found": False, "number": number})
    text = f"您的办件 {case.application_number}（{case.service}）当前状态：{case.status}"
    text += f"，更新于 {case.updated}。" if case.updated else "。"
    if case.note:
        text += case.note
    return text, {"type": "progress", "found": True, "number": case.application_number,
                  "service": case.service, "status": case.status, "updated": case.updated,
                  "note": case.note}


def ticket_progress(number: str, ticket: Optional[Dict[str, Any]], sender: str,
                    hotline: str) -> Tuple[str, Dict[str, Any]]:
    """What a resident hears about a question left for staff or a complaint (None: not found).

    The staff's answer is read out only in the conversation that left the ticket: ticket
    numbers run in sequence, and an answer may say things about the resident.
    """
    custom: Dict[str, Any] = {"type": "progress", "kind": "ticket", "number": number}
    if ticket is None:
        return (f"没有查到编号为 {number} 的留言或工单。请核对编号，或说“人工”，"
                f"也可以拨打 {hotline} 热线查询。", {**custom, "found": False})
    what = "留言" if ticket["kind"] == "question" else "工单"
    status = TICKET_STATUS_TEXT.get(ticket["status"], ticket["status"])
    text = f"您的{what} {number} 当前状态：{status}。"
    custom.update(found=True, status=ticket["status"])
    if not ticket["answer"]:
        return text + "工作人员答复后，您可以随时凭这个编号再来查询。", custom
    if ticket["sender"] == sender:
        custom["answer"] = ticket["answer"]
        return text + f"工作人员的答复：{ticket['answer']}", custom
    return (text + f"为保护您的信息，答复内容只在您提交时的对话里读出；"
                   f"您也可以拨打 {hotline} 热线，凭编号查询。", custom)


TICKET_STATUS_TEXT = {"new": "已受理，等待处理", "assigned": "已分派给工作人员",
                      "in_progress": "正在办理", "answered": "已答复", "closed": "已办结"}
"""Ticket statuses as residents hear them (``knowledge.models.TICKET_STATUSES``)."""


class ActionAskApplicationNumber(AskSlotAction):
    """Asks for the 办件编号."""

    action_name = "action_ask_application_number"
    question = ("请告诉我办件编号，一般是两个字母加十二位数字，印在受理回执上；"
                "查询留言或工单，请说以 GD 开头的编号。")
    slot = "application_number"
