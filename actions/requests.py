"""Questions the bot could not answer, left for staff as a ticket (接诉即办)."""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import runtime
from knowledge.index import SearchResult

_LOGGER = logging.getLogger(__name__)

QUESTION = "question"
COMPLAINT = "complaint"
MAX_QUESTION_CHARS = 500


def open_question(text: str, unanswered_id: Optional[int] = None) -> Dict[str, Any]:
    """The value of the ``open_question`` slot: what the resident asked that is still open."""
    return {"text": text.strip()[:MAX_QUESTION_CHARS], "id": unanswered_id}


def ticket_kind(tracker: Tracker) -> str:
    """``question`` while a question is being left for staff, else ``complaint``."""
    return QUESTION if tracker.get_slot("ticket_kind") == QUESTION else COMPLAINT


def queue_open_question(tracker: Tracker, result: Optional[SearchResult] = None
                        ) -> List[EventType]:
    """Put the open question (offered candidates the resident refused) in the staff queue.

    Returns:
        The slot update that remembers its queue id (nothing when no question is open or it
        is queued already).
    """
    asked = tracker.get_slot("open_question") or {}
    text = str(asked.get("text") or "")
    if not text or asked.get("id"):
        return []
    channel = str(tracker.get_latest_input_channel() or "") or "unknown"
    queued = runtime.services().records.log_unanswered(text, channel, tracker.sender_id, result)
    return [SlotSet("open_question", open_question(text, queued))]


class ActionLeaveQuestion(Action):
    """"留言": leave the open question for staff; the ticket form asks for a phone, reads the
    question back and gives the ticket's number."""

    def name(self) -> Text:
        return "action_leave_question"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
            domain: Dict[Text, Any]) -> List[EventType]:
        asked = tracker.get_slot("open_question") or {}
        text = str(asked.get("text") or "")
        events: List[EventType] = [SlotSet("ticket_kind", QUESTION), SlotSet("district", None),
                                   SlotSet("contact_phone", None), SlotSet("ticket_pending", False)]
        if text:
            dispatcher.utter_message(text=f"好的，我把您的问题“{text}”留给工作人员，答复后会联系您。")
            events += queue_open_question(tracker) + [SlotSet("complaint_content", text)]
        else:
            events.append(SlotSet("complaint_content", None))
        return events + [FollowupAction("complaint_form")]


def question_read_back(content: str, phone: str) -> str:
    """The read-back of a question left for staff (no district: it is not an incident)."""
    return (f"请您核对：您的问题：{content}；联系电话：{phone}。"
            f"确认提交请说“确认”，需要修改请说“修改”，也可以直接说正确的电话。")


def question_submitted(number: str) -> str:
    """What the resident hears once the question is saved."""
    spaced = " ".join(number)
    return (f"已为您登记，编号是 {number}。我再读一遍：{spaced}。"
            f"工作人员答复后会通过您留下的方式联系您；您也可以随时在这里说“查询 {number}”"
            f"听答复，或凭编号拨打 {runtime.services().hotline} 查询。")

