"""Keyset-free page/size pagination that never counts the whole table: it asks for one row more."""
from dataclasses import dataclass

from appeals.core.extensions import db
from appeals.core.parsing import lenient, parse_int

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class Page:
    items: list
    number: int
    size: int
    has_next: bool

    @property
    def has_prev(self):
        return self.number > 1


def _int_arg(args, name, default, low, high):
    # A page number out of range is clamped, a malformed one ignored: paging never fails.
    value = lenient(parse_int, args.get(name))
    return default if value is None else max(low, min(high, value))


def _page_and_size(args, default_size, max_size):
    return _int_arg(args, "page", 1, 1, 100000), _int_arg(args, "size", default_size, 1, max_size)


def rows_to_read(args, default_size=DEFAULT_PAGE_SIZE, max_size=MAX_PAGE_SIZE):
    """How many rows of a query paginate() reads for these arguments (the pages before, this one, one more)."""
    number, size = _page_and_size(args, default_size, max_size)
    return number * size + 1


def paginate(query, args, default_size=DEFAULT_PAGE_SIZE, max_size=MAX_PAGE_SIZE, scalars=True):
    number, size = _page_and_size(args, default_size, max_size)
    statement = query.limit(size + 1).offset((number - 1) * size)
    result = db.session.execute(statement)
    rows = result.scalars().all() if scalars else result.all()
    return Page(items=rows[:size], number=number, size=size, has_next=len(rows) > size)
