"""Start-page blocks of this domain (see appeals.home.widgets)."""
from appeals.home.widgets import home_widget
from appeals.register import queries

WATCH_LIMIT = 10


@home_widget("register/_widget.html", order=10)
def deadlines_block(user):
    """Clerks and coordinators first see what is overdue or about to be, within what they may see."""
    if user.role not in ("clerk", "coordinator"):
        return None
    overdue, soon = queries.deadline_watch(user, limit=WATCH_LIMIT)
    return {"overdue": overdue, "soon": soon, "limit": WATCH_LIMIT}
