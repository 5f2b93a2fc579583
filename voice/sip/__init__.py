"""The built-in SIP endpoint (PJSIP): a process of its own that drives the voice webhook."""
