"""Keeping the installation: the whole-database backup and its restore (not an API concern)."""
