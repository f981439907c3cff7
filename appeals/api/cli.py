"""flask --app wsgi create-token USERNAME | export-data FILE | import-data FILE"""
import sys

import click
import sqlalchemy as sa

from appeals.core.extensions import db


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="", help="What the token is for (shown in the token list).")
@click.option("--days", type=int, default=None, help="Days until it expires (default API_TOKEN_DEFAULT_DAYS).")
def create_token_command(username, name, days):
    """Create an API token for USERNAME and print it; it is shown only this once.

    The operator's tool (whoever runs it can read the database anyway); the audit trail records
    it as made through the command line. The web pages let only the owner create tokens.
    """
    from appeals.api import tokens
    from appeals.auth.models import User

    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == username.strip().lower()))
    if user is None:
        click.echo(f"Error: no user {username!r}", err=True)
        sys.exit(2)
    try:
        _token, secret = tokens.create_token(user, name or "cli", days=days, via="cli")
    except tokens.TokenError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)
    click.echo(secret)


@click.command("export-data")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--include-credentials", is_flag=True,
              help="Also export password hashes, API-token hashes and calendar-feed secrets.")
def export_data_command(file, include_credentials):
    """Write the whole database to FILE (JSON Lines; FILE.gz is compressed)."""
    from appeals.api import transfer

    total = sum(transfer._count(table, include_credentials) for table in transfer._tables())
    stream, raw = transfer.open_for_writing(file)
    try:
        with click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar:
            counts = transfer.export_data(stream, include_credentials, progress=bar.update)
    except transfer.TransferError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(1)
    finally:
        stream.close()
        if raw is not None:
            raw.close()
    rows = sum(counts.values())
    click.echo(f"Exported {rows} rows of {len(counts)} tables to {file}"
               + ("" if include_credentials else " (without credentials)"))


@click.command("import-data")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
def import_data_command(file):
    """Restore FILE, written by export-data, into an empty migrated database (all or nothing)."""
    from appeals.api import transfer

    try:
        with transfer.open_for_reading(file) as stream:
            header = transfer.read_header(stream)
        total = sum(int(entry.get("rows", 0)) for entry in header.get("tables", []))
        with transfer.open_for_reading(file) as stream, \
                click.progressbar(length=total, label="Restoring", file=sys.stderr) as bar:
            counts = transfer.import_data(stream, progress=bar.update)
    except (transfer.TransferError, UnicodeDecodeError, OSError, EOFError) as exc:
        click.echo(f"Error: {getattr(exc, 'message', exc)} Nothing was restored.", err=True)
        sys.exit(1)
    click.echo(f"Restored {sum(counts.values())} rows of {len(counts)} tables from {file}")
    if not header.get("credentials"):
        click.echo("The file has no passwords or API tokens: set passwords before users can log in "
                   "(flask --app wsgi create-user makes a new administrator).")


commands = [create_token_command, export_data_command, import_data_command]
