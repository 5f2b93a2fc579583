"""The in-process action endpoint: a failing action apologises with the configured hotline."""
import asyncio

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
