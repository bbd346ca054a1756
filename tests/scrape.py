"""Scraping /metrics in tests: the text exposition parsed by prometheus-client's own parser."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vizi-orders"
CREATE = (
    "mutation($p: JSON!) { createOrder(payload: $p) { ... on OrderAccepted { order { id } } } }"
)

Labels = tuple[tuple[str, str], ...]


class Samples(dict[tuple[str, Labels], float]):
    """Sample name and labels → value, of one scrape."""

    def get_value(self, name: str, **labels: str) -> float:
        """The sample's value; 0 when absent (a counter never incremented is not exposed)."""
        return self.get((name, tuple(sorted(labels.items()))), 0.0)

    def label_values(self, name: str, label: str) -> set[str]:
        return {dict(key)[label] for (sample, key) in self if sample == name and label in dict(key)}


def parse(text: str) -> Samples:
    samples = Samples()
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[s.name, tuple(sorted(s.labels.items()))] = s.value
    return samples


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return parse(response.text)


def order_body(fixture: str = "il-uk-eta.json") -> Any:
    """A storefront body with a fresh order id (same branch prefix as the fixture's)."""
    body = copy.deepcopy(json.loads((FIXTURES / fixture).read_text()))
    body["order"]["id"] = f"{body['order']['id'][:2]}{uuid.uuid4().hex[:10].upper()}"
    return body


async def create_order(client: httpx.AsyncClient, headers: dict[str, str], body: Any) -> str:
    response = await client.post(
        "/graphql", json={"query": CREATE, "variables": {"p": body}}, headers=headers
    )
    order_id: str = response.json()["data"]["createOrder"]["order"]["id"]
    return order_id
