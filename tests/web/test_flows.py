"""Chat flows in a real browser: answers, clarify, read-aloud, reconnect, reload, XSS, voice input."""
from __future__ import annotations

import io
import logging
import time
import wave
from typing import Any, Callable, List

import pytest

from tests.web.fake_app import ServerThread
from voice.asr import AsrResult, Recognizer
from tests.web.helpers import BOT, ask, sender, set_mode, wait_replies

_LOGGER = logging.getLogger(__name__)
pytestmark = pytest.mark.browser


def texts_for(server: ServerThread, page: Any) -> List[str]:
    """What the dialogue received from this page's conversation."""
    who = sender(page)
    return [c.text for c in server.dialogue.calls if c.sender == who]


def test_ask_answer_follow_up(new_page: Callable[..., Any], server: ServerThread) -> None:
    page = new_page()
    ask(page, "社保卡丢了怎么办")
    card = page.locator(".guide")
    assert card.locator("h3").inner_text() == "办事指南：社保卡补办"
    assert card.locator("ul > li").all_inner_texts() == ["本人有效身份证件原件", "近期一寸白底彩色照片1张"]
    assert len(card.locator("ol > li").all_inner_texts()) == 3
    assert card.locator("dt").all_inner_texts()[:3] == ["办理地点", "办理时间", "咨询电话"]
    assert card.locator("a[href='tel:01012345678']").count() == 1
    answer = page.locator(BOT).last
    answer.locator("button[data-view='short']").click()
    assert answer.locator(".msg-short").inner_text() == "先挂失，再带身份证到社保卡服务网点补办，约3个工作日。"
    assert not card.is_visible()
    answer.locator("button[data-view='full']").click()
    assert card.is_visible()
    ask(page, "那需要多少钱")
    assert "工本费20元" in page.locator(BOT).last.inner_text()
    assert texts_for(server, page) == ["社保卡丢了怎么办", "那需要多少钱"]
    speakers = page.locator("#log-list > li .speaker").all_text_contents()
    assert speakers == ["客服：", "我：", "客服：", "我：", "客服："]


def test_clarify_then_choose_by_click_and_by_number(new_page: Callable[..., Any],
                                                    server: ServerThread) -> None:
    page = new_page()
    ask(page, "怎么办证件")
    # the numbered lines of the text are shown once, as buttons
    assert page.locator(BOT).last.locator(".msg-full").inner_text() == "您想问的是下面哪一个？请说序号或点选："
    buttons = page.locator(BOT).last.locator(".candidate")
    assert buttons.all_text_contents() == ["11、居住证办理", "22、身份证补领", "33、护照办理"]
    # "都不是" and "转人工" follow the list as actions of their own, not as choices 4 and 5
    actions = page.locator(BOT).last.locator(".msg-actions button")
    assert actions.all_text_contents() == ["都不是", "转人工"]
    before = page.locator(BOT).count()
    buttons.nth(1).click()
    wait_replies(page, before + 1)
    assert page.locator("#log-list > li.msg-user").last.inner_text().endswith("2. 身份证补领")
    assert page.locator(BOT).last.locator(".msg-full").inner_text().startswith("身份证补领")
    ask(page, "怎么办证件")
    ask(page, "2")
    assert page.locator(BOT).last.locator(".msg-full").inner_text().startswith("身份证补领")
    assert texts_for(server, page) == ["怎么办证件", '/choose_option{"option": "2"}', "怎么办证件", "2"]


def _tts_after(page: Any, action: Callable[[], None]) -> tuple:
    """Run ``action`` and return (request JSON, seconds) of the WAV the page fetched from /api/tts."""
    seen: List[tuple] = []

    def relay(route: Any) -> None:  # pass the real server response through, keeping a copy
        response = route.fetch()
        seen.append((route.request.post_data_json, response.status, response.headers, response.body()))
        route.fulfill(response=response)

    page.route("**/api/tts", relay)
    try:
        action()
        page.wait_for_function("() => document.querySelector('button.play[data-playing=true]') !== null")
        deadline = time.monotonic() + 20
        while not seen and time.monotonic() < deadline:
            page.wait_for_timeout(50)
    finally:
        page.unroute("**/api/tts")
    request, status, headers, body = seen[0]
    assert status == 200 and headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(body)) as wav:
        seconds = wav.getnframes() / wav.getframerate()
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
    return request, seconds


def test_read_aloud_plays_real_audio_of_the_right_length(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.click("#welcome-no")
    ask(page, "那需要多少钱")  # 补办社保卡收取工本费20元，可以使用现金或手机支付。
    play = page.locator(BOT).last.locator("button.play")
    started = time.monotonic()
    request, seconds = _tts_after(page, play.click)
    assert request["rate"] == "normal" and "20元" in request["text"]
    # 补办社保卡收取工本费二十元，可以使用现金或手机支付: 24 syllables.
    assert 24 * 0.12 < seconds < 24 * 0.6, seconds
    assert play.inner_text().endswith("停止朗读")
    page.wait_for_function("b => b.dataset.playing === 'false'", arg=play.element_handle(),
                           timeout=(seconds + 10) * 1000)
    played = time.monotonic() - started
    assert seconds - 0.5 < played < seconds + 4, (seconds, played)  # the button resets when it ends
    # 长辈版 reads more slowly: same text, longer audio.
    page.click("#sw-elder")
    slow_request, slow_seconds = _tts_after(page, play.click)
    assert slow_request["rate"] == "slow" and slow_seconds > seconds * 1.25
    play.click()  # stop
    assert play.inner_text().endswith("朗读") and play.get_attribute("data-playing") == "false"


def test_read_aloud_switch_reads_new_answers_but_never_on_load(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.click("#welcome-no")
    page.click("#sw-read")
    request, _ = _tts_after(page, lambda: ask(page, "你好"))
    assert request["text"] == "您好！请问您要办理什么业务？"
    requests: List[str] = []
    page.on("request", lambda r: requests.append(r.url) if "/api/tts" in r.url else None)
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    page.wait_for_timeout(1500)
    assert page.get_attribute("#sw-read", "aria-checked") == "true" and requests == []


def test_reconnect_mid_conversation_delivers_once(new_page: Callable[..., Any],
                                                  server: ServerThread) -> None:
    page = new_page()
    ask(page, "你好")
    before = page.locator(BOT).count()
    ask(page, "慢回复", wait=False)  # 1.5 s turn; the socket drops while it runs
    page.wait_for_timeout(300)
    server.drop_sockets()
    wait_replies(page, before + 1)
    ask(page, "你好", wait=False)
    server.drop_sockets()  # and a message sent while reconnecting
    wait_replies(page, before + 2)
    page.wait_for_timeout(500)
    log = page.inner_text("#log")
    assert log.count("这是一个较慢的回复。") == 1
    assert log.count("您好！请问您要办理什么业务？") == 2
    assert texts_for(server, page) == ["你好", "慢回复", "你好"]
    assert page.locator("#log-list > li.msg-user").count() == 3


def test_reload_keeps_conversation_and_preferences(new_page: Callable[..., Any],
                                                   server: ServerThread) -> None:
    page = new_page()
    set_mode(page, "elder")
    page.click("#sw-contrast")
    ask(page, "你好")
    items = page.locator("#log-list > li").all_inner_texts()
    who = sender(page)
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    assert page.locator("#log-list > li").all_inner_texts() == items
    assert page.evaluate("document.documentElement.className").split() >= ["contrast", "elder"]
    assert page.locator("#welcome").is_hidden()
    ask(page, "那需要多少钱")
    assert sender(page) == who and texts_for(server, page) == ["你好", "那需要多少钱"]


def test_server_preferences_are_honoured(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.click("#welcome-no")
    ask(page, "我要大字")
    assert "elder" in page.evaluate("document.documentElement.className")
    assert page.get_attribute("#sw-elder", "aria-checked") == "true"


def test_xss_renders_inert(new_page: Callable[..., Any]) -> None:
    page = new_page()
    payload = "<img src=x onerror=\"window.__xss='user'\"><script>window.__xss='s'</script>"
    ask(page, payload)
    ask(page, "xss")
    page.locator(BOT).last.locator("button[data-view='short']").click()
    page.locator(BOT).last.locator(".msg-actions button").hover()
    page.wait_for_timeout(300)
    assert page.evaluate("window.__xss") is None
    assert page.locator("#log-list img, #log-list script, #log-list svg, #log-list iframe, "
                        "#log-list style, #log-list b").count() == 0
    assert page.locator("#log-list a[href^='javascript']").count() == 0
    assert page.locator("#log-list > li.msg-user .bubble").nth(0).text_content() == payload
    assert page.locator(BOT).last.locator(".msg-short").text_content() == \
        "<iframe src=\"javascript:window.__xss='short'\"></iframe>"
    assert "<script>window.__xss='script'</script>答案" in page.locator(BOT).last.text_content()
    assert "<svg onload" in page.locator(".guide h3").last.text_content()
    assert page.is_visible("#input")  # the injected <style> did not hide the page


def test_voice_input_says_plainly_when_unavailable(new_page: Callable[..., Any]) -> None:
    page = new_page()
    mic = page.locator("#mic")
    page.wait_for_function("() => document.getElementById('mic').getAttribute('aria-disabled') === 'true'")
    assert mic.inner_text() == "语音输入（未开通）"
    assert mic.get_attribute("aria-describedby") == "mic-note"
    assert page.locator("#mic-note").text_content().startswith("语音识别未配置")
    mic.focus()
    page.keyboard.press("Enter")  # still focusable and explains itself when used
    assert page.inner_text("#status").startswith("语音识别未配置")
    ask(page, "你好")  # typing still works


class FixedRecognizer(Recognizer):
    """Test backend: whatever was said, 'recognises' one sentence and keeps the upload."""

    name = "fixed"

    def __init__(self) -> None:
        self.uploads: List[tuple] = []

    async def recognize(self, audio: bytes, content_type: str) -> AsrResult:
        self.uploads.append((len(audio), content_type))
        return AsrResult(text="社保卡丢了怎么办", confidence=0.8)


def test_voice_input_records_uploads_and_fills_the_box(browser: Any) -> None:
    recognizer = FixedRecognizer()
    srv = ServerThread(with_tts=False, recognizer=recognizer).start()
    context = browser.new_context(permissions=["microphone"])
    try:
        page = context.new_page()
        page.goto(srv.url + "/")
        page.wait_for_function("() => document.documentElement.dataset.connection === 'open' && "
                               "!document.getElementById('mic').hasAttribute('aria-disabled')")
        mic = page.locator("#mic")
        assert mic.inner_text() == "语音输入"
        mic.click()
        page.wait_for_function("() => document.getElementById('mic').getAttribute('aria-pressed') === 'true'")
        assert mic.inner_text() == "停止语音输入"
        page.wait_for_timeout(1200)
        mic.click()
        page.wait_for_function("() => document.getElementById('input').value.length > 0")
        assert page.input_value("#input") == "社保卡丢了怎么办"
        assert page.inner_text("#status") == "识别完成，请确认文字后发送。"
        ((size, content_type),) = recognizer.uploads
        assert content_type in ("audio/webm", "audio/ogg") and size > 1000
        ask(page, page.input_value("#input"))
        assert page.locator(".guide").count() == 1
    finally:
        context.close()
        srv.stop()


def test_handoff_hotline_and_input_always_on_screen(new_page: Callable[..., Any],
                                                    server: ServerThread) -> None:
    page = new_page()
    page.click("#welcome-no")
    for _ in range(3):
        ask(page, "社保卡丢了怎么办")
    assert page.evaluate("document.documentElement.scrollHeight <= innerHeight + 1")
    for sel in ("#handoff", ".hotline-link", "#input", "#send"):
        box = page.locator(sel).first.bounding_box()
        assert box and 0 <= box["y"] and box["y"] + box["height"] <= 860, sel
    before = page.locator(BOT).count()
    page.click("#handoff")
    wait_replies(page, before + 1)
    assert "人工" in page.locator(BOT).last.inner_text()
    assert page.locator("#log-list > li.msg-user").last.locator(".bubble").inner_text() == "转人工"
    ask(page, "今天天气怎么样")  # no answer: the reply offers 转人工 as a plain (unnumbered) button
    action = page.locator(BOT).last.locator(".msg-actions button")
    assert action.inner_text() == "转人工" and page.locator(BOT).last.locator(".candidate").count() == 0
    before = page.locator(BOT).count()
    action.click()
    wait_replies(page, before + 1)
    assert texts_for(server, page)[-1] == texts_for(server, page)[-3] == "/request_human"


def test_everything_is_served_locally(new_page: Callable[..., Any], server: ServerThread) -> None:
    page = new_page(goto=False)
    urls: List[str] = []
    page.on("request", lambda r: urls.append(r.url))
    page.goto(server.url + "/")
    ask(page, "社保卡丢了怎么办")
    assert urls and all(u.startswith((server.url, "ws://" + server.url[7:], "data:", "blob:"))
                        for u in urls), urls
    assert page.evaluate("document.documentElement.lang") == "zh-CN"


@pytest.mark.parametrize("size", [(1920, 1080), (1280, 860), (390, 844)], ids=["fhd", "desk", "phone"])
def test_first_visit_prompt_never_hides_the_conversation(new_page: Callable[..., Any],
                                                          size: tuple) -> None:
    page = new_page(*size)
    assert page.locator("#welcome").is_visible()  # first visit: offered, not forced
    ask(page, "社保卡")
    assert page.locator("#welcome").is_hidden()
    # It gives its room back to the log, and nothing lies on top of the first message.
    assert page.eval_on_selector("#welcome", "e => e.getBoundingClientRect().height") == 0
    assert page.eval_on_selector("#log-list > li", """e => {
        e.scrollIntoView({block: "center"});
        const r = e.getBoundingClientRect();
        const hit = document.elementFromPoint(r.left + 10, r.top + 5);
        return e.contains(hit);
    }""")
    page.reload()
    page.wait_for_function("() => document.documentElement.dataset.connection === 'open'")
    assert page.locator("#welcome").is_visible()  # still undecided: asked again next visit
