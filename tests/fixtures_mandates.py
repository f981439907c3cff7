"""Fixtures for the mandates tests (loaded by tests/conftest.py)."""
