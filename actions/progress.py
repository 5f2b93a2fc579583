"""Progress check for a 办件: ask for the number, validate it, look it up."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import runtime
from actions.tickets import AskSlotAction
from actions.text import parse_application_number

_LOGGER = logging.getLogger(__name__)


class ValidateProgressForm(FormValidationAction):
    """Check the application number's format before looking it up."""

    def name(self) -> Text:
        return "validate_progress_form"

    def validate_application_number(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        number = parse_application_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(
                text="编号格式好像不对。办件编号是两个字母加十二位数字，例如 SB202611200001，请再说一遍。")
        return {"application_number": number}


class ActionReportProgress(Action):
    """Read back the status of the 办件."""

    def name(self) -> Text:
        return "action_report_progress"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        number = tracker.get_slot("application_number") or ""
        svc = runtime.services()
        case = svc.records.find_case(number)
        if case is None:
            text = (f"没有查到编号为 {number} 的办件。请核对编号，或说“人工”，"
                    f"也可以拨打 {svc.hotline} 热线查询。")
            custom: Dict[str, Any] = {"type": "progress", "found": False, "number": number}
        else:
            text = f"您的办件 {case.application_number}（{case.service}）当前状态：{case.status}"
            text += f"，更新于 {case.updated}。" if case.updated else "。"
            if case.note:
                text += case.note
            custom = {"type": "progress", "found": True, "number": case.application_number,
                      "service": case.service, "status": case.status, "updated": case.updated,
                      "note": case.note}
        message = {"text": text, "custom": custom}
        dispatcher.utter_message(text=text, json_message=custom)
        return [SlotSet("application_number", None), SlotSet("last_answer", [message])]


class ActionAskApplicationNumber(AskSlotAction):
    """Asks for the 办件编号."""

    action_name = "action_ask_application_number"
    question = "请告诉我办件编号，一般是两个字母加十二位数字，印在受理回执上。"
    slot = "application_number"
