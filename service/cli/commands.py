"""`labor-ledger`: serve, migrate, keys, import, verify, openapi; push, export, restore,
deliver (service/cli/follow.py)."""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy import Engine

from service.access.keys import ApiKey, KeyNameTaken, KeyRing, Scope, ensure_secret
from service.api.logs import configure_logging, log_config
from service.api.metrics import share_between_workers
from service.api.server_limits import uvicorn_limits
from service.cli.failures import require_ledger, run_explained
from service.cli.follow import print_notice
from service.cli.follow import register as register_follow_commands
from service.db.engine import make_engine, without_statement_timeout
from service.db.migrate import upgrade_to_head
from service.db.roles import grant_service_role
from service.domain.checkpoints import Checkpoint, CheckpointSigner
from service.domain.clock import utc_now
from service.ingest.importing import (
    SEED_PRINCIPAL,
    ImportFailed,
    first_copies,
    import_events,
    parse_lines,
    read_seed,
)
from service.ledger import build_ledger, derived_table_rules
from service.log.append import read_head
from service.log.checkpoints import NoSuchPosition, check_checkpoint, sign_position
from service.log.verify import verify_chain
from service.settings import Settings, get_settings
from service.views.rebuild import (
    SHOWN_DIFFERENCES,
    ReplayPlan,
    check_projections,
    rebuild_projections,
)

app = typer.Typer(help="Labor Ledger: reported facts about North Korean overseas workers.")
keys_app = typer.Typer(help="Manage API keys.")
app.add_typer(keys_app, name="keys")
register_follow_commands(app)  # push, export, restore, deliver
console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one line each, to copy and paste


def _engine() -> Engine:
    """The engine of an existing ledger (a missing SQLite file is one line, not a new file)."""
    return make_engine(require_ledger(get_settings()))


def _keyring(engine: Engine, settings: Settings) -> KeyRing:
    return KeyRing(engine, ensure_secret(engine, settings.secret_key))


def _log_is_empty(engine: Engine) -> bool:
    with engine.connect() as conn:
        return read_head(conn).position == 0


@app.command()
def migrate() -> None:
    """Apply the database migrations."""
    upgrade_to_head(_engine())
    console.print("database is at the newest migration")


@app.command("grant-service-role")
def grant_service_role_command(
    role: Annotated[str, typer.Argument(help="The PostgreSQL role the service connects as.")],
) -> None:
    """Grant a PostgreSQL role what the service needs and nothing more (run as the owner of
    the tables, after `migrate`): it can read and append to the log but never change,
    truncate or unguard it. Then serve with that role in LEDGER_DATABASE_URL and
    LEDGER_MIGRATE_ON_START=false."""
    settings = get_settings()
    if settings.is_sqlite:
        errors.print("roles are PostgreSQL's: a SQLite ledger is guarded by its file's owner")
        raise typer.Exit(2)
    for statement in grant_service_role(_engine(), role):
        console.print(statement)


WORKER_START_SECONDS = 60


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="The address to listen on (LEDGER_HOST; 127.0.0.1).")
    ] = None,
    port: Annotated[int | None, typer.Option(help="The port (LEDGER_PORT; 8000).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(help="Service processes (LEDGER_WORKERS; 1). PostgreSQL for more than one."),
    ] = None,
) -> None:
    """Migrate (unless LEDGER_MIGRATE_ON_START=false), load the seed into an empty ledger,
    print a first admin key, and serve."""
    settings = get_settings()
    configure_logging(settings.log_format)  # the migration's lines too
    engine = make_engine(settings)
    if settings.migrate_on_start:
        upgrade_to_head(engine)
    if settings.load_seed and _log_is_empty(engine):
        ledger = build_ledger(settings)
        count = import_events(ledger.store, ledger.gazetteer, read_seed(), principal=SEED_PRINCIPAL)
        ledger.engine.dispose()
        console.print(f"loaded the seed report: {count} events")
    keyring = _keyring(engine, settings)
    if settings.bootstrap_admin and not keyring.has_admin():
        key, token = keyring.create(
            f"bootstrap-admin-{datetime.now():%Y%m%d%H%M%S}",
            {Scope.admin, Scope.events_write, Scope.events_correct},
        )
        console.print(
            f"[bold]First admin key[/bold] ({key.name}); it is shown only now:\n  {token}"
        )
    engine.dispose()
    address = f"http://{host or settings.host}:{port or settings.port}"
    # A log line (JSON unless LEDGER_LOG_FORMAT=text), as every line `serve` writes.
    logging.getLogger("service.serve").info(
        "the desk: %s/ · the API reference: %s/docs", address, address
    )
    if (workers or settings.workers) > 1:
        share_between_workers()  # /metrics adds up what every worker counted
    uvicorn.run(
        "service.app:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        log_level="info",
        log_config=log_config(settings.log_format),  # applied in every worker
        # A worker that has not started in this time is killed and another spawned: 5 s
        # (uvicorn's default) is less than importing the app takes on a busy machine.
        timeout_worker_healthcheck=WORKER_START_SECONDS,
        # Event streams never end by themselves: without a limit, a shutdown waits
        # for every follower to hang up. Cut off, they reconnect with Last-Event-ID.
        timeout_graceful_shutdown=1,
        # Heads over 16 KiB, clients trickling their heads, idle connections: refused
        # or closed by the server itself (api/server_limits.py).
        **uvicorn_limits(settings),
    )


@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Append a JSON Lines file of event bodies, validated as the API validates them.

    Every warning the ledger gives is printed with its line ("line 12: possible
    duplicate of <event id> ..."): the event is recorded; if it repeats that fact,
    correct or retract it. A line identical to an earlier one (the same JSON object)
    is imported once and reported ("line 14 is identical to line 3: sent once").
    """
    ledger = build_ledger(without_statement_timeout(require_ledger(get_settings())))
    try:
        lines, identical = first_copies(parse_lines(file.read_text(encoding="utf-8").splitlines()))
        for repeat in identical:
            print_notice(repeat)
        with Progress(console=errors) as progress:
            task = progress.add_task("importing", total=len(lines))
            count = import_events(
                ledger.store,
                ledger.gazetteer,
                lines,
                principal=f"import:{file.name}",
                progress=lambda n: progress.advance(task, n),
                warned=print_notice,
            )
    except ImportFailed as failed:
        errors.print(f"[red]import stopped at {file}:{failed}[/red]")
        raise typer.Exit(1) from None
    console.print(
        f"imported {count} events"
        + (f"; identical lines sent once: {len(identical)}" if identical else "")
    )


@app.command()
def rebuild(
    check: Annotated[
        bool, typer.Option("--check", help="Compare with a recomputation; change nothing.")
    ] = False,
) -> None:
    """Recompute every derived view from the log (or, with --check, name any difference)."""
    ledger = build_ledger(without_statement_timeout(require_ledger(get_settings())))
    rules = derived_table_rules()
    plan = ReplayPlan.of(ledger.settings)
    if check:
        report = check_projections(ledger.engine, rules, plan)
        for difference in report.differences[:SHOWN_DIFFERENCES]:
            errors.print(difference)
        if report.differences:
            errors.print(f"[red]{len(report.differences)} differences[/red]")
            raise typer.Exit(1)
        console.print(f"views match a rebuild of {report.events} events")
        return
    with Progress(console=errors, transient=True) as progress:
        task = progress.add_task("rebuilding", total=None)
        report = rebuild_projections(
            ledger.engine,
            rules,
            plan,
            progress=lambda done, head: progress.update(task, completed=done, total=head),
        )
    console.print(
        f"rebuilt from {report.events} events in {report.seconds:.2f} s "
        f"({report.events_per_second:,.0f} events/s)"
    )


@app.command()
def verify(
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            dir_okay=False,
            readable=True,
            help="A checkpoint kept from `labor-ledger checkpoint` or GET /v1/audit/checkpoints: "
            "the log must still hold its event with its hash (a recomputed chain or a removed "
            "tail shows).",
        ),
    ] = None,
) -> None:
    """Recompute the hash chain; name the first broken position."""
    kept = _read_checkpoint(checkpoint) if checkpoint is not None else None
    engine = make_engine(without_statement_timeout(require_ledger(get_settings())))
    with engine.connect() as conn, Progress(console=errors, transient=True) as progress:
        task = progress.add_task("verifying", total=None)
        report = verify_chain(
            conn, lambda done, head: progress.update(task, completed=done, total=head)
        )
        against = check_checkpoint(conn, kept) if kept is not None else None
    if not report.ok:
        errors.print(
            f"[red]broken at position {report.first_broken_position}: {report.reason}[/red]"
        )
        raise typer.Exit(1)
    if against is not None and not against.ok:
        errors.print(
            f"[red]does not match the checkpoint at {against.position}: {against.reason}[/red]"
        )
        raise typer.Exit(1)
    console.print(
        f"hash chain verified: {report.checked} events"
        + (f"; it holds the checkpoint at position {kept.position}" if kept is not None else "")
    )


def _read_checkpoint(path: Path) -> Checkpoint:
    try:
        return Checkpoint.model_validate_json(path.read_bytes())
    except ValidationError as bad:
        errors.print(f"[red]{path} is not a checkpoint: {bad.errors()[0]['msg']}[/red]")
        raise typer.Exit(2) from None


@app.command("checkpoint")
def checkpoint_command(
    at_position: Annotated[
        int | None,
        typer.Option(min=0, help="The position to sign (default: the head)."),
    ] = None,
) -> None:
    """Print a signed checkpoint of the log as JSON: keep it outside the ledger, and check
    the log against it later with `labor-ledger verify --checkpoint FILE`."""
    settings = require_ledger(get_settings())
    engine = make_engine(settings)
    signer = CheckpointSigner.from_secret(ensure_secret(engine, settings.secret_key))
    try:
        with engine.connect() as conn:
            signed = sign_position(conn, signer, utc_now().replace(microsecond=0), at_position)
    except NoSuchPosition as missing:
        errors.print(f"[red]{missing}[/red]")
        raise typer.Exit(2) from None
    sys.stdout.write(signed.model_dump_json(indent=2) + "\n")


@app.command()
def openapi(check: Annotated[bool, typer.Option("--check")] = False) -> None:
    """Write openapi/openapi.json, or check that it matches the app."""
    from service.openapi import main

    raise typer.Exit(main(["--check"] if check else []))


@keys_app.command("create")
def keys_create(
    name: str,
    scope: Annotated[list[Scope], typer.Option(help="Repeat for several scopes.")],
    expires: Annotated[datetime | None, typer.Option(help="ISO date-time, UTC.")] = None,
) -> None:
    """Create a key; the token is printed once."""
    settings = get_settings()
    from datetime import UTC

    try:
        key, token = _keyring(_engine(), settings).create(
            name, set(scope), expires.replace(tzinfo=UTC) if expires else None
        )
    except KeyNameTaken as taken:
        errors.print(f"[red]{taken.detail}[/red]")
        raise typer.Exit(1) from None
    console.print(f"{key.name} ({' '.join(sorted(key.scopes))}): {token}")


@keys_app.command("list")
def keys_list(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per key, a line each.")
    ] = False,
) -> None:
    """Every key, with its whole id and name (to copy into `keys revoke`); never the tokens."""
    keys = _keyring(_engine(), get_settings()).list()
    if as_json:
        for key in keys:
            sys.stdout.write(json.dumps(_key_json(key), ensure_ascii=False) + "\n")
        return
    table = Table("id", "name", "prefix", "scopes", "created", "last used", "revoked")
    for column in table.columns[:2]:
        column.no_wrap, column.overflow = True, "ignore"  # whole, to copy and paste
    for key in keys:
        table.add_row(
            str(key.id),
            key.name,
            key.prefix,
            " ".join(sorted(key.scopes)),
            f"{key.created_at:%Y-%m-%d %H:%M}",
            f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "",
            f"{key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "",
        )
    Console(width=max(console.width, 200)).print(table)


def _key_json(key: ApiKey) -> dict[str, object]:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": str(key.id),
        "name": key.name,
        "prefix": key.prefix,
        "scopes": sorted(key.scopes),
        "created_at": moment(key.created_at),
        "expires_at": moment(key.expires_at),
        "last_used_at": moment(key.last_used_at),
        "revoked_at": moment(key.revoked_at),
    }


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="The key's id or name.")]) -> None:
    """Revoke a key at once."""
    keyring = _keyring(_engine(), get_settings())
    found = keyring.find(key)
    if found is None:
        errors.print(f"[red]no key {key!r}[/red]")
        raise typer.Exit(1)
    keyring.revoke(found.id)
    console.print(f"revoked {found.name}")


def main() -> None:
    """The `labor-ledger` command."""
    run_explained(app, _database_url_as_set)


def _database_url_as_set() -> str:
    default = str(Settings.model_fields["database_url"].default)
    return os.environ.get("LEDGER_DATABASE_URL", default)


if __name__ == "__main__":
    main()
