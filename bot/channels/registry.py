"""The explicit channel registry: each ``ChannelInput`` is mounted at ``/webhooks/<name>/``."""
from __future__ import annotations

import logging
from typing import Dict, Type

from bot.channels.base import ChannelInput
from bot.channels.jambonz import JambonzInput
from bot.channels.rest import RestInput
from bot.channels.web import WebInput
from bot.channels.wechat import WeChatInput

_LOGGER = logging.getLogger(__name__)

CHANNELS: Dict[str, Type[ChannelInput]] = {c.name: c for c in (RestInput, WebInput, WeChatInput,
                                                                 JambonzInput)}
