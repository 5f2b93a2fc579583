"""Signatures (compared in constant time), replay window, and safe-mode AES through wechatpy."""
from __future__ import annotations

import base64
import binascii
import hmac
import logging
import time
from typing import Optional

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner

from bot.wechat.errors import BadSignature, DecryptFailed, StaleTimestamp, WeChatError

_LOGGER = logging.getLogger(__name__)

MAX_SKEW_S = 300
"""A callback whose timestamp is further than this from our clock is refused (replay)."""


def sign(*parts: str) -> str:
    """WeChat's SHA-1 signature over the sorted parts (wechatpy's signer)."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def check_timestamp(timestamp: str, now: Optional[float] = None) -> None:
    """Refuse a missing, malformed or stale (replayed) timestamp."""
    try:
        sent = int(timestamp)
    except (TypeError, ValueError):
        raise StaleTimestamp("timestamp 无效") from None
    if abs((time.time() if now is None else now) - sent) > MAX_SKEW_S:
        raise StaleTimestamp("timestamp 已过期")


def check_signature(token: str, signature: str, timestamp: str, nonce: str,
                    now: Optional[float] = None) -> None:
    """The URL signature of every callback (and of server verification)."""
    check_timestamp(timestamp, now)
    expected = sign(token, timestamp, nonce)
    if not hmac.compare_digest(expected.encode(), (signature or "").encode()):
        raise BadSignature("签名无效")


def valid_aes_key(aes_key: str) -> bool:
    """An EncodingAESKey is 43 characters of base64 for a 32-byte key."""
    try:
        return len(aes_key) == 43 and len(base64.b64decode(aes_key + "=")) == 32
    except (binascii.Error, ValueError):
        return False


class SafeMode:
    """Safe (and compatible) mode: ``msg_signature`` over the ciphertext, AES-CBC payload."""

    def __init__(self, token: str, aes_key: str, appid: str) -> None:
        if not valid_aes_key(aes_key):
            raise ValueError("GOVBOT_WECHAT_AES_KEY must be the 43-character EncodingAESKey")
        self._crypto = WeChatCrypto(token, aes_key, appid)
        self.token, self.appid = token, appid

    def decrypt(self, encrypt: str, msg_signature: str, timestamp: str, nonce: str) -> str:
        """The inner XML of an encrypted message, after checking its signature."""
        expected = sign(self.token, timestamp, nonce, encrypt)
        if not hmac.compare_digest(expected.encode(), (msg_signature or "").encode()):
            raise BadSignature("msg_signature 无效")
        try:
            return PrpCrypto(self._crypto.key).decrypt(encrypt, self.appid)
        except Exception as exc:  # noqa: BLE001 - hostile ciphertext fails in many ways
            raise DecryptFailed("消息无法解密") from exc

    def encrypt(self, xml: str, nonce: str, timestamp: Optional[str] = None) -> str:
        """The encrypted envelope of a passive reply."""
        return self._crypto.encrypt_message(xml, nonce, timestamp)


def require(value: Optional[str], name: str) -> str:
    """A query parameter that must be present."""
    if not value:
        raise WeChatError(f"缺少参数 {name}", "wechat_missing_param")
    return value
