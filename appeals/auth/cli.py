"""flask --app wsgi create-user USERNAME --role ROLE [--office CODE] [--region CODE]"""
import sys

import click

from appeals.auth import services
from appeals.auth.models import ROLES


def _read_password():
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return sys.stdin.readline().rstrip("\r\n")


@click.command("create-user")
@click.argument("username")
@click.option("--role", required=True, help="One of: " + ", ".join(ROLES))
@click.option("--office", "offices", multiple=True, help="Office code; repeat for several offices.")
@click.option("--region", "region", default=None,
              help="Region code: the region a coordinator or viewer works for (optional with one region).")
@click.option("--full-name", default="", help="Full name shown in the interface.")
def create_user_command(username, role, offices, region, full_name):
    """Create a user; the password is prompted for, or read from standard input when piped."""
    if role not in ROLES:
        click.echo(f"Error: unknown role {role!r}; expected one of {', '.join(ROLES)}", err=True)
        sys.exit(2)
    password = _read_password()
    try:
        user = services.create_user(username, password, role, offices, full_name=full_name, region_code=region)
    except services.AccountError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)
    click.echo(f"Created user {user.username} ({user.role})")


def _existing_user(username):
    """The account named `username`, or the command ends with an error (exit status 2)."""
    user = services.find_user(username)
    if user is None:
        click.echo(f"Error: no user {username!r}", err=True)
        sys.exit(2)
    return user


@click.command("set-password")
@click.argument("username")
def set_password_command(username):
    """Set a user's password (e.g. after restoring a backup made without credentials)."""
    user = _existing_user(username)
    try:
        services.set_password(user, _read_password())
    except services.AccountError as exc:
        click.echo(f"Error: {exc.message}", err=True)
        sys.exit(2)
    click.echo(f"Password of {user.username} changed; their other sessions have ended.")


@click.command("reset-totp")
@click.argument("username")
def reset_totp_command(username):
    """Remove USERNAME's two-factor authentication (phone and recovery codes lost); audited."""
    from appeals.auth import totp

    user = _existing_user(username)
    totp.reset(user)
    click.echo(f"Two-factor authentication of {user.username} removed; they set it up again at the next login.")


commands = [create_user_command, set_password_command, reset_totp_command]
