"""Tell every service process that the log moved: PostgreSQL NOTIFY on commit.

The NOTIFY is sent by a trigger on `log_head` (migration 0005), inside the
transaction that moves the head, so PostgreSQL delivers it only when the append
commits (never for one that rolls back) and an append pays no statement of its
own for it. Its payload is the new head position. SQLite has no such channel;
processes there poll `log_head` instead (see `watch.py`).
"""

from __future__ import annotations

CHANNEL = "ledger_events"
