"""Channels: typed payloads in ``base``, one module per channel, the registry in ``registry``."""
