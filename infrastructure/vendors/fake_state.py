"""State of the fake vendor server: contacts, messages, recorded requests and scripted answers.

Thread-safe: the server answers on its own loop while tests (other threads) read and script it.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

OPERATIONS = ("contact.get", "contact.create", "field.update", "message.send", "slack.send")
OUTCOMES = ("success", "success_false", "status", "rate_limit", "slow", "omit_id")

# CBB's custom fields as the reference registry numbers them (digest §3.4); tests add more
# through POST /_fake/fields. Creation names fields, updates give ids: the fake links both.
DEFAULT_FIELDS: dict[str, int] = {
    "customer_name": 779770,
    "visa_country": 877737,
    "visa_type": 527249,
    "OrderNumber": 459752,
    "visa_intent": 837162,
    "visa_entries": 863041,
    "visa_validity": 816014,
    "visa_flag": 824812,
    "Email": -12,
    "phone": -8,
    "visa_quantity": 949873,
    "order_days": 271948,
    "order_sum_ils": 358366,
    "stay_limit": 189039,
    "order_urgent": 763048,
    "wa_alerts": 662459,
    "order_date": 661549,
    "order_date_time": 100644,
    "visa_url": 592947,
    "visa_url_2": 905364,
    "order_priority": 470125,
}


class ScriptError(ValueError):
    """A control request the fake cannot follow; the message names the bad value."""


@dataclass
class Scripted:
    """One scripted answer, given `times` times (None: every time until reset)."""

    outcome: str
    times: int | None = 1
    status: int = 500
    retry_after: str = "1"
    delay_s: float = 0.0
    message: str = "scripted failure"

    @classmethod
    def parse(cls, data: Any) -> tuple[str, Scripted]:
        if not isinstance(data, dict):
            raise ScriptError("the script must be a JSON object")
        operation, outcome = data.get("operation"), data.get("outcome")
        if operation not in OPERATIONS:
            raise ScriptError(f"operation must be one of {', '.join(OPERATIONS)}")
        if outcome not in OUTCOMES:
            raise ScriptError(f"outcome must be one of {', '.join(OUTCOMES)}")
        times = data.get("times", 1)
        if times == "all":
            times = None
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ScriptError('times must be a positive integer, "all" or null')
        status = data.get("status", 500)
        if outcome == "status" and (not isinstance(status, int) or not 400 <= status <= 599):
            raise ScriptError("status must be an HTTP error status (400 to 599)")
        delay = data.get("delay", 1.0 if outcome == "slow" else 0.0)
        if not isinstance(delay, int | float) or delay < 0:
            raise ScriptError("delay must be a non-negative number of seconds")
        return operation, cls(
            outcome=outcome,
            times=times,
            status=status if outcome == "status" else 500,
            retry_after=str(data.get("retry_after", "1")),
            delay_s=float(delay),
            message=str(data.get("message", "scripted failure")),
        )


MAX_REQUESTS = 20_000


class FakeVendorState:
    def __init__(self, token: str) -> None:
        self.token = token
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._scripts: dict[str, deque[Scripted]] = {op: deque() for op in OPERATIONS}
            # The last MAX_REQUESTS only: a long bench's every request (headers and bodies) grew
            # the fake past 600 MB, and its collector's pauses stalled every caller.
            self._requests: deque[dict[str, Any]] = deque(maxlen=MAX_REQUESTS)
            self._contacts: dict[str, dict[str, Any]] = {}
            # The same contacts by id: a scan per lookup made each call slower than the last
            # (a 30,000-order pipeline bench spent more time in the fake than in our workers).
            self._by_id: dict[str, dict[str, Any]] = {}
            self._messages: list[dict[str, Any]] = []
            self._fields = dict(DEFAULT_FIELDS)
            self._next_id = 1_000_001

    # Scripts

    def script(self, operation: str, entry: Scripted) -> None:
        with self._lock:
            self._scripts[operation].append(entry)

    def take(self, operation: str) -> Scripted | None:
        """The scripted answer due now, if any; counted down and dropped when used up."""
        with self._lock:
            queue = self._scripts[operation]
            if not queue:
                return None
            entry = queue[0]
            if entry.times is not None:
                entry.times -= 1
                if entry.times == 0:
                    queue.popleft()
            return entry

    # Requests

    def record(self, request: dict[str, Any]) -> dict[str, Any]:
        request["at"] = datetime.now(UTC).isoformat()
        with self._lock:
            self._requests.append(request)
        return request

    def requests(self, operation: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._requests if operation in (None, r["operation"])]

    # Custom fields

    def add_fields(self, fields: dict[str, int]) -> None:
        with self._lock:
            self._fields.update(fields)

    def field_id(self, name: str) -> int | None:
        with self._lock:
            return self._fields.get(name)

    def field_name(self, field_id: int) -> str | None:
        with self._lock:
            return next((n for n, i in self._fields.items() if i == field_id), None)

    # Contacts and messages

    def find(self, ref: str) -> dict[str, Any] | None:
        """A contact by phone or by id, copied."""
        with self._lock:
            found = self._contacts.get(ref) or self._by_id.get(ref)
            return _copy(found) if found else None

    def create(self, basic: dict[str, Any], fields: dict[str, str]) -> dict[str, Any]:
        """Create the contact, or (a concurrent creation) set fields on the one there."""
        with self._lock:
            contact = self._contacts.get(basic["phone"])
            if contact is None:
                contact = {**basic, "id": self._next_id, "custom_fields": {}}
                self._next_id += 1
                self._contacts[basic["phone"]] = contact
                self._by_id[str(contact["id"])] = contact
            contact["custom_fields"].update(fields)
            return _copy(contact)

    def set_field(self, contact_id: int, name: str, value: str) -> None:
        with self._lock:
            contact = self._by_id.get(str(contact_id))
            if contact is not None:
                contact["custom_fields"][name] = value

    def contacts(self) -> list[dict[str, Any]]:
        with self._lock:
            return [_copy(c) for c in self._contacts.values()]

    def add_message(self, message: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            message = {**message, "id": f"wamid.fake-{len(self._messages) + 1}"}
            message["at"] = datetime.now(UTC).isoformat()
            self._messages.append(message)
            return dict(message)

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(m) for m in self._messages]

    def scripts(self) -> dict[str, list[dict[str, Any]]]:
        with self._lock:
            return {op: [asdict(s) for s in q] for op, q in self._scripts.items() if q}


def _copy(contact: dict[str, Any]) -> dict[str, Any]:
    return {**contact, "custom_fields": dict(contact["custom_fields"])}
