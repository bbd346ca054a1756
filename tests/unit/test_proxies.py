"""The client's address: X-Forwarded-For is read only from trusted proxies, from the right."""

from __future__ import annotations

import pytest

from rest.proxies import client_address, parse_networks
from visapi.settings import SettingsError, load_settings

PROXIES = parse_networks("10.0.0.0/8, 192.0.2.7, 2001:db8::/32")


def scope(peer: str | None, *forwarded: str) -> dict[str, object]:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"client": (peer, 4000) if peer else None, "headers": headers}


@pytest.mark.parametrize(
    ("peer", "forwarded", "client"),
    [
        # An untrusted peer's header is its own invention: ignored.
        ("203.0.113.9", ["198.51.100.1"], "203.0.113.9"),
        ("127.0.0.1", ["198.51.100.1"], "127.0.0.1"),  # loopback is not trusted by default
        # A trusted proxy appended the address it saw: the right-most one not ours.
        ("10.1.2.3", ["198.51.100.1"], "198.51.100.1"),
        ("10.1.2.3", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # left: the client's own
        ("10.1.2.3", ["198.51.100.1, 10.9.9.9"], "198.51.100.1"),  # two hops of ours
        ("10.1.2.3", ["6.6.6.6", "198.51.100.1, 192.0.2.7"], "198.51.100.1"),  # two headers
        ("192.0.2.7", ["198.51.100.1:5678"], "198.51.100.1"),
        ("2001:db8::1", ["[2001:db8:ffff::1]:443, 2a00::5"], "2a00::5"),
        ("2001:db8::1", ["2a00::5"], "2a00::5"),
        ("10.1.2.3", ["10.7.7.7, 10.8.8.8"], "10.7.7.7"),  # all ours: the left-most
        ("10.1.2.3", [], "10.1.2.3"),  # no header: the proxy itself called
        ("10.1.2.3", ["unknown"], "unknown"),  # RFC 7239's obfuscated client
        ("10.1.2.3", ["x" * 500], "x" * 64),  # bounded: it names a rate-limit bucket
        (None, ["198.51.100.1"], "unknown"),
    ],
)
def test_the_client_is_the_right_most_untrusted_address(
    peer: str | None, forwarded: list[str], client: str
) -> None:
    assert client_address(scope(peer, *forwarded), PROXIES) == client


def test_without_trusted_proxies_the_header_is_never_read() -> None:
    assert client_address(scope("10.1.2.3", "198.51.100.1"), ()) == "10.1.2.3"
    assert load_settings({}).trusted_proxies == ""


@pytest.mark.parametrize("bad", ["10.1.2.3/8", "10.0.0.0/33", "proxy.internal", "10.0.0.0/8,,x"])
def test_a_malformed_network_stops_the_start_naming_it(bad: str) -> None:
    with pytest.raises(SettingsError, match="VISAPI_TRUSTED_PROXIES") as raised:
        load_settings({"VISAPI_TRUSTED_PROXIES": bad})
    assert repr(bad.split(",")[-1]) in str(raised.value)
