"""Tests for rasa-sdk custom actions."""
