"""WeChat protocol errors, each with a stable code and the HTTP status it answers with."""
from __future__ import annotations

from bot.errors import GovbotError


class WeChatError(GovbotError):
    """A request that is not a valid WeChat callback (400 unless a subclass says otherwise)."""

    code = "wechat_bad_request"


class BadSignature(WeChatError):
    """The signature or msg_signature does not match the token (403)."""

    status = 403
    code = "wechat_bad_signature"


class StaleTimestamp(WeChatError):
    """The timestamp is more than ``MAX_SKEW_S`` from now: a replayed or forged call (403)."""

    status = 403
    code = "wechat_stale_timestamp"


class BadXml(WeChatError):
    """The body is not well-formed XML, or not a WeChat message (400)."""

    code = "wechat_bad_xml"


class UnsafeXml(WeChatError):
    """The body declares a DTD or entities (XXE, entity expansion): refused (400)."""

    code = "wechat_unsafe_xml"


class DecryptFailed(WeChatError):
    """A safe-mode message that does not decrypt with our EncodingAESKey and AppID (400)."""

    code = "wechat_decrypt_failed"


class ApiError(Exception):
    """The WeChat API refused a call (``errcode``) or could not be reached."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def token_expired(self) -> bool:
        """40001 invalid, 40014 illegal, 41001 missing, 42001 expired access_token."""
        return self.errcode in (40001, 40014, 41001, 42001)
