"""Maintenance the way a worker runs it: each task the scheduler would enqueue, through the bus."""

from __future__ import annotations

from app.maintenance import IN_SCHEDULER, RunMaintenance
from visapi.bootstrap import Container
from visapi.scheduler import periodic_runner


async def run_maintenance(container: Container) -> list[str]:
    """Run every maintenance task once (as their jobs would); the names run."""
    names = [j.name for j in periodic_runner(container).jobs if j.name not in IN_SCHEDULER]
    for name in names:
        await container.bus.handle(RunMaintenance(name))
    return names
