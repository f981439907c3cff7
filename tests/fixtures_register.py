"""Fixtures for the register tests (loaded by tests/conftest.py)."""
