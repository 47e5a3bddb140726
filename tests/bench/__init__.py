"""Benchmarks, run on purpose (`python -m tests.bench.<name>`), never by pytest."""
