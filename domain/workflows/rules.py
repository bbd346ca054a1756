"""Validation of a workflow definition: the JSON Schema, then the business rules; every error
is reported (not only the first) with the JSONPath of the value at fault."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from croniter import croniter
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from domain.errors import DomainError
from domain.workflows.model import Definition, definition_from
from domain.workflows.render import has_placeholder, malformed_placeholder
from domain.workflows.schema import DEFAULT_TIMEOUT_S, SCHEMA

_VALIDATOR = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]{2,}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_JSON_TYPES = {"object": "an object", "array": "a list", "string": "a string"}


@dataclass(frozen=True)
class Issue:
    """One error: `path` is a JSONPath such as `$.steps[2].config.channel`."""

    path: str
    message: str


class InvalidDefinition(DomainError):
    def __init__(self, issues: list[Issue]) -> None:
        first = issues[0]
        more = f" (and {len(issues) - 1} more)" if len(issues) > 1 else ""
        super().__init__(f"{first.path}: {first.message}{more}", field=first.path)
        self.issues = issues


def check(raw: Any) -> list[Issue]:
    """Every problem of `raw`, schema errors first, each once; empty when it is valid."""
    issues = [_schema_issue(e) for e in _VALIDATOR.iter_errors(raw)]
    issues.sort(key=lambda i: i.path)
    if isinstance(raw, Mapping):
        issues += list(_rules(raw))
    return list(dict.fromkeys(issues))


def parse(raw: Any) -> Definition:
    """The Definition of `raw`, or InvalidDefinition listing every issue."""
    issues = check(raw)
    if issues:
        raise InvalidDefinition(issues)
    return definition_from(raw)


def _schema_issue(error: ValidationError) -> Issue:
    path, kind, value = error.json_path, error.validator, error.validator_value
    if kind == "required":
        missing = re.match(r"'(.+)' is a required property", error.message)
        name = missing.group(1) if missing else "?"
        return Issue(f"{path}.{name}", "is required")
    if kind == "additionalProperties" and isinstance(error.instance, Mapping):
        known = set(error.schema.get("properties", {}))
        extra = sorted(str(k) for k in error.instance if k not in known)
        return Issue(f"{path}.{extra[0]}" if extra else path, "is not a known field")
    messages = {
        "type": lambda: f"must be {_JSON_TYPES.get(str(value), f'a {value}')}",
        "minLength": lambda: "must not be empty" if value == 1 else f"needs {value}+ characters",
        "maxLength": lambda: f"must be at most {value} characters",
        "minItems": lambda: f"needs at least {value} item(s)",
        "maxItems": lambda: f"must have at most {value} items",
        "minimum": lambda: f"must be at least {value}",
        "maximum": lambda: f"must be at most {value}",
        "pattern": lambda: f"must match {value}",
        "enum": lambda: "must be one of " + ", ".join(str(v) for v in value),
    }
    make = messages.get(str(kind))
    return Issue(path, make() if make else error.message[:200])


def _items(raw: Mapping[str, Any], name: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    items = raw.get(name)
    if isinstance(items, list):
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                yield i, item


def _rules(raw: Mapping[str, Any]) -> Iterator[Issue]:
    yield from _trigger_rules(raw)
    yield from _step_rules(raw)


def _trigger_rules(raw: Mapping[str, Any]) -> Iterator[Issue]:
    seen: dict[tuple[str, ...], int] = {}
    for i, trigger in _items(raw, "triggers"):
        raw_config = trigger.get("config")
        config: Mapping[str, Any] = raw_config if isinstance(raw_config, Mapping) else {}
        kind, at = trigger.get("type"), f"$.triggers[{i}]"
        if kind in ("webhook", "cron"):
            # As text: the schema check reports a list or object here, this must not crash on it.
            parts = (config.get("key"), config.get("schedule"), config.get("timezone"))
            identity = (kind, *(str(p) for p in parts))
            if identity in seen:
                what = "key" if kind == "webhook" else "schedule"
                yield Issue(f"{at}.config.{what}", f"duplicates $.triggers[{seen[identity]}]")
            seen.setdefault(identity, i)
        if kind != "cron":
            continue
        schedule, zone = config.get("schedule"), config.get("timezone")
        if isinstance(schedule, str) and not _valid_cron(schedule):
            yield Issue(
                f"{at}.config.schedule",
                f"{schedule[:100]!r} is not a 5-field cron expression"
                " (minute 0-59, hour 0-23, day 1-31, month 1-12, weekday 0-7)",
            )
        if isinstance(zone, str) and not _valid_zone(zone):
            yield Issue(f"{at}.config.timezone", f"{zone[:64]!r} is not an IANA time zone")


def _step_rules(raw: Mapping[str, Any]) -> Iterator[Issue]:
    ids: dict[str, int] = {}
    for i, step in _items(raw, "steps"):
        at = f"$.steps[{i}]"
        step_id = step.get("id")
        if isinstance(step_id, str):
            if step_id in ids:
                yield Issue(
                    f"{at}.id", f"duplicate step id {step_id!r} (see $.steps[{ids[step_id]}])"
                )
            ids.setdefault(step_id, i)
        config = step.get("config")
        if isinstance(config, Mapping):
            yield from _config_rules(step, config, at)


def _config_rules(step: Mapping[str, Any], config: Mapping[str, Any], at: str) -> Iterator[Issue]:
    kind = step.get("type")
    contact, channel, recipient = (
        config.get("contact"),
        config.get("channel"),
        config.get("recipient"),
    )
    if kind == "whatsapp.send" and _fixed(contact) and not valid_phone(contact):
        yield Issue(f"{at}.config.contact", "must be an E.164 phone number such as +972501234567")
    if kind == "slack.send" and _fixed(channel) and not channel.startswith(("#", "@")):
        yield Issue(f"{at}.config.channel", "must start with # (a channel) or @ (a person)")
    if kind == "email.send" and _fixed(recipient) and not valid_email(recipient):
        yield Issue(f"{at}.config.recipient", "must be an email address")
    seconds, timeout = config.get("seconds"), step.get("timeout", DEFAULT_TIMEOUT_S)
    if (
        kind == "delay"
        and isinstance(seconds, int | float)
        and isinstance(timeout, int)
        and seconds >= timeout
    ):
        yield Issue(
            f"{at}.config.seconds", f"must be shorter than the step's timeout ({timeout} s)"
        )
    for name, value in config.items():
        if isinstance(value, str) and (bad := malformed_placeholder(value)):
            yield Issue(f"{at}.config.{name}", f"malformed placeholder {bad!r}; use {{{{a.b}}}}")


def _fixed(value: Any) -> TypeGuard[str]:
    """A string without placeholders: checkable now (others are checked once rendered)."""
    return isinstance(value, str) and not has_placeholder(value)


def valid_phone(value: str) -> bool:
    if not _E164.match(value):
        return False
    try:
        # Possible, not "valid": number plans change faster than the library's metadata.
        return bool(phonenumbers.is_possible_number(phonenumbers.parse(value, None)))
    except phonenumbers.NumberParseException:
        return False


def valid_email(value: str) -> bool:
    return len(value) <= 254 and _EMAIL.match(value) is not None


def _valid_cron(expression: str) -> bool:
    return len(expression.split()) == 5 and bool(croniter.is_valid(expression))


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True
