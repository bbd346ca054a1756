"""Process log lines: one JSON object each, with the correlation id and job id of the task."""

from __future__ import annotations

import io
import json
import logging
import uuid

from app import context
from visapi.logging import CorrelationIdFilter, JsonFormatter


def line_of(emit: object = None, **extra: object) -> dict[str, object]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(CorrelationIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("visapi.test.json")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        try:
            raise ValueError("boom\nsecond line")
        except ValueError:
            logger.error("job %s failed", "sync_contact", exc_info=True, extra=extra)
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    [line] = stream.getvalue().splitlines()  # the traceback stays inside the one line
    parsed: dict[str, object] = json.loads(line)
    return parsed


def test_a_line_outside_any_request() -> None:
    line = line_of()
    assert line["message"] == "job sync_contact failed"
    assert (line["level"], line["logger"]) == ("ERROR", "visapi.test.json")
    assert line["correlation_id"] is None
    assert "job_id" not in line
    assert "ValueError: boom" in str(line["exc"])
    assert str(line["ts"]).endswith("Z")


def test_a_line_inside_a_job_carries_both_ids_and_extras() -> None:
    order = uuid.uuid4()
    cid, job = context.correlation_id.set("cid-json"), context.job_id.set("msg-7")
    try:
        line = line_of(order_uuid=order)
    finally:
        context.correlation_id.reset(cid)
        context.job_id.reset(job)
    assert (line["correlation_id"], line["job_id"]) == ("cid-json", "msg-7")
    assert line["order_uuid"] == str(order)
