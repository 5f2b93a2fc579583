"""Tests for the voice package."""
