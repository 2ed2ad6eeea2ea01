"""Metadata values, filters and ``as_of`` by the documented spellings (README, "Typed values"):
what the command line and text filters accept, what they are read as, and what is refused
with a message saying what to write."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dc43_delta_store.core.values import (
    MAX_TABLE_VERSION,
    as_of_value,
    check_value,
    filter_value,
    from_text,
)

UTC = dt.UTC


@pytest.mark.parametrize(
    ("kind", "text", "expected"),
    [
        ("boolean", "true", True),
        ("boolean", "TRUE", True),
        ("boolean", "tRuE", True),
        ("boolean", "false", False),
        ("boolean", "False", False),
        ("long", "42", 42),
        ("long", "+7", 7),
        ("long", "-9223372036854775808", -(2**63)),
        ("long", "9223372036854775807", 2**63 - 1),
        ("double", "1.5", 1.5),
        ("double", "-.5", -0.5),
        ("double", "1e3", 1000.0),
        ("double", "2", 2.0),
        ("date", "2024-05-01", dt.date(2024, 5, 1)),
        ("timestamp", "2024-05-01T12:00:00Z", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("timestamp", "2024-05-01t12:00:00z", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("timestamp", "2024-05-01 12:00Z", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("timestamp", "2024-05-01T14:00:00+02:00", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
        (
            "timestamp",
            "2024-05-01T12:00:00.25-01:30",
            dt.datetime(2024, 5, 1, 13, 30, 0, 250000, tzinfo=UTC),
        ),
        ("string", "anything at all", "anything at all"),
        ("string", "", ""),
    ],
)
def test_documented_spellings_are_read_in_the_columns_type(
    kind: str, text: str, expected: Any
) -> None:
    value = from_text(kind, text)
    assert value == expected and type(value) is type(expected)  # timestamps: the same instant


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("boolean", "yes", "'yes' is not a boolean: write true or false"),
        ("boolean", "1", "'1' is not a boolean: write true or false"),
        ("boolean", "truee", "is not a boolean"),
        ("long", "1e3", "'1e3' is not a long: write a decimal integer such as 42"),
        ("long", "4.0", "is not a long"),
        ("long", "9223372036854775808", "9223372036854775808 is outside a long's range"),
        ("long", "-9223372036854775809", "is outside a long's range (-2**63 to 2**63-1)"),
        ("double", "1.5e", "'1.5e' is not a double: write a decimal number such as 1.5"),
        ("double", "inf", "is not a double"),
        ("double", "1e400", "inf is not a finite number"),
        ("date", "2024-5-1", "'2024-5-1' is not a date: write YYYY-MM-DD"),
        ("date", "2024-02-30", "'2024-02-30' is not a date: write YYYY-MM-DD"),
        ("date", "2024-05-01T00:00:00Z", "is not a date"),
        (
            "timestamp",
            "2024-05-01T12:00:00",
            "'2024-05-01T12:00:00' is not a timestamp: write RFC 3339 with a time zone, such as "
            "2024-05-01T12:00:00Z",
        ),
        ("timestamp", "2024-05-01", "is not a timestamp"),
        ("timestamp", "2024-13-01T12:00:00Z", "is not a timestamp"),
        ("string", "\ud800", "holds an unpaired surrogate at position 1"),
    ],
)
def test_other_spellings_are_refused_saying_what_to_write(
    kind: str, text: str, message: str
) -> None:
    with pytest.raises(ValueError) as caught:
        from_text(kind, text)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("boolean", True, True),
        ("boolean", False, False),
        ("long", 2**63 - 1, 2**63 - 1),
        ("long", -(2**63), -(2**63)),
        ("double", 3, 3.0),
        ("double", 2**53, float(2**53)),
        ("double", -(2**53), float(-(2**53))),
        ("date", dt.date(2024, 5, 1), dt.date(2024, 5, 1)),
        (
            "timestamp",
            dt.datetime(2024, 5, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            dt.datetime(2024, 5, 1, 12, tzinfo=UTC),
        ),
        ("string", "x", "x"),
    ],
)
def test_python_values_of_the_columns_type_are_taken(kind: str, value: Any, expected: Any) -> None:
    taken = check_value(kind, value)
    assert taken == expected and type(taken) is type(expected)
    if isinstance(taken, dt.datetime):
        assert taken.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("kind", "value", "message"),
    [
        ("boolean", 1, "got int 1"),
        ("boolean", "true", "got str 'true'"),
        ("long", True, "got bool True"),
        ("long", 1.0, "got float 1.0"),
        ("long", 2**63, "9223372036854775808 is outside a long's range"),
        ("double", True, "got bool True"),
        ("double", 2**53 + 1, "9007199254740993 cannot be held exactly by a double"),
        ("double", float("nan"), "nan is not a finite number"),
        ("date", dt.datetime(2024, 5, 1, tzinfo=UTC), "got datetime"),
        ("date", "2024-05-01", "got str"),
        ("timestamp", dt.datetime(2024, 5, 1), "2024-05-01T00:00:00 has no time zone"),
        ("timestamp", dt.date(2024, 5, 1), "got date"),
        ("string", 5, "got int 5"),
        ("long", 10**70, "a 71-character value is outside a long's range"),
        ("string", 10**59, "got int " + "1" + "0" * 59),
        ("string", 10**60, "got int a 61-character value"),
    ],
)
def test_values_of_another_type_are_refused(kind: str, value: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_value(kind, value)
    assert message in str(caught.value)


def test_filters_take_text_lists_sets_and_none() -> None:
    assert filter_value("long", None) is None
    assert filter_value("long", "5") == 5
    assert filter_value("boolean", "TRUE") is True
    assert filter_value("long", ["1", 2]) == [1, 2]
    assert filter_value("long", ("3",)) == [3]
    assert filter_value("long", {"2", "1", "3"}) == [1, 2, 3]  # a set: in order
    assert filter_value("date", ["2024-05-01"]) == [dt.date(2024, 5, 1)]
    assert filter_value("double", 2) == 2.0
    assert filter_value("string", ["b", "a"]) == ["b", "a"]  # a list: as given


@pytest.mark.parametrize(
    ("wanted", "message"),
    [
        ({"a": 1}, "a dict is not a filter value: give a value, a list of values or None"),
        (b"x", "a bytes is not a filter value"),
        (object(), "a object is not a filter value"),
        (["1", "x"], "'x' is not a long"),
        ([True], "got bool True"),
    ],
)
def test_filters_refuse_what_is_not_a_value(wanted: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        filter_value("long", wanted)
    assert message in str(caught.value)


def test_as_of_takes_table_versions_from_zero_to_the_largest() -> None:
    assert as_of_value(0) == 0
    assert as_of_value(17) == 17
    assert as_of_value(MAX_TABLE_VERSION) == MAX_TABLE_VERSION == 2**63 - 1
    for wrong in (-1, MAX_TABLE_VERSION + 1):
        with pytest.raises(ValueError, match=r"is not a table version \(0 or more\)"):
            as_of_value(wrong)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T12:00:00Z", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
        ("2024-05-01t12:00:00z", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
        (" 2024-05-01T14:00:00+02:00 ", dt.datetime(2024, 5, 1, 12, tzinfo=UTC)),
    ],
)
def test_as_of_times_with_an_offset(text: str, expected: dt.datetime) -> None:
    point = as_of_value(text)
    assert point == expected and point.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    "text", ["2024-05-01T12:00:00", "2024-05-01t12:00", "2024-05-01 12:00:00.5", "2024-05-01"]
)
def test_as_of_times_without_an_offset_are_local_time(text: str) -> None:
    local = dt.datetime.fromisoformat(text.upper().replace("T", " ")).astimezone()
    point = as_of_value(text)
    assert point == local and point.utcoffset() == dt.timedelta(0)
    naive = dt.datetime(2024, 5, 1, 12)
    assert as_of_value(naive) == naive.astimezone() and as_of_value(naive).tzinfo == UTC


@pytest.mark.parametrize(
    ("as_of", "message"),
    [
        (
            True,
            "as_of must be a table version (int) or a time (datetime or RFC 3339 text), not bool",
        ),
        (1.5, "not float"),
        (None, "not NoneType"),
        (
            "yesterday",
            "as_of='yesterday' is neither a table version nor an RFC 3339 time such as 2024-05-01T12:00:00Z",
        ),
        (
            "2024-05-01T25:00:00Z",
            "as_of='2024-05-01T25:00:00Z' is not a time (hour must be in 0..23)",
        ),
    ],
)
def test_as_of_refuses_anything_else(as_of: Any, message: str) -> None:
    with pytest.raises(ValueError) as caught:
        as_of_value(as_of)
    assert message in str(caught.value)


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_every_long_reads_back_from_its_text(number: int) -> None:
    assert from_text("long", str(number)) == number


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_every_finite_double_reads_back_from_its_text(number: float) -> None:
    assert from_text("double", repr(number)) == number


@given(st.datetimes(timezones=st.just(UTC)))
def test_every_utc_timestamp_reads_back_from_its_text(moment: dt.datetime) -> None:
    text = moment.isoformat().replace("+00:00", "Z")
    if moment.year < 1000:
        return  # RFC 3339 has four-digit years
    assert from_text("timestamp", text) == moment


class _NoOffset(dt.tzinfo):
    def utcoffset(self, moment: dt.datetime | None) -> dt.timedelta | None:
        return None


def test_a_time_zone_without_an_offset_is_no_time_zone() -> None:
    with pytest.raises(ValueError, match="has no time zone: give an aware datetime"):
        check_value("timestamp", dt.datetime(2024, 5, 1, tzinfo=_NoOffset()))


@pytest.fixture
def paris(monkeypatch: pytest.MonkeyPatch) -> Any:
    import time

    monkeypatch.setenv("TZ", "Europe/Paris")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_times_are_kept_in_utc_whatever_the_local_zone(paris: Any) -> None:
    # what a user sees in messages and in the change feed's values: UTC, not the machine's zone
    stamp = check_value(
        "timestamp", dt.datetime(2024, 5, 1, 14, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    )
    assert stamp.isoformat() == "2024-05-01T12:00:00+00:00"
    assert as_of_value("2024-05-01T12:00:00Z").isoformat() == "2024-05-01T12:00:00+00:00"
    assert as_of_value("2024-05-01T14:00:00").isoformat() == "2024-05-01T12:00:00+00:00"  # local
