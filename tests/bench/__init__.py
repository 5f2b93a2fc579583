"""Tests for the benchmark tooling under bench/."""
