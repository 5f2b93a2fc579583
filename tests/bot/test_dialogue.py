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
