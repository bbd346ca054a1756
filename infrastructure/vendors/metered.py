"""Vendor calls counted and timed (`Metrics.vendor_call`), one outcome per call.

The outcome is "ok", the VendorError's category (the taxonomy of app.vendors), "canceled" when
the call was cut short (a step's timeout, a shutdown), or "error" for anything else (an
adapter bug). A fixed set: these are Prometheus label values.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from app.metrics import Metrics
from app.vendors import VendorError


@dataclass
class Call:
    """The call being timed; its outcome is set as the call ends."""

    outcome: str = "ok"


@asynccontextmanager
async def metered(metrics: Metrics, vendor: str, operation: str) -> AsyncIterator[Call]:
    call = Call()
    started = time.perf_counter()
    try:
        yield call
    except VendorError as exc:
        call.outcome = exc.category
        raise
    except asyncio.CancelledError:
        call.outcome = "canceled"
        raise
    except Exception:
        call.outcome = "error"
        raise
    finally:
        metrics.vendor_call(vendor, operation, call.outcome, time.perf_counter() - started)
