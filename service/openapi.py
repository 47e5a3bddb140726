"""Write or check the committed OpenAPI contract: `python -m service.openapi [--check]`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

CONTRACT = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def generated_document() -> str:
    from service.app import create_app
    from service.settings import Settings

    app = create_app(Settings(database_url="sqlite://", migrate_on_start=True))
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def main(argv: list[str]) -> int:
    document = generated_document()
    if "--check" in argv:
        if not CONTRACT.exists() or CONTRACT.read_text(encoding="utf-8") != document:
            print(
                "openapi/openapi.json differs from the app: run `make openapi` on purpose "
                "and say what changed for API users.",
                file=sys.stderr,
            )
            return 1
        print("openapi/openapi.json matches the app.")
        return 0
    CONTRACT.parent.mkdir(exist_ok=True)
    CONTRACT.write_text(document, encoding="utf-8")
    print(f"wrote {CONTRACT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
