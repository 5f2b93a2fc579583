"""Tests for the knowledge package."""
