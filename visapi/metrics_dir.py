"""The directory prometheus-client's multiprocess mode shares between the processes of one run
(`serve --workers N`, `worker --processes N`).

No prometheus import here: the variable must be set before any process imports
prometheus-client, which decides at import how it stores values.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, MutableMapping
from contextlib import contextmanager
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def metrics_directory(
    environ: MutableMapping[str, str], processes: int, *, prefix: str = "visapi-metrics-"
) -> Iterator[None]:
    """With several processes, each keeps its metrics in files of a shared directory, merged by
    whichever one is scraped; it must hold only this run's files (an earlier run's counts would
    be added in). A directory given by the operator is emptied; one made here is removed after.
    """
    given = environ.get(MULTIPROC_ENV)
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.db"):
            stale.unlink()
        yield
        return
    if processes == 1:
        yield  # one process: in-memory metrics
        return
    made = tempfile.mkdtemp(prefix=prefix)
    environ[MULTIPROC_ENV] = made
    try:
        yield
    finally:
        environ.pop(MULTIPROC_ENV, None)
        shutil.rmtree(made, ignore_errors=True)
