"""The TTS service with a real espeak-ng worker, for the voice tests."""
from __future__ import annotations

from typing import AsyncIterator

import pytest

from voice.tts import TtsService


@pytest.fixture
async def tts() -> AsyncIterator[TtsService]:
    """A started TTS service (its worker process stopped afterwards)."""
    service = TtsService(job_timeout=10.0)
    await service.start()
    assert service.available, service.unavailable_reason
    yield service
    await service.stop()
