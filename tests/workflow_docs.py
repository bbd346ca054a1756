"""Workflow definition documents for tests: a valid one, and a way to break one field."""

from __future__ import annotations

import copy
from typing import Any


def valid(**changes: Any) -> dict[str, Any]:
    """A definition using every step and trigger type; `changes` replace top-level fields."""
    doc: dict[str, Any] = {
        "name": "Order follow-up",
        "description": "Tell the team, mail the client, file a PDF",
        "enabled": True,
        "variables": {"team": "#ops"},
        "triggers": [
            {"type": "manual"},
            {"type": "webhook", "config": {"key": "follow-up"}},
            {"type": "cron", "config": {"schedule": "0 9 * * 1-5", "timezone": "Asia/Jerusalem"}},
        ],
        "steps": [
            {
                "id": "tell-team",
                "type": "slack.send",
                "config": {"channel": "#ops", "message": "Order {{order.id}} paid"},
            },
            {"id": "wait", "type": "delay", "config": {"seconds": 0}},
            {
                "id": "mail",
                "type": "email.send",
                "config": {"recipient": "{{order.email}}", "subject": "Hi", "body": "Thanks"},
                "retries": 2,
                "timeout": 10,
            },
            {
                "id": "whatsapp",
                "type": "whatsapp.send",
                "config": {"contact": "+972501234567", "template": "order_confirmation_global"},
            },
            {"id": "pdf", "type": "pdf.generate", "config": {"template": "<h1>{{order.id}}</h1>"}},
        ],
    }
    doc.update(changes)
    return doc


def with_value(path: list[Any], value: Any) -> dict[str, Any]:
    """`valid()` with the value at `path` replaced (or added); `...` as value deletes it."""
    doc = copy.deepcopy(valid())
    target: Any = doc
    for part in path[:-1]:
        target = target[part]
    if value is ...:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc
