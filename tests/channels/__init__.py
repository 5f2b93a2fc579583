"""Tests for bot.channels."""
