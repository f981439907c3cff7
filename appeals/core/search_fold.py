"""How names are typed: «Нұрлан», «Нурлан» and «Nurlan» are one search word.

`search_fold()` maps a text onto a skeleton of Russian Cyrillic letters:

1. lower case (no Unicode normalisation: in PostgreSQL normalize() cost more than all the rest
   together on every row a search reads; the search box normalises what is typed, see
   `search_words()`);
2. Latin spellings to Cyrillic: the 2021 Kazakh Latin alphabet (ä ğ ı ñ ö q ş ū ü, j for ж, y
   for ы) and the common Russian-style transliteration (zh, kh, sh, shch, ch, ts, ye, x);
3. the Kazakh letters to their Russian neighbours (ә→а, ғ→г, қ→к, ң→н, ө→о, ұ→у, ү→у, һ→х,
   і→и), and the letters transliteration cannot tell apart (й, ы → и; ё, э → е; щ → ш; ъ ь dropped);
4. я and ю spelt out (иа, иу), then a doubled и made single, so «Мария», «Maria» and «Mariya» meet.

The same steps exist as one SQL expression (`postgresql_expression()`), installed by migration
0006 as the IMMUTABLE function qb_search_fold() that the register's full-text index is built on;
SQLite gets the Python function under the same name. tests/test_search_fold.py checks that both
give the same skeleton.
"""
import re
import unicodedata

# Step 2a: Latin letter groups, longest first (the order matters and is the same in SQL).
LATIN_GROUPS = (
    ("shch", "ш"), ("sh", "ш"), ("ch", "ч"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ye", "е"), ("x", "кс"),
)
# Steps 2b and 3: one letter for one letter ("" drops it).
LATIN_LETTERS = {
    "a": "а", "b": "б", "c": "ц", "d": "д", "e": "е", "f": "ф", "g": "г", "h": "х", "i": "и", "j": "ж",
    "k": "к", "l": "л", "m": "м", "n": "н", "o": "о", "p": "п", "q": "к", "r": "р", "s": "с", "t": "т",
    "u": "у", "v": "в", "w": "у", "y": "и", "z": "з",
    "ä": "а", "ğ": "г", "ı": "и", "ñ": "н", "ö": "о", "ş": "ш", "ç": "ч", "ū": "у", "ü": "у",
}
CYRILLIC_LETTERS = {
    "ә": "а", "ғ": "г", "қ": "к", "ң": "н", "ө": "о", "ұ": "у", "ү": "у", "һ": "х", "і": "и",
    "й": "и", "ы": "и", "ё": "е", "э": "е", "щ": "ш",
}
DROPPED = ("ъ", "ь", "\u0307")  # hard and soft signs; the dot that lower() leaves on a Latin İ
SPELT_OUT = (("я", "иа"), ("ю", "иу"), ("ии", "и"))

_TABLE = str.maketrans({**LATIN_LETTERS, **CYRILLIC_LETTERS, **{letter: None for letter in DROPPED}})


def search_fold(value: str | None) -> str:
    text = (value or "").lower()
    for group, letter in LATIN_GROUPS:
        text = text.replace(group, letter)
    text = text.translate(_TABLE)
    for old, new in SPELT_OUT:
        text = text.replace(old, new)
    return text


def search_words(query: str, limit: int = 8) -> list[str]:
    """The folded words of what someone typed into a search box (NFKC first: a ligature or a
    full-width letter from a pasted text is a plain letter)."""
    return re.findall(r"\w+", search_fold(unicodedata.normalize("NFKC", query or "")))[:limit]


def _sql_literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def postgresql_expression(argument: str = "value") -> str:
    """search_fold() as one PostgreSQL expression over `argument` (replace() and translate() only,
    so the function is IMMUTABLE and can be indexed)."""
    expression = f"lower(coalesce({argument}, ''))"
    for group, letter in LATIN_GROUPS:
        expression = f"replace({expression}, {_sql_literal(group)}, {_sql_literal(letter)})"
    singles = {**LATIN_LETTERS, **CYRILLIC_LETTERS}
    source = "".join(singles) + "".join(DROPPED)
    target = "".join(singles.values())  # translate() drops the letters left without a partner
    assert all(len(letter) == 1 for letter in singles.values())
    expression = f"translate({expression}, {_sql_literal(source)}, {_sql_literal(target)})"
    for old, new in SPELT_OUT:
        expression = f"replace({expression}, {_sql_literal(old)}, {_sql_literal(new)})"
    return expression


def postgresql_function() -> str:
    return (
        "CREATE OR REPLACE FUNCTION qb_search_fold(value text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT AS $$ SELECT "
        + postgresql_expression("value") + " $$"
    )
