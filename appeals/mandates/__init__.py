"""Directives of the central office and the mandates («аманат») registered under them."""
