"""The commands that move the log in and out: push, export, restore, deliver.

Registered on the `labor-ledger` app by `service/cli.py`.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from service.cli.failures import require_ledger
from service.cli.pusher import DEFAULT_BATCH, Pusher, PushStopped, read_bodies
from service.db.engine import make_engine, without_statement_timeout
from service.domain.events import MAX_BATCH
from service.follow.delivery import DeliveryPolicy, DeliveryWorker
from service.ingest.importing import IdenticalLine, LineWarning, first_copies
from service.ledger import build_ledger
from service.log.export import export_lines
from service.log.restore import RestoreRefused, restore
from service.log.verify import verify_chain
from service.settings import get_settings

console = Console()
errors = Console(stderr=True, soft_wrap=True)  # one line each, to copy and paste


class EventsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(
            f"{speed:,.0f} events/s" if speed else "… events/s", style="progress.data.speed"
        )


def _progress() -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        EventsPerSecond(),
        TimeElapsedColumn(),
        console=errors,
    )


def print_notice(notice: LineWarning | IdenticalLine) -> None:
    """A note about a line of the file, on standard error: a warning the ledger gave
    (the line is recorded), or a line identical to an earlier one (sent once)."""
    errors.print(f"[yellow]{escape(str(notice))}[/yellow]")


def push(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
    url: Annotated[
        str, typer.Option(envvar="LEDGER_URL", help="The ledger, e.g. https://ledger.example.org")
    ],
    key: Annotated[str, typer.Option(envvar="LEDGER_API_KEY", help="An events:write API key.")],
    batch: Annotated[int, typer.Option(min=1, max=MAX_BATCH)] = DEFAULT_BATCH,
) -> None:
    """Send a JSON Lines file of event bodies to a running ledger, in batches.

    Safe to run again after a dropped connection: batches the ledger already has
    are not appended twice. Stops at the first line the ledger refuses.

    Every warning the ledger gives is printed with its line ("line 12: possible
    duplicate of <event id> ..."): the event is recorded; if it repeats that fact,
    correct or retract it. A line identical to an earlier one (the same JSON object)
    is sent once and reported ("line 14 is identical to line 3: sent once").
    """
    try:
        lines, identical = first_copies(read_bodies(file))
        for repeat in identical:
            print_notice(repeat)
        with _progress() as progress:
            task = progress.add_task("pushing", total=len(lines))
            result = Pusher(url, key, batch_size=batch).push(
                lines, lambda n: progress.advance(task, n), print_notice
            )
    except PushStopped as stopped:
        errors.print(f"[red]push stopped at {file}:{stopped.line}: {escape(stopped.message)}[/red]")
        errors.print(
            f"lines before {stopped.first_unrecorded} are in the ledger; "
            "fix the line and push the same file again: nothing is appended twice"
        )
        raise typer.Exit(1) from None
    console.print(
        f"pushed {result.appended} events; {result.already_recorded} were in the ledger already"
        + (f"; identical lines sent once: {len(identical)}" if identical else "")
    )


def export(
    after: Annotated[int, typer.Option(min=0, help="Only the events after this position.")] = 0,
) -> None:
    """Write the log to standard output as JSON Lines: `labor-ledger export > log.jsonl`.

    Each event in its whole envelope, in position order; `restore` loads it back."""
    engine = make_engine(without_statement_timeout(require_ledger(get_settings())))
    out = sys.stdout
    for line in export_lines(engine, after):
        out.write(line)
        out.write("\n")
    out.flush()


def restore_command(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, readable=True)],
) -> None:
    """Load an export into an EMPTY ledger, verbatim, and rebuild every view from it.

    The same positions, ids, hashes, times and authors. The hash chain is checked
    link by link; a broken chain or a non-empty ledger is refused, nothing written."""
    ledger = build_ledger(without_statement_timeout(require_ledger(get_settings())))
    with file.open(encoding="utf-8") as counting:
        total = sum(1 for line in counting if line.strip())
    if total == 0:
        errors.print(f"[red]{file} holds no events: nothing to restore[/red]")
        raise typer.Exit(2)
    try:
        with file.open(encoding="utf-8") as lines, _progress() as progress:
            task = progress.add_task("restoring", total=total)
            count = restore(ledger.store, lines, progress=lambda n: progress.advance(task, n))
    except RestoreRefused as refused:
        errors.print(f"[red]restore refused: {escape(str(refused))}[/red]")
        raise typer.Exit(1) from None
    with ledger.engine.connect() as conn:
        report = verify_chain(conn)
    if not report.ok:
        errors.print(f"[red]restored, but the chain does not verify: {report.reason}[/red]")
        raise typer.Exit(1)
    console.print(f"restored {count} events; hash chain verified")


def deliver(
    once: Annotated[
        bool, typer.Option("--once", help="Deliver what is due now, then exit.")
    ] = False,
) -> None:
    """Run a webhook delivery worker until Ctrl-C or SIGTERM.

    Run as many as you like, wherever the database is reachable; set
    LEDGER_DELIVER_WEBHOOKS=false on the service to leave delivery to them."""
    settings = get_settings()
    worker = DeliveryWorker(make_engine(settings), DeliveryPolicy.of(settings))
    try:
        if once:
            console.print(f"{worker.run_pending()} delivery attempts made")
            return
        stop = threading.Event()

        def stop_on_signal(_signal: int, _frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, stop_on_signal)
        signal.signal(signal.SIGINT, stop_on_signal)
        console.print("delivering webhooks; Ctrl-C to stop")
        worker.run(stop)
    finally:
        worker.close()


def register(app: typer.Typer) -> None:
    app.command()(push)
    app.command()(export)
    app.command("restore")(restore_command)
    app.command()(deliver)
