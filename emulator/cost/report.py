"""``emu cost`` output: per-function measurements and projected monthly bills.

``build_report`` decides everything once: the stats of each function, the month's
volume (``--monthly N``, or the recorded rate over 30 days), a bill on every
product the function could run on, and, when several functions share a product,
their bill together with the free tier applied once. ``render_table`` and
``render_json`` only format that. Nothing here prints or reads files; the CLI does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence, TypedDict

from emulator.cost.model import (
    CENT,
    MONTH_DAYS,
    Bill,
    FunctionStats,
    Usage,
    Workload,
    account_bill,
    price,
    projected_invocations,
    stats,
    usage_workload,
)
from emulator.cost.prices import PRICES, PRODUCTS, Product


@dataclass(frozen=True, slots=True)
class FunctionCost:
    stats: FunctionStats
    invocations_per_month: int | None  # None: no --monthly and no rate to extrapolate from
    bills: tuple[Bill, ...]


@dataclass(frozen=True, slots=True)
class CostReport:
    monthly: int | None
    functions: tuple[FunctionCost, ...]
    # Per product, the functions priced on it billed together: the free tier is an
    # account's, so summing the per-function bills would count it once per function.
    totals: tuple[Bill, ...]


def build_report(usages: Iterable[Usage], monthly: int | None = None) -> CostReport:
    functions: list[FunctionCost] = []
    shared: dict[Product, list[Workload]] = {p: [] for p in PRODUCTS}
    for usage in sorted(usages, key=lambda u: u.function):
        volume = projected_invocations(usage, monthly)
        bills: list[Bill] = []
        if volume is not None:
            for product in usage.products():
                load = usage_workload(usage, product, volume)
                shared[product].append(load)
                bills.append(price(product, load))
        functions.append(FunctionCost(stats(usage), volume, tuple(bills)))
    totals = tuple(account_bill(p, loads) for p, loads in shared.items() if len(loads) > 1)
    return CostReport(monthly, tuple(functions), totals)


# --- table -------------------------------------------------------------------

def _money(amount: Decimal) -> str:
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"-${-cents:,}" if cents < 0 else f"${cents:,}"


def _quantity(value: Decimal) -> str:
    if value == 0:
        return "0"
    return f"{value:.3g}" if value < 1 else f"{value:,.2f}"


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:,.1f}"


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: set[int]) -> list[str]:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return [line(headers), *(line(r) for r in rows)]


def _bill_row(function: str, bill: Bill, configured: bool) -> list[str]:
    return [
        function,
        bill.prices.name + (" *" if configured else ""),
        f"{int(bill.workload.requests):,}",
        _money(bill.requests.gross),
        _money(bill.memory.gross),
        _money(bill.cpu.gross) if bill.cpu else "-",
        _money(-bill.free_tier_credit),
        _money(bill.total),
    ]


def render_table(usages: Iterable[Usage], monthly: int | None = None) -> str:
    """The report as aligned plain text: measurements, then the projected month."""
    report = build_report(usages, monthly)
    if not report.functions:
        return "No invocations recorded.\n"
    out = ["Measured"]
    out += _table(
        ["FUNCTION", "CLOUD", "MEMORY", "INVOCATIONS", "P50 MS", "P95 MS", "BILLED MS", "GB-S"],
        [
            [
                f.stats.usage.function,
                f.stats.usage.provider,
                f"{f.stats.usage.memory_mb} MB",
                f"{f.stats.usage.invocations:,}",
                _ms(f.stats.p50_ms),
                _ms(f.stats.p95_ms),
                f"{f.stats.billed_ms:,}",
                _quantity(f.stats.gb_seconds),
            ]
            for f in report.functions
        ],
        right={2, 3, 4, 5, 6, 7},
    )
    volume = (f"{report.monthly:,} invocations a month per function" if report.monthly is not None
              else f"each function's recorded rate over {MONTH_DAYS} days")
    out += ["", f"Projected month ({volume})"]
    rows: list[list[str]] = []
    missing: list[str] = []
    for f in report.functions:
        if f.invocations_per_month is None:
            missing.append(f.stats.usage.function)
            continue
        for bill in f.bills:
            rows.append(_bill_row(f.stats.usage.function, bill, bill.product == f.stats.usage.product))
    for bill in report.totals:
        rows.append(_bill_row("(together)", bill, False))
    if rows:
        out += _table(["FUNCTION", "PRODUCT", "INVOCATIONS", "REQUESTS", "GB-S", "GHZ-S/VCPU-S", "FREE TIER", "TOTAL"],
                      rows, right={2, 3, 4, 5, 6, 7})
        out.append("* the product the function is configured for. Charges are before the free tier, which each")
        out.append("  function's bill gets whole." + (" (together) bills the functions sharing a product at once,"
                                                    if report.totals else ""))
        if report.totals:
            out.append("  with the free tier once, as an account does.")
    if missing:
        out.append(f"No rate to extrapolate from for {', '.join(missing)}: give --monthly N.")
    out += ["", "Prices (USD, on demand, cheapest region tier; no egress, storage or minimum instances):"]
    used = {b.product for f in report.functions for b in f.bills}
    for product in PRODUCTS:
        if product in used:
            p = PRICES[product]
            out.append(f"  {p.name}: {p.source} (read {p.read_on.isoformat()})")
    return "\n".join(out) + "\n"


# --- JSON --------------------------------------------------------------------

class LineJson(TypedDict):
    name: str
    unit: str
    quantity: float
    free: float
    billable: float
    gross: float
    credit: float
    cost: float


class BillJson(TypedDict):
    product: str
    name: str
    configured: bool
    invocations: int
    lines: list[LineJson]
    gross: float
    free_tier_credit: float
    total: float
    total_cents: float


class FunctionJson(TypedDict):
    function: str
    provider: str
    product: str
    memory_mb: int
    architecture: str | None
    generation: int | None
    invocations: int
    span_s: float | None
    duration_ms: dict[str, float | None]
    billed_ms: int
    gb_seconds: float
    invocations_per_month: int | None
    bills: list[BillJson]


class PriceJson(TypedDict):
    product: str
    name: str
    source: str
    read_on: str


class ReportJson(TypedDict):
    monthly: int | None
    month_days: int
    functions: list[FunctionJson]
    totals: list[BillJson]
    prices: list[PriceJson]


def _bill_json(bill: Bill, configured: bool) -> BillJson:
    return {
        "product": bill.product,
        "name": bill.prices.name,
        "configured": configured,
        "invocations": int(bill.workload.requests),
        "lines": [
            {
                "name": line.name,
                "unit": line.unit,
                "quantity": float(line.quantity),
                "free": float(line.free),
                "billable": float(line.billable),
                "gross": float(line.gross),
                "credit": float(line.credit),
                "cost": float(line.cost),
            }
            for line in bill.lines
        ],
        "gross": float(bill.gross),
        "free_tier_credit": float(bill.free_tier_credit),
        "total": float(bill.total),
        "total_cents": float(bill.cents),
    }


def report_json(usages: Iterable[Usage], monthly: int | None = None) -> ReportJson:
    """The report as JSON-ready data; amounts in US dollars, unrounded except ``total_cents``."""
    report = build_report(usages, monthly)
    functions: list[FunctionJson] = []
    for f in report.functions:
        u = f.stats.usage
        functions.append({
            "function": u.function,
            "provider": u.provider,
            "product": u.product,
            "memory_mb": u.memory_mb,
            "architecture": u.architecture if u.provider == "aws" else None,
            "generation": u.generation if u.provider == "gcp" else None,
            "invocations": u.invocations,
            "span_s": u.span_s,
            "duration_ms": {"p50": f.stats.p50_ms, "p95": f.stats.p95_ms},
            "billed_ms": f.stats.billed_ms,
            "gb_seconds": float(f.stats.gb_seconds),
            "invocations_per_month": f.invocations_per_month,
            "bills": [_bill_json(b, b.product == u.product) for b in f.bills],
        })
    return {
        "monthly": report.monthly,
        "month_days": MONTH_DAYS,
        "functions": functions,
        "totals": [_bill_json(b, False) for b in report.totals],
        "prices": [
            {"product": p.product, "name": p.name, "source": p.source, "read_on": p.read_on.isoformat()}
            for p in PRICES.values()
        ],
    }


def render_json(usages: Iterable[Usage], monthly: int | None = None) -> str:
    """``report_json`` as indented JSON text, for ``emu cost --json``."""
    return json.dumps(report_json(usages, monthly), indent=2) + "\n"
