"""Destination countries by storefront key: ISO 3166 code and the flag emoji shown to customers."""

from __future__ import annotations

# The storefront's country keys (reference digest §3.1); Schengen is shown with the EU flag.
ISO_CODES = {
    "india": "IN",
    "canada": "CA",
    "morocco": "MA",
    "new_zealand": "NZ",
    "vietnam": "VN",
    "usa": "US",
    "korea": "KR",
    "cambodia": "KH",
    "israel": "IL",
    "saudi_arabia": "SA",
    "bahrain": "BH",
    "indonesia": "ID",
    "uk": "GB",
    "sri_lanka": "LK",
    "togo": "TG",
    "thailand": "TH",
    "schengen": "EU",
}
# WhatsApp refuses an empty template parameter, so an unknown destination still gets a symbol.
UNKNOWN_FLAG = "\N{EARTH GLOBE EUROPE-AFRICA}"
_REGIONAL_A = 0x1F1E6


def flag(country: str) -> str:
    """The flag emoji of a storefront country key: two regional indicator letters."""
    code = ISO_CODES.get(country.strip().lower())
    if code is None:
        return UNKNOWN_FLAG
    return "".join(chr(_REGIONAL_A + ord(letter) - ord("A")) for letter in code)


def display_name(country: str) -> str:
    """An English fallback for a key with no translation: `new_zealand` -> `New Zealand`."""
    return country.replace("_", " ").strip().title() or "Unknown"
