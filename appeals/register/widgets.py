"""Start-page blocks of this domain (see appeals.home.widgets)."""
from appeals.home.widgets import home_widget  # noqa: F401
