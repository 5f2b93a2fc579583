"""The in-process action endpoint: a failing action apologises with the configured hotline."""
import asyncio

import pytest

from bot.dialogue import InProcessActionEndpoint


def _run(endpoint: InProcessActionEndpoint, payload: dict) -> dict:
    return asyncio.run(endpoint.request(json=payload))


def test_failing_action_apologises_with_configured_hotline(monkeypatch) -> None:
    endpoint = InProcessActionEndpoint(hotline="96180")

    async def boom(_payload):
        raise RuntimeError("database went away")

    monkeypatch.setattr(endpoint._executor, "run", boom)
    body = _run(endpoint, {"next_action": "action_answer_service"})
    assert body["events"] == []
    assert "96180" in body["responses"][0]["text"]
    assert "12345" not in body["responses"][0]["text"]


def test_unknown_action_is_reported_not_swallowed() -> None:
    from rasa.utils.endpoints import ClientResponseError
    endpoint = InProcessActionEndpoint()
    payload = {"next_action": "action_does_not_exist", "sender_id": "t",
               "tracker": {"sender_id": "t", "slots": {}, "latest_message": {}, "events": []},
               "domain": {}, "version": "3.6.21"}
    try:
        _run(endpoint, payload)
    except ClientResponseError as exc:
        assert exc.status == 404
    else:
        raise AssertionError("an unknown action must raise, not answer")


@pytest.mark.postgres
def test_the_tracker_store_connects_with_a_timeout_and_keepalives(pg_url) -> None:
    from bot.dialogue import make_tracker_store

    engine = make_tracker_store(pg_url).engine
    with engine.connect() as conn:  # what libpq really connected with
        params = conn.connection.dbapi_connection.info.dsn_parameters
    engine.dispose()
    assert params["connect_timeout"] == "10" and params["keepalives_idle"] == "10"


def test_a_blocking_action_does_not_hold_up_the_loop(monkeypatch) -> None:
    """rasa-sdk runs a synchronous action inline: it must run on a worker thread."""
    import time

    from bot.dialogue import make_worker_pool
    endpoint = InProcessActionEndpoint(executor=make_worker_pool(2))

    async def slow(_payload):
        time.sleep(0.6)  # a slow database inside a synchronous action
        return {"events": [], "responses": []}

    monkeypatch.setattr(endpoint._executor, "run", slow)

    async def main() -> list:
        ticks = []

        async def heartbeat() -> None:
            while True:
                ticks.append(time.monotonic())
                await asyncio.sleep(0.05)

        beat = asyncio.create_task(heartbeat())
        await endpoint.request(json={"next_action": "action_answer_service"})
        beat.cancel()
        return ticks

    ticks = asyncio.run(main())
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) >= 8 and max(gaps) < 0.3, gaps


def test_invalid_preferences_from_an_action_are_logged_not_a_500(caplog) -> None:
    from bot.channels.base import InboundMessage, Preferences
    from bot.dialogue import Dialogue

    class Store:
        async def retrieve(self, sender):
            return None

    class Agent:
        tracker_store = Store()

        async def handle_message(self, message):
            await message.output_channel.send_response(message.sender_id, {
                "text": "好的", "custom": {"type": "preferences",
                                          "preferences": {"speed": "fast"}}})

    with caplog.at_level("ERROR", logger="bot.dialogue"):
        result = asyncio.run(Dialogue(Agent()).handle(InboundMessage("api:s", "慢一点", "api")))
    assert result.messages[0].text == "好的" and result.preferences == Preferences()
    assert "invalid preferences" in caplog.text and "speed" in caplog.text
