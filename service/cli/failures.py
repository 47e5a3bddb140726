"""What the CLI says when it cannot work: one line and a hint (exit 2), never a traceback.

A missing ledger, a database that does not answer, a URL that is no URL, a setting out of
range: each is a mistake of where or how the command was run, which its user can fix
once told which. A bug still shows its traceback.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, ProgrammingError

from service.settings import Settings

EXIT_USAGE = 2
"""The exit status of a command run wrongly (as click gives for a bad option)."""


class NoLedgerHere(Exception):
    """The SQLite file the settings name does not exist: this is not where the ledger is."""

    def __init__(self, path: Path) -> None:
        super().__init__(
            f"no ledger at {path}",
            "run this in the folder where `labor-ledger serve` made ./data/, or set "
            "LEDGER_DATABASE_URL (`labor-ledger migrate` makes a new, empty ledger)",
        )


def require_ledger(settings: Settings) -> Settings:
    """`settings`, after checking that a SQLite ledger's file exists (opening a missing one
    would make an empty file, and the command then fails on the missing tables)."""
    path = settings.sqlite_path()
    if path is not None and not path.exists():
        raise NoLedgerHere(path.resolve())
    return settings


def _shown_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return repr(url)


def explain(failure: BaseException, database_url: Callable[[], str]) -> tuple[str, str] | None:
    """(what went wrong, what to do) for a failure a user can fix; None for a bug."""
    if isinstance(failure, NoLedgerHere):
        what, hint = failure.args
        return str(what), str(hint)
    if isinstance(failure, ValidationError):
        first = failure.errors()[0]
        name = "LEDGER_" + "_".join(str(part) for part in first["loc"]).upper()
        return f"{name}: {first['msg']}", "fix the setting (environment or .env)"
    if isinstance(failure, ArgumentError):
        return (
            f"LEDGER_DATABASE_URL {_shown_url(database_url())} is not a database URL",
            "e.g. sqlite:///./data/ledger.db or postgresql+psycopg://user@host:5432/db",
        )
    if isinstance(failure, OperationalError | ProgrammingError) and _no_table(failure):
        return (
            f"the database at {_shown_url(database_url())} holds no ledger tables",
            "run `labor-ledger migrate` first",
        )
    if isinstance(failure, OperationalError):
        reason = str(failure.orig).strip().splitlines()[0] if failure.orig else "no answer"
        return (
            f"cannot use the database at {_shown_url(database_url())}: {reason}",
            "is it running, and does LEDGER_DATABASE_URL name it?",
        )
    return None


def _no_table(failure: OperationalError | ProgrammingError) -> bool:
    said = str(failure.orig)
    return "no such table" in said or ("relation" in said and "does not exist" in said)


def run_explained(command: Callable[[], object], database_url: Callable[[], str]) -> None:
    """Run the CLI; a failure its user can fix is printed as one line and a hint."""
    try:
        command()
    except Exception as failure:
        explained = explain(failure, database_url)
        if explained is None:
            raise
        what, hint = explained
        errors = Console(stderr=True, soft_wrap=True)
        errors.print(f"[red]labor-ledger: {escape(what)}[/red]")
        errors.print(f"  hint: {escape(hint)}")
        raise SystemExit(EXIT_USAGE) from None
