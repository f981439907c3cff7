"""Command-line tools of the register (every command in `commands` is added to `flask`)."""
import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from appeals.core.extensions import db


@click.command("import-appeals")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--office", "office_code", required=True, help="Code of the office that registers the appeals (e.g. KRD).")
@click.option("--user", "username", default=None, help="Record the import under this account (default: system).")
@with_appcontext
def import_appeals_command(file, office_code, username):
    """Import appeals from a CSV or XLSX sheet: all rows or none."""
    from appeals.auth.models import User
    from appeals.reference.models import Office
    from appeals.register import imports, validation

    office = db.session.scalar(sa.select(Office).where(Office.code == office_code.strip().upper()))
    if office is None:
        click.echo(f"Error: unknown office {office_code!r}.", err=True)
        sys.exit(2)
    actor = None
    if username:
        actor = db.session.scalar(sa.select(User).where(User.username == username))
        if actor is None:
            click.echo(f"Error: unknown user {username!r}.", err=True)
            sys.exit(2)
    try:
        with file.open("rb") as stream:
            rows = imports.read_import_file(file.name, stream)
        appeals = imports.import_rows(rows, office, actor)
    except validation.ImportValidationError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        for row, column, message in exc.row_errors:
            click.echo(f"  row {row}, {column}: {message}", err=True)
        sys.exit(1)
    except validation.AppealError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    if appeals:
        click.echo(f"Imported {len(appeals)} appeals: {appeals[0].number} … {appeals[-1].number}")
    else:
        click.echo("Imported 0 appeals.")


commands = [import_appeals_command]
