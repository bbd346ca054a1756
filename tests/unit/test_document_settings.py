"""VISAPI_DOCUMENTS and its companions: the production default, and bad values stop the start."""

from __future__ import annotations

import pytest

from visapi.settings import SettingsError, load_settings


def test_mode_defaults_to_any_and_to_trusted_in_production() -> None:
    assert load_settings({}).documents_mode == "any"
    assert load_settings({"VISAPI_ENV": "production"}).documents_mode == "trusted"
    production_any = {"VISAPI_ENV": "production", "VISAPI_DOCUMENTS": "any"}
    assert load_settings(production_any).documents_mode == "any"
    persisted = load_settings(
        {
            "VISAPI_DOCUMENTS": "persisted",
            "VISAPI_DOCUMENTS_MAX_PER_CALLER": "3",
            "VISAPI_DOCUMENTS_CACHE_SIZE": "10",
        }
    )
    assert (persisted.documents_mode, persisted.documents_max_per_caller) == ("persisted", 3)
    assert persisted.documents_cache_size == 10


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"VISAPI_DOCUMENTS": "strict"}, "VISAPI_DOCUMENTS='strict' is not one of any, persisted"),
        ({"VISAPI_DOCUMENTS": "Trusted"}, "VISAPI_DOCUMENTS='Trusted'"),
        ({"VISAPI_DOCUMENTS_MAX_PER_CALLER": "0"}, "VISAPI_DOCUMENTS_MAX_PER_CALLER"),
        ({"VISAPI_DOCUMENTS_MAX_PER_CALLER": "many"}, "VISAPI_DOCUMENTS_MAX_PER_CALLER"),
        ({"VISAPI_DOCUMENTS_CACHE_SIZE": "-1"}, "VISAPI_DOCUMENTS_CACHE_SIZE"),
    ],
)
def test_a_bad_value_stops_the_start(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(environ)
