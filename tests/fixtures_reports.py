"""Fixtures for the reports tests (loaded by tests/conftest.py)."""
