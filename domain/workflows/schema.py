"""The JSON Schema (Draft 2020-12) of a workflow definition: shapes, types, ranges, patterns.

What a schema cannot say well (unique ids, cron syntax, time zones, phone and email formats
that may also be placeholders) is checked by `domain.workflows.rules`.
"""

from __future__ import annotations

from typing import Any

STEP_TYPES = ("whatsapp.send", "slack.send", "email.send", "pdf.generate", "delay")
TRIGGER_TYPES = ("webhook", "cron", "manual")
DEFAULT_RETRIES = 3
DEFAULT_TIMEOUT_S = 30
KEY_PATTERN = "^[a-zA-Z0-9_-]{1,64}$"
STEP_ID_PATTERN = "^[a-zA-Z0-9_-]+$"

_TEXT = {"type": "string", "minLength": 1}


def _config(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """The `config` of one step or trigger type; other keys are kept (templates may use them)."""
    return {"type": "object", "required": required, "properties": properties}


def _when(kind: str, config: dict[str, Any]) -> dict[str, Any]:
    return {
        "if": {"properties": {"type": {"const": kind}}, "required": ["type"]},
        "then": {"required": ["config"], "properties": {"config": config}},
    }


_STEP_CONFIGS = [
    _when(
        "whatsapp.send",
        _config(
            ["contact", "template"],
            {
                "contact": _TEXT,
                "template": {**_TEXT, "maxLength": 128},
                "language": {"type": "string", "minLength": 2, "maxLength": 8},
                "params": {"type": "array", "maxItems": 20, "items": {"type": "string"}},
            },
        ),
    ),
    _when(
        "slack.send",
        _config(
            ["channel", "message"], {"channel": _TEXT, "message": {**_TEXT, "maxLength": 4000}}
        ),
    ),
    _when(
        "email.send",
        _config(
            ["recipient", "subject", "body"],
            {
                "recipient": _TEXT,
                "subject": {**_TEXT, "maxLength": 200},
                "body": {"type": "string", "maxLength": 100_000},
            },
        ),
    ),
    _when(
        "pdf.generate",
        _config(
            ["template"],
            {
                "template": {**_TEXT, "maxLength": 200_000},
                "filename": {"type": "string", "pattern": "^[A-Za-z0-9_.{} -]{1,100}$"},
            },
        ),
    ),
    _when(
        "delay", _config(["seconds"], {"seconds": {"type": "number", "minimum": 0, "maximum": 300}})
    ),
]

_TRIGGER_CONFIGS = [
    _when("webhook", _config(["key"], {"key": {"type": "string", "pattern": KEY_PATTERN}})),
    _when(
        "cron",
        _config(
            ["schedule"],
            {"schedule": {**_TEXT, "maxLength": 100}, "timezone": {**_TEXT, "maxLength": 64}},
        ),
    ),
]

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["name", "triggers", "steps"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 100},
        "description": {"type": "string", "maxLength": 500},
        "enabled": {"type": "boolean"},
        "variables": {"type": "object"},
        "triggers": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10,
            "items": {"$ref": "#/$defs/trigger"},
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {"$ref": "#/$defs/step"},
        },
    },
    "$defs": {
        "trigger": {
            "type": "object",
            "required": ["type"],
            "additionalProperties": False,
            "properties": {"type": {"enum": list(TRIGGER_TYPES)}, "config": {"type": "object"}},
            "allOf": _TRIGGER_CONFIGS,
        },
        "step": {
            "type": "object",
            "required": ["id", "type"],
            "additionalProperties": False,
            "properties": {
                "id": {
                    "type": "string",
                    "pattern": STEP_ID_PATTERN,
                    "minLength": 1,
                    "maxLength": 50,
                },
                "type": {"enum": list(STEP_TYPES)},
                "config": {"type": "object"},
                "retries": {"type": "integer", "minimum": 0, "maximum": 10},
                "timeout": {"type": "integer", "minimum": 1, "maximum": 300},
            },
            "allOf": _STEP_CONFIGS,
        },
    },
}
