"""Directives of the central office and the mandates («аманат») registered under them."""
from appeals.mandates import search  # noqa: F401  (registers the SQLite keyword-folding function early)
