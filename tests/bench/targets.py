"""The targets of issues 3 and 13, each judged from the measured rows of one run."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tests.bench.census import Census
from tests.bench.load import Load
from tests.bench.scenarios import READ_ROWS

if TYPE_CHECKING:
    from tests.bench.report import RowResult


def _rps(results: list[RowResult], key: str) -> float:
    r = _get(results, key)
    return r.sat.rps if r and r.sat else 0.0


def _get(results: list[RowResult], key: str) -> RowResult | None:
    return next((r for r in results if r.row.key == key), None)


# PERFORMANCE.md's "Strawberry resolver doing the asyncpg lookup" on the machine the absolute
# targets were set against: the same thing as the naive baseline row.
REFERENCE_NAIVE_RPS = 784


def speed(results: list[RowResult]) -> float | None:
    """This run's machine against PERFORMANCE.md's: naive baseline req/s / 784 (None: no row)."""
    naive = _rps(results, "naive")
    return naive / REFERENCE_NAIVE_RPS if naive else None


def targets(
    results: list[RowResult], workers: int, sql: dict[str, Census]
) -> list[tuple[str, str, str]]:
    """(target, measured, verdict) per target of issue 3; p95 targets judged at saturation."""
    out: list[tuple[str, str, str]] = []

    f = speed(results)

    def add(
        name: str,
        key: str,
        check: Callable[[RowResult, Load], tuple[str, bool]],
        scaled: Callable[[Load, float], bool] | None = None,
    ) -> None:
        """`scaled`: the absolute target, req/s times f and ms divided by f, where f is this
        machine's speed (a missed target only; p95 at saturation is connections / req/s)."""
        r = _get(results, key)
        if r is None or r.sat is None:
            out.append((name, "not measured", "missed"))
            return
        measured, met = check(r, r.sat)
        if scaled is not None and f is not None and not met:
            verdict = "met" if scaled(r.sat, f) else "missed"
            measured += f"; scaled to this machine (x{f:.2f}): {verdict}"
        at_half = ", ".join(f"{tool} {f.p95:.1f} ms" for tool, f in r.fixed.items())
        if at_half:
            measured += f" (p95 at ½ rate: {at_half})"
        verdict = "met" if met and r.clean else "missed" + ("" if r.clean else " (errors)")
        out.append((name, measured, verdict))

    bare, naive = _rps(results, "bare"), _rps(results, "naive")
    add(
        "healthz ≥ 45 % of bare Starlette",
        "healthz",
        lambda r, s: (f"{s.rps / bare:.1%}" if bare else "-", bool(bare) and s.rps >= 0.45 * bare),
    )
    add(
        "order(id) ≥ 2.5x naive Strawberry, p95 ≤ 40 ms",
        "order",
        lambda r, s: (
            f"{s.rps / naive:.2f}x ({s.rps:,.0f} vs {naive:,.0f} req/s), p95 {s.p95:.1f} ms"
            if naive
            else "-",
            bool(naive) and s.rps >= 2.5 * naive and s.p95 <= 40,
        ),
        lambda s, f: s.rps >= 2.5 * naive and s.p95 <= 40 / f,
    )
    add(
        "orders(first: 20) filtered ≥ 700 req/s, p95 ≤ 80 ms",
        "orders20",
        lambda r, s: (f"{s.rps:,.0f} req/s, p95 {s.p95:.1f} ms", s.rps >= 700 and s.p95 <= 80),
        lambda s, f: s.rps >= 700 * f and s.p95 <= 80 / f,
    )
    add(
        "createOrder ≥ 300 req/s, p95 ≤ 100 ms",
        "create",
        lambda r, s: (f"{s.rps:,.0f} req/s, p95 {s.p95:.1f} ms", s.rps >= 300 and s.p95 <= 100),
        lambda s, f: s.rps >= 300 * f and s.p95 <= 100 / f,
    )
    product = [r for r in results if r.row.server == "product"]
    rss = max((r.peak_rss or 0.0 for r in product), default=0.0)
    out.append(
        (
            "peak RSS ≤ 150 MB per process",
            f"{rss:.1f} MB (max over product rows)",
            "met" if 0 < rss <= 150 else "missed",
        )
    )
    conns = max((r.conns or 0 for r in product), default=0)
    out.append(
        (
            f"≤ 10 pooled connections per process (≤ {10 * workers} for {workers} workers)",
            f"peak {conns}",
            "met" if conns <= 10 * workers else "missed",
        )
    )
    p50, p5 = sql.get("orders50"), sql.get("orders5")
    if p50 and p5:
        same = p50.statements == p5.statements and p50.tx == p5.tx
        out.append(
            (
                "statements per request independent of page size",
                f"page of 50 with events: {p50.statements:g} (+{p50.tx:g} tx), page of 5: "
                f"{p5.statements:g} (+{p5.tx:g} tx)",
                "met" if same else "missed",
            )
        )
    else:
        out.append(("statements per request independent of page size", "not measured", "missed"))
    return out  # fmt: skip


def targets_table(rows: list[tuple[str, str, str]]) -> str:
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {name} | {measured} | {verdict} |" for name, measured, verdict in rows]
    return "\n".join(lines)


# Issue 13: p95 at half the saturated rate, paced wrk (its sends are spread evenly; hey's
# workers tick in step and queue behind each other), for every read row of the product.
P95_HALF_RATE_MS = 20.0


def issue13_targets(results: list[RowResult]) -> list[tuple[str, str, str]]:
    """(target, measured, PASS / MISS / why not measured) per target of issue 13."""
    out: list[tuple[str, str, str]] = []

    def ratio(
        name: str, key: str, base_key: str, base_name: str, at_least: float, share: bool = False
    ) -> None:
        row, base = _get(results, key), _get(results, base_key)
        for r in (row, base):
            if r is not None and r.note:
                out.append((name, f"{r.row.key}: {r.note}", "not measured"))
                return
        if row is None or row.sat is None or base is None or base.sat is None:
            out.append((name, "not measured", "MISS"))
            return
        x = row.sat.rps / base.sat.rps if base.sat.rps else 0.0
        shown = f"{x:.1%}" if share else f"{x:.2f}x"
        measured = f"{shown} ({row.sat.rps:,.0f} vs {base_name} {base.sat.rps:,.0f} req/s)"
        met = x >= at_least and row.clean and base.clean
        out.append((name, measured + ("" if row.clean else " (errors)"), _verdict(met)))

    ratio(
        "`order(id)` plain document, auth, read cache, PII field ≥ 1.0x PostGraphile `orderById`",
        "order",
        "pg_order",
        "PostGraphile",
        1.0,
    )
    ratio(
        "`order(id)` plain document, auth, read cache, PII field ≥ 1.0x the Strawberry peer",
        "order",
        "peer",
        "peer",
        1.0,
    )
    ratio(
        "`order(id)` persisted, response cache hit ≥ 70 % of the Redis-GET route",
        "order_persisted_hit",
        "redis",
        "Redis GET",
        0.70,
        share=True,
    )
    ratio(
        "`order(id)` persisted, response cache hit ≥ 25 % of bare Starlette",
        "order_persisted_hit",
        "bare",
        "bare",
        0.25,
        share=True,
    )
    ratio(
        "`orders(first: 20)` persisted, response cache off ≥ 4 % of bare Starlette",
        "orders20p",
        "bare",
        "bare",
        0.04,
        share=True,
    )
    ratio(
        "`orders(first: 50)` + `events`, response cache off ≥ 1.8 % of bare Starlette",
        "orders50",
        "bare",
        "bare",
        0.018,
        share=True,
    )
    for key in READ_ROWS:
        name = f"`{key}` p95 at ½ the saturated rate < {P95_HALF_RATE_MS:g} ms (paced wrk)"
        r = _get(results, key)
        if r is not None and r.note:
            out.append((name, r.note, "not measured"))
            continue
        paced = r.fixed.get("wrk") if r is not None else None
        if r is None or paced is None:
            out.append((name, "not measured", "MISS"))
            continue
        measured = f"{paced.p95:.1f} ms at {paced.rps:,.0f} req/s"
        if "hey" in r.fixed:
            measured += f" (hey: {r.fixed['hey'].p95:.1f} ms)"
        met = paced.p95 < P95_HALF_RATE_MS and paced.ok and paced.rps >= 0.9 * r.fixed_target
        out.append((name, measured, _verdict(met)))
    return out  # fmt: skip


def _verdict(met: bool) -> str:
    return "PASS" if met else "MISS"
