# Labor Ledger: SQLite in the /data volume by default; set LEDGER_DATABASE_URL
# (postgresql+psycopg://…) to use PostgreSQL. Migrations are applied at start.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LEDGER_DATABASE_URL=sqlite:////data/ledger.db \
    LEDGER_HOST=0.0.0.0 \
    LEDGER_PORT=8000

RUN useradd --create-home --uid 10001 ledger && mkdir /data && chown ledger /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY service ./service
COPY migrations ./migrations
RUN pip install --no-cache-dir -e .

USER ledger
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["labor-ledger", "serve"]
