"""Fixtures for the schedules tests (loaded by tests/conftest.py)."""
