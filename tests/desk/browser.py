"""A real headless Chromium (Debian's `chromium`, driven by Playwright for Python) on a
real uvicorn serving a seeded ledger: the desk as a reader's browser gets it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
SERIOUS = {"serious", "critical"}


@dataclass
class Screenshots:
    """One folder per test run, made when the first screenshot is taken."""

    folder: Path | None = None

    def path(self, name: str) -> Path:
        if self.folder is None:
            self.folder = Path(tempfile.mkdtemp(prefix="desk-screenshots-"))
        return self.folder / f"{name}.png"


SCREENSHOTS = Screenshots()


def need_chromium() -> None:
    """In CI a missing browser fails the run (.ci/run installs it); on a workstation
    without it the browser tests are skipped, saying how to get it."""
    if CHROMIUM.exists():
        return
    message = "Debian's chromium is missing: apt-get install -y chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass
class Visit:
    """Every request a page made, kept to check that none left the service."""

    requests: list[str] = field(default_factory=list)


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical findings on the page as it stands."""
    page.add_script_tag(path=str(AXE))
    found: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    return [v for v in found["violations"] if v.get("impact") in SERIOUS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(str(n.get("target")) for n in v.get("nodes", [])[:3])
        for v in violations
    )


def playwright_browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM))
        try:
            yield browser
        finally:
            browser.close()
