"""The service on a database reached through the proxy, and the test's own direct view
of that database: what each fault test starts from."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from service.db.engine import make_engine
from service.log.tables import EVENTS
from service.settings import Settings
from tests.faults.proxy import FaultyProxy


def proxy_to(database_url: str) -> FaultyProxy:
    url = make_url(database_url)
    return FaultyProxy((url.host or "127.0.0.1", url.port or 5432))


def settings_through(proxy: FaultyProxy, database_url: str, **chosen: Any) -> Settings:
    """The service's settings with its database reached through `proxy`; the key cache
    long, so that a fault does not first show as a key that cannot be checked."""
    url = make_url(database_url).set(port=proxy.port)
    return Settings(
        **{
            "migrate_on_start": False,
            "load_seed": False,
            "bootstrap_admin": False,
            "secret_key": "test-secret",
            "key_cache_seconds": 600,
            "warm_views_on_start": False,
            "deliver_webhooks": False,
            **chosen,
        },
        database_url=url.render_as_string(hide_password=False),
    )


def direct_engine(database_url: str) -> Engine:
    """The same database, not through the proxy: what is really in it."""
    return make_engine(Settings(database_url=database_url, secret_key="test-secret"))


def logged(direct: Engine) -> int:
    """Events really in the log, read past the proxy."""
    with direct.connect() as conn:
        count: int = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
    return count
