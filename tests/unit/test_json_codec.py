"""JSON parsed and written as the standard library would, only faster."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.json_codec import dumps_text, loads

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**90), max_value=2**90)
    | st.floats(allow_nan=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(json_values)
def test_a_body_parses_to_what_json_loads_gives(value: Any) -> None:
    text = json.dumps(value).encode()

    parsed = loads(text)

    assert parsed == json.loads(text)
    assert json.dumps(parsed) == json.dumps(json.loads(text))  # ints stay ints
    # as text too, as SQLite hands a JSON column back
    assert json.dumps(loads(text.decode())) == json.dumps(parsed)


@pytest.mark.parametrize(
    "text", ['{"n": 1234567890123456789012}', '["1234567890123456789012", "\ud800"]']
)
def test_a_long_run_of_digits_in_text_means_what_json_loads_says(text: str) -> None:
    assert json.dumps(loads(text)) == json.dumps(json.loads(text))


@pytest.mark.parametrize(
    "text",
    [b"NaN", '{"a": 1}'.encode("utf-16"), b'{"a": [1, 2}', b'"\\ud800"', b"\xff"],
    ids=["nan", "utf-16", "broken", "lone-surrogate", "not-utf-8"],
)
def test_what_orjson_refuses_gets_json_loads_own_answer(text: bytes) -> None:
    try:
        expected: Any = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        with pytest.raises(type(error)):
            loads(text)
    else:
        assert json.dumps(loads(text)) == json.dumps(expected)


def test_text_from_the_database_parses_like_bytes_from_a_request() -> None:
    text = '{"n": 12345678901234567890123, "s": "ü"}'

    assert loads(text) == json.loads(text)
    assert isinstance(loads(text)["n"], int)


def test_integers_beyond_64_bits_are_written_not_refused() -> None:
    assert dumps_text({"n": 2**70}) == '{"n": 1180591620717411303424}'
    assert dumps_text({"n": 2**62}) == '{"n":4611686018427387904}'
