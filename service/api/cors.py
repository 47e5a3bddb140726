"""Cross-origin access: browser apps on other sites read the public API, and write to it
with a key.

Keys travel as bearer tokens (`Authorization`), never as cookies, so no request carries
credentials a browser would add by itself: `*` is safe as the default origin list, and
credentials stay off.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware.cors import CORSMiddleware

ALLOWED_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-None-Match",
    "Last-Event-ID",
    "X-Request-ID",
)
EXPOSED_HEADERS = (
    "ETag",
    "Link",
    "Location",
    "Content-Disposition",
    "Idempotent-Replayed",
    "Retry-After",
    "X-Request-ID",
    "RateLimit",
    "RateLimit-Policy",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)
"""What a script on another origin may read of an answer: without this list, a browser
shows it only the few "safelisted" headers, not the ETag to revalidate with, the `next`
page's Link, a recorded event's Location or how long to wait after a 429/503."""
PREFLIGHT_CACHE_SECONDS = 3600


def allow_cross_origin(app: FastAPI, origins: list[str]) -> None:
    app.add_middleware(
        CORSMiddleware,
        allow_origins=origins,
        allow_methods=ALLOWED_METHODS,
        allow_headers=ALLOWED_HEADERS,
        allow_credentials=False,
        expose_headers=EXPOSED_HEADERS,
        max_age=PREFLIGHT_CACHE_SECONDS,
    )
