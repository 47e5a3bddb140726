# Labor Ledger: SQLite in the /data volume by default; set LEDGER_DATABASE_URL
# (postgresql+psycopg://…) to use PostgreSQL. Migrations are applied at start unless
# LEDGER_MIGRATE_ON_START=false (then run `python -m service.cli.commands migrate` as the
# tables' owner, and serve as a role granted by `grant-service-role`).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app \
    LEDGER_DATABASE_URL=sqlite:////data/ledger.db \
    LEDGER_HOST=0.0.0.0 \
    LEDGER_PORT=8000

RUN useradd --create-home --uid 10001 ledger && mkdir /data && chown ledger /data
WORKDIR /app

# The locked dependencies first, in their own layer: an edit of the code does not
# reinstall them.
COPY requirements/runtime.txt ./requirements/runtime.txt
RUN pip install --no-cache-dir -r requirements/runtime.txt

# Then the code itself, run from /app (not installed editable): the service finds its
# migrations beside it in /app/migrations.
COPY pyproject.toml README.md ./
COPY migrations ./migrations
COPY service ./service

USER ledger
VOLUME ["/data"]
EXPOSE 8000
# Ready (database answering, schema current, views warm) on the configured port.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"LEDGER_PORT\", \"8000\")}/readyz', timeout=4)"
CMD ["python", "-m", "service.cli.commands", "serve"]
