"""flask --app wsgi create-token USERNAME | export-data FILE | import-data FILE"""
import sys

import click
import sqlalchemy as sa

from appeals.extensions import db


@click.command("create-token")
@click.argument("username")
@click.option("--name", default="", help="What the token is for (shown in the token list).")
def create_token_command(username, name):
    """Create an API token for USERNAME and print it; it is shown only this once."""
    from appeals.api import tokens
    from appeals.auth.models import User

    user = db.session.scalar(sa.select(User).where(sa.func.lower(User.username) == username.strip().lower()))
    if user is None:
        click.echo(f"Error: no user {username!r}", err=True)
        sys.exit(2)
    try:
        _token, secret = tokens.create_token(user, name or "cli")
    except tokens.TokenError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)
    click.echo(secret)


commands = [create_token_command]
