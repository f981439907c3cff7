"""flask --app wsgi export-data FILE | import-data FILE: the whole database to one file and back."""
import sys

import click


@click.command("export-data")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@click.option("--include-credentials", is_flag=True,
              help="Also export password hashes, API-token hashes and calendar-feed secrets.")
def export_data_command(file, include_credentials):
    """Write the whole database to FILE (JSON Lines; FILE.gz is compressed)."""
    from appeals.maintenance import backup

    total = sum(backup.count_rows(table, include_credentials) for table in backup.ordered_tables())
    stream, raw = backup.open_for_writing(file)
    try:
        with click.progressbar(length=total, label="Exporting", file=sys.stderr) as bar:
            counts = backup.export_data(stream, include_credentials, progress=bar.update)
    except backup.BackupError as exc:
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
    from appeals.maintenance import backup

    try:
        with backup.open_for_reading(file) as stream:
            header = backup.read_header(stream)
        total = sum(int(entry.get("rows", 0)) for entry in header.get("tables", []))
        with backup.open_for_reading(file) as stream, \
                click.progressbar(length=total, label="Restoring", file=sys.stderr) as bar:
            counts = backup.import_data(stream, progress=bar.update)
    except (backup.BackupError, UnicodeDecodeError, OSError, EOFError) as exc:
        click.echo(f"Error: {getattr(exc, 'message', exc)} Nothing was restored.", err=True)
        sys.exit(1)
    click.echo(f"Restored {sum(counts.values())} rows of {len(counts)} tables from {file}")
    if not header.get("credentials"):
        click.echo("The file has no passwords or API tokens: set passwords before users can log in "
                   "(flask --app wsgi create-user makes a new administrator).")


commands = [export_data_command, import_data_command]
