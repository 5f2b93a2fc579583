"""The phone call as a state machine, the same whatever carries the call (SIP, jambonz, IVR).

Each caller input (a key, recognised speech, silence) gives the next ``Step``: a prompt, then
listen, transfer to a person or hang up. Questions go to the dialogue (``Ask``) through the
turn seam; keypad menus come from the knowledge base (``menu.Catalog``). "0" or "人工"
transfers from every state, "*" or "再说一遍" repeats, "5" or "慢一点" slows the speech; two
failed attempts in a row offer a person, the third transfers; silence is re-prompted twice,
then transferred.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Sequence

from voice import prompts as P
from voice.menu import MORE, Catalog, category_menu, root_menu
from voice.prompts import Prompt

NO_INPUT_TIMEOUT_S = 8
SPEECH_MAX_S = 20
MAX_FAILURES = 3
MAX_SILENCES = 3
_PERSON_RE = re.compile(r"人工|转人工|真人|接线员")
_REPEAT_RE = re.compile(r"再说一遍|再说一次|重复|没听清|重听")
_SLOWER_RE = re.compile(r"慢一点|慢点|说慢")

_URI_USER_RE = re.compile(r"(?:sips?|tel):([^@;>]+)")
_COUNTRY_RE = re.compile(r"^(?:\+86|0086|86(?=1[3-9]\d{9}$|[1-9]\d{8,10}$))")
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")
_LANDLINE_RE = re.compile(r"0[1-9]\d{8,10}")

Ask = Callable[[str], Awaitable[Sequence[Mapping[str, Any]]]]
"""One dialogue turn: the caller's words in, the bot's messages (text, custom) out."""


@dataclass(frozen=True)
class CallEvent:
    """What the caller did: ``start`` (its value the calling number or SIP From, if known),
    ``digits`` (keys), ``speech`` (text) or ``silence``."""

    kind: str
    value: str = ""


@dataclass(frozen=True)
class Step:
    """What the adapter does next: speak ``prompt``, then ``listen``, ``transfer`` or ``hangup``."""

    prompt: Prompt
    action: str = "listen"
    speech: bool = False
    max_digits: int = 1
    rate: str = "normal"
    finish_on_key: str = ""  # digit entry ends with this key ("#")


@dataclass
class CallState:
    """Everything a call remembers between two inputs (kept as JSON between webhooks)."""

    mode: str = "start"  # menu | answer | choose | listen
    keys: Dict[str, str] = field(default_factory=dict)
    category: str = ""
    page: int = 0
    entry: str = ""
    last: List[str] = field(default_factory=list)
    failures: int = 0
    silences: int = 0
    rate: str = "normal"
    pending: str = ""  # digits entered, waiting for confirmation
    caller: str = ""  # the caller's own number, offered when a contact phone is asked for

    def to_dict(self) -> Dict[str, Any]:
        """JSON-ready."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CallState":
        """Rebuild from ``to_dict`` (unknown keys ignored)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def caller_number(raw: str) -> str:
    """The caller's number, if it is a mainland mobile or a landline with its area code, from
    a plain number, a ``tel:`` or ``sip:`` URI or a SIP From header, with or without +86;
    "" for anonymous callers, extensions and anything else."""
    found = _URI_USER_RE.search(raw or "")
    digits = re.sub(r"[\s()-]", "", found.group(1) if found else (raw or ""))
    national = _COUNTRY_RE.sub("", digits)
    if _MOBILE_RE.fullmatch(national):
        return national
    if national != digits and not national.startswith("0"):
        national = "0" + national  # +86 10 … drops the trunk 0 of 010
    return national if _LANDLINE_RE.fullmatch(national) else ""


class CallFlow:
    """Decides each step of a call; holds no call state of its own."""

    def __init__(self, catalog: Catalog, ask: Ask, speech: bool = False,
                 hotline: str = "12345", can_transfer: bool = True) -> None:
        self.catalog, self.ask, self.speech = catalog, ask, speech
        self.hotline, self.can_transfer = hotline, can_transfer

    # ----------------------------------------------------------------- entry point
    async def handle(self, state: CallState, event: CallEvent) -> Step:
        """The next step for ``event``; ``state`` is updated in place."""
        value = event.value.strip()
        if event.kind == "start":
            state.caller = caller_number(value)
            return await self._start(state)
        if event.kind == "silence":
            return self._silence(state)
        state.silences = 0
        if (event.kind == "digits" and value == P.KEY_PERSON) or (
                event.kind == "speech" and _PERSON_RE.search(value)):
            return self._transfer(state)
        if value == P.KEY_REPEAT or (event.kind == "speech" and _REPEAT_RE.search(value)):
            return self._say(state, Prompt(tuple(state.last)), remember=False)
        if (event.kind == "digits" and value == P.KEY_SLOWER) or (
                event.kind == "speech" and _SLOWER_RE.fullmatch(value.strip("。，！ "))):
            state.rate = "slow"
            return self._say(state, Prompt.of(P.SLOWER).then(Prompt(tuple(state.last))),
                             remember=False)
        if event.kind == "speech" and value:
            return await self._question(state, value)
        if event.kind == "digits" and state.mode == "digits":
            return await self._entered(state, value.rstrip(P.KEY_END))
        if event.kind == "digits" and value:
            return await self._key(state, value[0])
        return self._failed(state)

    # ----------------------------------------------------------------- states
    async def _start(self, state: CallState) -> Step:
        intro = Prompt.of(P.GREETING, P.CONTROLS)
        if self.speech:
            state.mode, state.keys = "listen", {"1": "menu"}
            return self._say(state, intro.then(Prompt.of(P.ASK_SPEECH)))
        return self._say(state, intro.then(await self._root(state)))

    async def _root(self, state: CallState, page: int = 0) -> Prompt:
        menu = root_menu(await self.catalog.categories(), page)
        state.mode, state.keys, state.category, state.page = "menu", menu.keys, "", page
        return Prompt.of(P.MENU_TITLE, *menu.spoken)

    async def _category(self, state: CallState, category: str, page: int = 0) -> Prompt:
        menu = category_menu(await self.catalog.entries(category), page)
        state.mode, state.keys, state.category, state.page = "menu", menu.keys, category, page
        return Prompt.of(*menu.spoken)

    async def _answer(self, state: CallState, entry_id: str, short: str = "",
                      full: str = "") -> Step:
        entry = (await self.catalog.entry(entry_id) or {}) if not (short or full) else {}
        spoken = P.short_answer(short or entry.get("short_answer", ""),
                                full or entry.get("answer", ""))
        state.mode, state.entry = "answer", entry_id
        state.keys = {P.KEY_DETAIL: "detail", P.KEY_MENU: "menu"}
        state.failures = 0
        return self._say(state, Prompt.of(spoken, P.DETAIL_HINT))

    async def _key(self, state: CallState, key: str) -> Step:
        target = state.keys.get(key) or ("menu" if key == P.KEY_MENU else "")
        if not target:
            return self._failed(state)
        state.failures = 0
        if target == "menu":
            return self._say(state, await self._root(state))
        if target == MORE:
            prompt = (await self._category(state, state.category, state.page + 1)
                      if state.category else await self._root(state, state.page + 1))
            return self._say(state, prompt)
        if target.startswith("cat:"):
            return self._say(state, await self._category(state, target[4:]))
        if target.startswith("entry:"):
            return await self._answer(state, target[6:])
        if target == "detail":
            entry = await self.catalog.entry(state.entry) or {}
            return self._say(state, Prompt.of(entry.get("answer", ""), P.DETAIL_HINT))
        if target.startswith("say:"):  # a choice the dialogue offered: its own words for it
            return await self._question(state, target[4:])
        if target == "confirm":
            digits, state.pending = state.pending, ""
            return await self._question(state, digits)
        if target == "reenter":
            state.mode, state.keys, state.pending = "digits", {}, ""
            return self._say(state, Prompt.of(P.DIGITS_ENTRY))
        return self._failed(state)

    async def _entered(self, state: CallState, digits: str) -> Step:
        """Digits typed for a number the dialogue asked for: read back in groups, confirm."""
        if not digits:  # "#" alone: no number
            state.mode = "listen"
            return await self._question(state, "不留")
        if not digits.isdigit():
            return self._failed(state)
        state.pending, state.mode = digits, "confirm"
        state.keys = {"1": "confirm", "2": "reenter"}
        return self._say(state, Prompt.of(P.READ_BACK.format(digits=P.group_digits(digits)),
                                          P.CONFIRM))

    async def _question(self, state: CallState, text: str) -> Step:
        messages = list(await self.ask(text))
        customs = [m.get("custom") or {} for m in messages]
        kinds = [c.get("type") for c in customs]
        said = " ".join(m.get("text", "") for m in messages if m.get("text"))
        if "handoff" in kinds:
            return self._transfer(state)
        if "topics" in kinds:  # the caller cannot name the service: the keypad menu of topics
            return self._say(state, Prompt.of(P.TOPICS).then(await self._root(state)))
        if "ticket_confirm" in kinds:  # the read-back (after any answer given with it)
            state.mode = "choose"
            state.keys = {"1": f"say:{P.SAY_CONFIRM}", "2": f"say:{P.SAY_CHANGE}"}
            return self._say(state, Prompt.of(said, P.TICKET_KEYS))
        for custom in customs:
            if custom.get("type") in ("guide", "answer") and custom.get("entry_id"):
                full = next((m.get("text", "") for m in messages
                             if (m.get("custom") or {}) is custom), "")
                return await self._answer(state, custom["entry_id"], custom.get("short", ""),
                                          full)
            if custom.get("type") == "candidates":
                titles = [c["title"] for c in custom.get("candidates", [])][:3]
                state.mode = "choose"
                state.keys = {str(i): f"say:{i}" for i in range(1, len(titles) + 1)}
                state.keys[str(len(titles) + 1)] = f"say:{P.NONE_OF_THESE}"
                return self._say(state, Prompt.of(P.CHOOSE_TITLE, *P.numbered(titles),
                                                  P.option(P.NONE_OF_THESE, str(len(titles) + 1))))
        if any(c.get("type") == "ask" and c.get("slot") == "contact_phone" for c in customs):
            if state.caller:
                state.pending, state.mode = state.caller, "confirm"
                state.keys = {"1": "confirm", "2": "reenter"}
                return self._say(state, Prompt.of(
                    said, P.USE_CALLER.format(digits=P.group_digits(state.caller)),
                    P.CALLER_KEYS))
            state.mode, state.keys = "digits", {}
            return self._say(state, Prompt.of(said, P.DIGITS_ENTRY))
        if "none" in kinds or not said:
            state.failures += 1
            if state.failures >= MAX_FAILURES:
                return self._transfer(state)
            return self._say(state, Prompt.of(said or P.NOT_UNDERSTOOD, P.OFFER_PERSON))
        state.mode, state.keys = "listen", {P.KEY_MENU: "menu"}
        return self._say(state, Prompt.of(said))

    # ----------------------------------------------------------------- failures
    def _failed(self, state: CallState) -> Step:
        state.failures += 1
        if state.failures >= MAX_FAILURES:
            return self._transfer(state)
        extra = (P.OFFER_PERSON,) if state.failures >= MAX_FAILURES - 1 else ()
        return self._say(state, Prompt.of(P.NOT_UNDERSTOOD, *extra).then(Prompt(tuple(state.last))),
                         remember=False)

    def _silence(self, state: CallState) -> Step:
        state.silences += 1
        if state.silences >= MAX_SILENCES:
            return self._transfer(state)
        lead = Prompt.of(*P.SILENCE[: state.silences])
        if state.silences >= MAX_SILENCES - 1:
            lead = lead.then(Prompt.of(P.OFFER_PERSON))
        return self._say(state, lead.then(Prompt(tuple(state.last))), remember=False)

    def _transfer(self, state: CallState) -> Step:
        state.mode, state.keys = "transfer", {}
        if not self.can_transfer:
            return Step(Prompt.of(P.NO_TRANSFER.format(hotline=self.hotline)), "hangup",
                        rate=state.rate)
        return Step(Prompt.of(P.TRANSFER), "transfer", rate=state.rate)

    def _say(self, state: CallState, prompt: Prompt, remember: bool = True) -> Step:
        if remember:
            state.last = list(prompt.parts)
        listen_speech = self.speech and state.mode in ("listen", "answer", "choose")
        if state.mode == "digits":
            return Step(prompt, "listen", max_digits=P.MAX_ENTRY_DIGITS, rate=state.rate,
                        finish_on_key=P.KEY_END)
        return Step(prompt, "listen", speech=listen_speech, rate=state.rate)
