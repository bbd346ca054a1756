"""The log filter checks shared by GraphQL and the export: each refusal names its argument."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from app.errors import InvalidInput
from app.logs.filters import MAX_CORRELATION_ID, MAX_JOB_ID, MAX_TEXT, checked
from app.logs.ports import LogFilter, LogLevel

AT = datetime(2026, 3, 1, 12, tzinfo=UTC)


def refusal(f: LogFilter, **kw: dict[str, str]) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        checked(f, **kw)
    return caught.value


def test_an_empty_filter_passes_as_it_is() -> None:
    assert checked(LogFilter()) == LogFilter()


def test_ids_are_trimmed_and_the_rest_kept() -> None:
    workflow = uuid.uuid4()
    given = LogFilter(
        level=LogLevel.WARN,
        workflow_id=workflow,
        job_id=" msg-1 ",
        correlation_id="\tcid:9\n",
        from_=AT,
        to=AT + timedelta(hours=1),
        text=" paid ",
    )
    assert checked(given) == LogFilter(
        level=LogLevel.WARN,
        workflow_id=workflow,
        job_id="msg-1",
        correlation_id="cid:9",
        from_=AT,
        to=AT + timedelta(hours=1),
        text=" paid ",  # the search text is matched as given
    )


@pytest.mark.parametrize("text", ["", "   "])
def test_blank_text_is_refused(text: str) -> None:
    error = refusal(LogFilter(text=text))
    assert (error.field, error.message) == ("text", "text must not be blank")


def test_text_at_the_limit_passes_and_one_more_is_refused() -> None:
    assert checked(LogFilter(text="t" * MAX_TEXT)).text == "t" * MAX_TEXT
    assert refusal(LogFilter(text="t" * (MAX_TEXT + 1))).message == (
        "text must be at most 200 characters"
    )


@pytest.mark.parametrize("to", [AT, AT - timedelta(seconds=1)])
def test_a_window_that_ends_before_it_starts_is_refused(to: datetime) -> None:
    error = refusal(LogFilter(from_=AT, to=to))
    assert (error.field, error.message) == ("to", "to must be later than from")


def test_a_window_open_on_one_side_passes() -> None:
    assert checked(LogFilter(to=AT)).to == AT


@pytest.mark.parametrize(
    ("given", "field"),
    [
        (LogFilter(job_id=""), "jobId"),
        (LogFilter(job_id="j" * (MAX_JOB_ID + 1)), "jobId"),
        (LogFilter(job_id="a/b"), "jobId"),
        (LogFilter(correlation_id="c" * (MAX_CORRELATION_ID + 1)), "correlationId"),
        (LogFilter(correlation_id="x y"), "correlationId"),
        (LogFilter(correlation_id="é"), "correlationId"),
    ],
)
def test_ids_outside_their_alphabet_or_length_name_their_argument(
    given: LogFilter, field: str
) -> None:
    error = refusal(given)
    assert error.field == field
    assert error.message.startswith(f"{field} must be 1 to ")


def test_ids_at_their_length_limit_pass() -> None:
    given = LogFilter(job_id="j" * MAX_JOB_ID, correlation_id="c" * MAX_CORRELATION_ID)
    assert checked(given) == given


def test_the_export_names_arguments_its_own_way() -> None:
    names = {"job_id": "job", "to": "until", "text": "q"}
    assert refusal(LogFilter(job_id="a b"), names=names).field == "job"
    assert refusal(LogFilter(from_=AT, to=AT), names=names).message == (
        "until must be later than from"
    )
    assert refusal(LogFilter(text=" "), names=names).field == "q"
