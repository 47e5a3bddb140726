"""The hash chain's canonical JSON stays byte for byte the form the first events were
hashed with, so every chain already recorded still verifies."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from service.domain.chain import canonical_json
from tests.factories import dispatch_body

# What an event's JSON can hold: no floats (counts are integers, money and rates are
# decimal strings), any Unicode text, integers of any size.
event_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


def first_form(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@given(event_json)
def test_canonical_json_is_the_form_the_chain_was_started_with(value: Any) -> None:
    assert canonical_json(value) == first_form(value)


def test_control_characters_and_astral_text_are_written_the_same() -> None:
    text = "".join(chr(c) for c in range(0x20)) + '"\\\x7f\u2028\ufeff😀𝄞'
    value = {"ü": text, "a": [2**63 - 1, -(2**63)], "z": None}

    assert canonical_json(value) == first_form(value)


def test_integers_beyond_64_bits_are_still_written() -> None:
    assert canonical_json({"n": 2**80}) == b'{"n":1208925819614629174706176}'


def test_a_real_event_body_is_written_the_same() -> None:
    body = dispatch_body()

    assert canonical_json(body) == first_form(body)
