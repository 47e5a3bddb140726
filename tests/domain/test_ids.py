"""Event ids: UUIDv7, drawn a batch at a time, always increasing in one process."""

from __future__ import annotations

from uuid import UUID

from service.domain.ids import Uuid7Source

MS = 1_000_000  # nanoseconds


class Clock:
    def __init__(self, ms: int) -> None:
        self.ns = ms * MS

    def __call__(self) -> int:
        return self.ns


def millisecond_of(uid: UUID) -> int:
    return uid.int >> 80


def test_ids_are_rfc_version_7_and_carry_the_clocks_millisecond() -> None:
    clock = Clock(1_764_000_000_123)
    ids = Uuid7Source(clock_ns=clock).take(3)
    assert [(uid.version, uid.variant) for uid in ids] == [(7, "specified in RFC 4122")] * 3
    assert {millisecond_of(uid) for uid in ids} == {1_764_000_000_123}
    assert len(set(ids)) == 3


def test_ids_increase_within_a_millisecond_across_batches_and_when_the_clock_goes_back() -> None:
    clock = Clock(1_000)
    source = Uuid7Source(clock_ns=clock)
    made = source.take(500) + source.take(1)
    clock.ns = 999 * MS  # set back
    made += source.take(300)
    clock.ns = 1_005 * MS
    made += source.take(2)
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert millisecond_of(made[-1]) == 1_005


def test_more_ids_than_a_millisecond_holds_run_the_time_field_ahead_in_order() -> None:
    source = Uuid7Source(clock_ns=Clock(7))
    made = source.take(5000)  # the counter holds 4,096 per millisecond
    assert made == sorted(made)
    assert {millisecond_of(uid) for uid in made} == {7, 8}


def test_the_random_part_comes_from_one_draw_per_batch() -> None:
    draws: list[int] = []

    def entropy(size: int) -> bytes:
        draws.append(size)
        return bytes(range(size))

    ids = Uuid7Source(clock_ns=Clock(1), entropy=entropy).take(20)
    assert draws == [160]
    assert ids[0].int & ((1 << 62) - 1) == int.from_bytes(bytes(range(8))) & ((1 << 62) - 1)
