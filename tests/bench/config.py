"""The bench's knobs, all BENCH_* environment variables (README.md, "Benchmarks")."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

REPORT = Path(os.environ.get("BENCH_REPORT", "/tmp/visapi-bench.md"))


@dataclass(frozen=True)
class Config:
    workers: int
    duration: float  # seconds of each saturated run
    warmup: float
    fixed: float  # seconds of each fixed-rate run
    connections: int
    orders: int
    fixed_tools: tuple[str, ...]  # "hey" and/or "wrk" (paced)
    budget_s: float  # rows that would end past it are skipped (and flagged)
    rows: frozenset[str] = frozenset()  # BENCH_ROWS: the row keys to load; empty: every row
    profile: bool = False  # BENCH_PROFILE=1: one more saturated run per row under py-spy

    def selects(self, key: str) -> bool:
        return not self.rows or key in self.rows

    @classmethod
    def from_env(cls) -> Config:
        env = os.environ.get
        return cls(
            workers=int(env("BENCH_WORKERS", "2")),
            duration=float(env("BENCH_DURATION", "10")),
            warmup=float(env("BENCH_WARMUP", "3")),
            fixed=float(env("BENCH_FIXED_DURATION", "10")),
            connections=int(env("BENCH_CONNECTIONS", "50")),
            orders=int(env("BENCH_ORDERS", "100000")),
            fixed_tools=tuple(env("BENCH_FIXED_TOOLS", "hey,wrk").split(",")),
            budget_s=float(env("BENCH_BUDGET_S", "900")),
            rows=frozenset(k.strip() for k in env("BENCH_ROWS", "").split(",") if k.strip()),
            profile=env("BENCH_PROFILE", "") not in ("", "0"),
        )
