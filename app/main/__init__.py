"""The composition root: settings, wiring, and the entry points (API, worker, scheduler, CLI)."""
