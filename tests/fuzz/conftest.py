"""Fuzz suite fixtures: Hypothesis profiles, the app per module in each mode, the input count.

Profiles (HYPOTHESIS_PROFILE): `ci` (the default) is derandomized, so a CI run is the same run
every time; `explore` draws fresh inputs each run to find new failures locally. Neither writes an
example database into the repository. FUZZ_EXAMPLES sets the total number of inputs (`make fuzz`:
10,000; a plain pytest run: a smoke version of a few hundred).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from tests.fuzz.support import INPUTS, STATUSES, Target, target

_COMMON = {
    "database": None,
    "deadline": None,
    "print_blob": True,
    # The strategies are deliberately large and some values are rejected on purpose.
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
settings.register_profile("ci", derandomize=True, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("explore", **_COMMON)  # type: ignore[arg-type]
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="module", params=["embedded", "production"])
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """The app with its lifespan running, shared by a module's tests (one per mode)."""
    with target(request.param, tmp_path_factory.mktemp("fuzz")) as running:
        yield running


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not INPUTS:
        return
    total = sum(INPUTS.values())
    terminalreporter.write_sep("=", f"fuzz: {total:,} generated inputs run")
    for name, n in sorted(INPUTS.items()):
        terminalreporter.write_line(f"  {n:>6,}  {name}")
    answers = ", ".join(f"{status}: {n:,}" for status, n in sorted(STATUSES.items()))
    terminalreporter.write_line(f"  HTTP answers by status: {answers}")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            # Large inputs on purpose: Hypothesis warns that their repr (shown on failure) is large.
            item.add_marker(pytest.mark.filterwarnings("ignore:Generating overly large repr"))
            # The app's own threads (its worker, Dramatiq, Redis retries) use the global `random`
            # while Hypothesis draws, which it takes for a strategy using `random`; none does.
            item.add_marker(pytest.mark.filterwarnings("ignore:Do not use the `random` module"))
