"""Entry point for `flask --app wsgi` and `gunicorn wsgi:app`."""
import gc
import sys

from sqlalchemy.orm import configure_mappers

from appeals import create_app
from appeals.core.i18n import warm_translations

app = create_app()

# The mappers are configured here, not by each process's first query.
configure_mappers()
if "gunicorn" in sys.modules:
    # With --preload every worker forks from this process: give them the templates compiled and the
    # catalogs loaded, so that a new or restarted worker's first requests cost what later ones do.
    for name in app.jinja_env.list_templates(filter_func=lambda name: name.endswith((".html", ".j2"))):
        app.jinja_env.get_template(name)
    warm_translations(app)

# What exists after start-up lives as long as the process: spare the garbage collector from
# walking all of it again on every full collection (measured in bench/RESULTS.md).
gc.freeze()
