"""The task queue (Huey): SQLite file in the instance folder by default, Redis when QUEUE_URL says so.

The queue only carries ids. What a job or a notice is, and how far it got, lives in the database
(the jobs and notices tables): a message lost with a killed worker is found again by the sweeper
(`appeals.core.jobs.sweep_jobs`), which every worker runs at start and then periodically.
"""
import logging
from pathlib import Path
from typing import Any, Callable, Optional

from flask import Flask, current_app, has_app_context
from huey import Huey
from huey.storage import RedisStorage, SqliteStorage

log = logging.getLogger(__name__)

# One Huey object whose storage init_queue() chooses: tasks are registered on it at import time,
# before any app (and so any setting) exists.
huey = Huey("qabyldau", results=False, utc=True, storage_class=SqliteStorage, filename=":memory:")
_app: Optional[Flask] = None


def queue_storage(url: Optional[str], instance_path: str, name: str):
    """(storage class, keyword arguments) for QUEUE_URL: unset or sqlite:///path, or redis://..."""
    if not url:
        return SqliteStorage, {"filename": str(Path(instance_path) / "queue.sqlite3")}
    if url.startswith("sqlite:///"):
        return SqliteStorage, {"filename": url[len("sqlite:///"):]}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStorage, {"url": url}
    raise RuntimeError(f"QUEUE_URL must start with redis://, rediss://, unix:// or sqlite:///, not {url.split(':')[0]}:")


def init_queue(app: Flask) -> None:
    """Point the queue at the storage the app's settings name (tests: run tasks at once, in place)."""
    global _app
    _app = app
    name = app.config.get("QUEUE_NAME", "qabyldau")
    storage_class, kwargs = queue_storage(app.config.get("QUEUE_URL"), app.instance_path, name)
    huey.name = name
    huey.storage_class = storage_class
    huey.storage_kwargs = kwargs
    huey._immediate = bool(app.config.get("QUEUE_IMMEDIATE"))
    huey.storage = huey.create_storage()


def task_app() -> Flask:
    """The app a task runs in: the caller's (immediate mode) or the one that configured the queue."""
    if has_app_context():
        return current_app._get_current_object()  # type: ignore[attr-defined]  # a LocalProxy at run time
    if _app is None:
        raise RuntimeError("the queue has not been configured (appeals.create_app calls init_queue)")
    return _app


def in_app_context(function: Callable[..., Any]) -> Callable[..., Any]:
    """A task body run in an app context of its own (its own database session)."""

    def wrapped(*args, **kwargs):
        app = task_app()
        with app.app_context():
            from appeals.core.extensions import db

            try:
                return function(*args, **kwargs)
            finally:
                db.session.remove()

    wrapped.__name__ = function.__name__
    wrapped.__qualname__ = function.__qualname__
    wrapped.__module__ = function.__module__
    return wrapped
