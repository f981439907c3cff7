"""Entry point for `flask --app wsgi` and `gunicorn wsgi:app`."""
import gc

from appeals import create_app

app = create_app()

# What exists after start-up lives as long as the process: spare the garbage collector from
# walking all of it again on every full collection (measured in bench/RESULTS.md).
gc.freeze()
