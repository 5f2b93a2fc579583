"""The WeChat Official Account protocol (on wechatpy): signatures, crypto, XML, replies, API."""
