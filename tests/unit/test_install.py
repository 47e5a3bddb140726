"""How the service is installed (issue 16): from lock files, the dependencies in their own
Docker layer, the code not installed editable, health checked on the configured port."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pinned(lock: str) -> dict[str, str]:
    lines = (ROOT / "requirements" / lock).read_text().splitlines()
    found = (re.match(r"^([A-Za-z0-9_.-]+)==(\S+)", line) for line in lines)
    return {_normal(m[1]): m[2] for m in found if m}


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def names(requirements: list[str]) -> set[str]:
    return {_normal(re.split(r"[\s\[<>=!~;]", r, maxsplit=1)[0]) for r in requirements}


def test_the_lock_files_pin_every_dependency_of_pyproject_alike() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime, dev = pinned("runtime.txt"), pinned("dev.txt")
    assert names(project["dependencies"]) <= runtime.keys(), "run `make lock`"
    assert names(project["optional-dependencies"]["dev"]) <= dev.keys(), "run `make lock`"
    # a package both need is the same version in both
    assert {n: v for n, v in dev.items() if n in runtime} == runtime


def test_make_run_installs_the_runtime_lock_only() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^run: install$", makefile, re.M)
    install = makefile.split("$(STAMP): ", 1)[1].split("\n\n", 1)[0]
    assert "-r requirements/runtime.txt" in install and "dev" not in install


def test_the_image_installs_locked_dependencies_before_the_code_and_checks_readiness() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    steps = [line for line in dockerfile.splitlines() if line.startswith(("COPY", "RUN pip"))]
    lock_install = steps.index("RUN pip install --no-cache-dir -r requirements/runtime.txt")
    code = next(i for i, step in enumerate(steps) if step.startswith("COPY service"))
    assert lock_install < code
    assert not any(" -e " in step for step in steps)
    healthcheck = dockerfile.split("HEALTHCHECK", 1)[1].split("\nCMD", 1)[0]
    assert "/readyz" in healthcheck and "LEDGER_PORT" in healthcheck
