"""The ``loyaltylab`` command.

Each command imports what it needs when it runs (the web app, the database, the statistics):
``loyaltylab --help`` and every ``<command> --help`` answer without loading them.
"""

from __future__ import annotations

import getpass
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from loyaltylab.cli_analyze import analyze
from loyaltylab.cli_report import report
from loyaltylab.jobs.worker import sweep_jobs, worker

if TYPE_CHECKING:
    from loyaltylab.settings import Settings


def get_settings() -> Settings:
    """The app's settings, imported when a command needs them (not for ``--help``)."""
    from loyaltylab.settings import get_settings as settings

    return settings()


app = typer.Typer(help="LoyaltyLab: survey and loyalty research platform.", no_args_is_help=True)
app.command("analyze")(analyze)
app.command("report")(report)
app.command("worker")(worker)
app.command("sweep-jobs")(sweep_jobs)


@app.command()
def serve(
    host: str = typer.Option("127.0.0.1", help="Interface to listen on."),
    port: int = typer.Option(8000, help="Port to listen on."),
    workers: int = typer.Option(1, min=1, help="Number of worker processes."),
) -> None:
    """Serve the web app."""
    import uvicorn

    from loyaltylab.app import SERVER_OPTIONS
    from loyaltylab.jobs.worker import embedded_consumer
    from loyaltylab.logging_setup import configure_logging

    configure_logging()
    settings = get_settings()
    typer.echo(f"LoyaltyLab on http://{host}:{port} (links use {settings.base_url})")
    consumer = embedded_consumer(settings)  # background jobs, unless Redis workers run them
    try:
        uvicorn.run(
            "loyaltylab.asgi:app",
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_config=None,
            **SERVER_OPTIONS,
        )
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date."""
    from loyaltylab.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("Database is up to date.")


@app.command()
def backup(
    file: Path = typer.Argument(..., help="The backup file to write (a SQLite database)."),
    force: bool = typer.Option(False, "--force", help="Replace FILE if it exists."),
) -> None:
    """Back up the SQLite database to FILE while the app runs (a consistent snapshot).
    PostgreSQL: use pg_dump (the command explains)."""
    from loyaltylab.backup import BackupError
    from loyaltylab.backup import backup as back_up

    try:
        summary = back_up(get_settings().database_url, file, force=force)
    except BackupError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"Backed up to {file}: {summary.size:,} bytes, {summary.responses} responses, "
        f"migration {summary.revision}."
    )


@app.command()
def restore(
    file: Path = typer.Argument(..., help="A backup made by 'loyaltylab backup'."),
    force: bool = typer.Option(
        False, "--force", help="Replace a database that holds data (it is lost)."
    ),
) -> None:
    """Restore the SQLite database from FILE (stop the app first). Refuses to replace a
    database that holds data unless --force. PostgreSQL: use pg_restore (the command explains)."""
    from loyaltylab.backup import BackupError, head_revision
    from loyaltylab.backup import restore as restore_from

    settings = get_settings()
    try:
        summary = restore_from(file, settings.database_url, force=force)
    except BackupError as problem:
        typer.echo(str(problem), err=True)
        raise typer.Exit(2) from None
    typer.echo(f"Restored {file}: {summary.responses} responses, migration {summary.revision}.")
    if summary.revision != head_revision():
        typer.echo("The backup is from an older version: run 'loyaltylab migrate' next.")


@app.command()
def demo() -> None:
    """Create (or refresh) the demo organisations, users and studies, and print the logins and
    the public link of the demo's open wave. Safe to run again."""
    from sqlmodel import Session

    from loyaltylab.demo import DEMO_PASSWORDS, generate_demo_report, seed_demo
    from loyaltylab.workflows import job_queue

    settings = get_settings()
    if settings.env == "production":
        typer.echo("Refusing to create demo accounts in production.", err=True)
        raise typer.Exit(2)
    from loyaltylab.db import make_engine

    engine = make_engine(settings.database_url)
    queue = job_queue(settings)
    with Session(engine) as session:
        summary = seed_demo(session, queue)
        session.commit()
    typer.echo(f"Demo study: {summary.study_name}")
    for wave_name, completes in summary.waves:
        typer.echo(f"  wave {wave_name}: {completes} complete responses")
    if summary.report_job_id is not None:
        generate_demo_report(queue, summary.report_job_id)
        typer.echo(f"  client report of wave {summary.waves[-1][0]}: generated (PDF)")
    queue.close()
    typer.echo("Demo logins:")
    for email, role in summary.users:
        typer.echo(f"  {role:<10} {email:<34} password: {DEMO_PASSWORDS[role]}")
    typer.echo(f"Try the respondent form: {settings.absolute_url(summary.try_path)}")


@app.command("schedule-waves")
def schedule_waves() -> None:
    """Close the waves whose closing time has passed (starting their client reports) and prepare
    the next draft wave of every study with a schedule. Safe to run again."""
    from sqlmodel import Session

    from loyaltylab import models  # noqa: F401  (registers every table)
    from loyaltylab.db import make_engine
    from loyaltylab.fieldwork.schedule import prepare_due_waves
    from loyaltylab.workflows import close_due_waves, job_queue

    settings = get_settings()
    engine = make_engine(settings.database_url)
    queue = job_queue(settings)
    with Session(engine) as session:
        closed = [
            (wave.study_id, wave.name, report is not None)
            for wave, report in close_due_waves(session, queue)
        ]
        created = [(wave.study_id, wave.name) for wave in prepare_due_waves(session)]
        session.commit()
    queue.close()
    for study_id, name, reported in closed:
        note = " (client report queued)" if reported else ""
        typer.echo(f"Closed wave {name} of study {study_id}{note}.")
    for study_id, name in created:
        typer.echo(f"Prepared wave {name} of study {study_id}.")
    typer.echo(f"{len(closed)} wave(s) closed, {len(created)} wave(s) prepared.")


@app.command("create-user")
def create_user(
    email: str = typer.Argument(..., help="E-mail address to sign in with."),
    organisation: str = typer.Option(..., "--organisation", "-o", help="Organisation name."),
    name: str = typer.Option("", help="Display name."),
    role: str = typer.Option("owner", help="owner, researcher or client."),
) -> None:
    """Create a user in an organisation (the organisation is created when new)."""
    from sqlmodel import Session, select

    from loyaltylab.accounts import service
    from loyaltylab.accounts.models import Organisation, OrganisationKind, Role
    from loyaltylab.db import make_engine
    from loyaltylab.errors import InvalidInput

    try:
        parsed_role = Role(role)
    except ValueError:
        typer.echo("role must be one of: owner, researcher, client", err=True)
        raise typer.Exit(2) from None
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline()
    password = password.rstrip("\n")
    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        org = session.exec(select(Organisation).where(Organisation.name == organisation)).first()
        if org is None:
            kind = (
                OrganisationKind.client if parsed_role is Role.client else OrganisationKind.research
            )
            org = Organisation(name=organisation, kind=kind)
            session.add(org)
            session.flush()
        try:
            service.create_user_with_membership(
                session,
                email=email,
                name=name or email.split("@")[0],
                password=password,
                organisation=org,
                role=parsed_role,
            )
        except InvalidInput as exc:
            typer.echo(exc.message % {k: v for k, v in exc.params.items()}, err=True)
            raise typer.Exit(2) from None
        session.commit()
    typer.echo(f"Created {email} ({parsed_role.value}) in {organisation}.")


@app.command("apply-retention")
def apply_retention_command() -> None:
    """Remove contact data past each study's retention period; responses stay anonymous."""
    from sqlmodel import Session, select

    from loyaltylab.db import make_engine
    from loyaltylab.privacy.service import apply_retention
    from loyaltylab.studies.models import Study
    from loyaltylab.timeutil import utcnow

    engine = make_engine(get_settings().database_url)
    with Session(engine) as session:
        studies = session.exec(
            select(Study.id, Study.retention_months).where(Study.retention_months.is_not(None))
        ).all()
        done = apply_retention(session, dict(studies), now=utcnow())
        session.commit()
    typer.echo(f"Anonymised {sum(done.values())} contacts in {len(done)} studies with retention.")


def main() -> None:
    app()
