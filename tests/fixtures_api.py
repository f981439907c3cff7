"""Fixtures for the api tests (loaded by tests/conftest.py)."""
