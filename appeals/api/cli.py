"""flask --app wsgi create-token USERNAME"""
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


commands = [create_token_command]
