"""Normalising names as they are saved: users', hosts' and applicants' names alike."""
import unicodedata
from typing import Any


def clean_name(value: Any) -> str:
    """A person's name with no control or format characters, single-spaced.

    Control characters (CR, NUL, ESC…) become spaces: a CR in a name broke out of a CSS string in
    the PDFs' footer. Invisible format characters (zero-width spaces, bidirectional overrides that
    make a name read differently from how it sorts and searches) are dropped.
    """
    out = []
    for ch in str(value or ""):
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            out.append(" ")
        elif category != "Cf":
            out.append(ch)
    return " ".join("".join(out).split())
