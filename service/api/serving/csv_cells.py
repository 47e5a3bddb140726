"""CSV cells a spreadsheet will not run.

Excel, LibreOffice and Google Sheets read a cell that starts with `=`, `+`, `-` or `@`
as a formula (and a leading tab or carriage return can hide one): a reported name
such as `=HYPERLINK("http://…","click")` would become a live link, or worse, in a
journalist's spreadsheet. Such text is written with a leading `'`, which spreadsheets
take as "this is text" and do not show (OWASP's advice for CSV injection). Numbers
are written as they are: `-3` stays a number.
"""

from __future__ import annotations

from collections.abc import Mapping

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """The cell to write for `value`: text that a spreadsheet would run, made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(row: Mapping[str, object]) -> dict[str, object]:
    return {name: spreadsheet_safe(value) for name, value in row.items()}
