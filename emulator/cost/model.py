"""The cost model: measured invocations in, a month's ``Bill`` per product out.

``Usage`` is what ``emu cost`` knows about one function from the invocation
records: its durations, memory, architecture or generation, and the wall-clock
span the recording covers. ``monthly_bill`` prices one workload on one product;
``account_bill`` prices several together, applying the free tier once, as the
clouds do per billing account. Everything here is pure arithmetic on
``Decimal``, so worked examples reproduce to the cent; nothing reads files.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Iterable, Literal, Sequence

from emulator.cost.prices import PRICES, PriceTier, Product, ProductPrices

Architecture = Literal["x86_64", "arm64"]
# The month the clouds' free tiers and our projections use.
MONTH_DAYS = 30
MONTH_SECONDS = MONTH_DAYS * 24 * 60 * 60
CENT = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class Usage:
    """One function as the invocation records saw it.

    ``durations_ms`` holds one measured duration per invocation, unrounded: each
    product rounds them its own way. ``span_s`` is the wall-clock time the recording
    covers; with it, a month's volume can be extrapolated from the recorded rate.
    """

    function: str
    provider: Literal["aws", "gcp"]
    memory_mb: int
    durations_ms: tuple[float, ...] = ()
    span_s: float | None = None
    architecture: Architecture = "x86_64"  # AWS only
    generation: int = 2  # GCP only
    vcpu: float | None = None  # a gen2 function deployed with --cpu; None: the memory's default

    @property
    def invocations(self) -> int:
        return len(self.durations_ms)

    @property
    def product(self) -> Product:
        """The product this function is configured for."""
        if self.provider == "aws":
            return "lambda-arm64" if self.architecture == "arm64" else "lambda-x86_64"
        return "gcf-gen1" if self.generation == 1 else "gcf-gen2"

    def products(self) -> tuple[Product, ...]:
        """Every product this function could run on as configured: both Lambda
        architectures for an AWS function, both generations for a GCP one (gen1 only
        up to its 8 GB)."""
        if self.provider == "aws":
            return ("lambda-x86_64", "lambda-arm64")
        return tuple(p for p in ("gcf-gen1", "gcf-gen2") if PRICES[p].fits(self.memory_mb))


@dataclass(frozen=True, slots=True)
class Workload:
    """A month of use on one product, in its billing units."""

    requests: Decimal
    memory_seconds: Decimal  # GB-s or GiB-s
    cpu_seconds: Decimal = Decimal(0)  # GHz-s or vCPU-s

    def __add__(self, other: Workload) -> Workload:
        return Workload(
            self.requests + other.requests,
            self.memory_seconds + other.memory_seconds,
            self.cpu_seconds + other.cpu_seconds,
        )


@dataclass(frozen=True, slots=True)
class LineItem:
    """One billed dimension: how much was used, how much of it was free, and the cost."""

    name: Literal["requests", "memory", "cpu"]
    unit: str
    quantity: Decimal
    free: Decimal  # the part the free tier covers
    gross: Decimal  # cost before the free tier
    credit: Decimal  # the free tier's value, at the first tier's price

    @property
    def billable(self) -> Decimal:
        return self.quantity - self.free

    @property
    def cost(self) -> Decimal:
        return self.gross - self.credit


@dataclass(frozen=True, slots=True)
class Bill:
    """A month on one product: line items and their sums, exact; ``cents`` rounds."""

    prices: ProductPrices
    workload: Workload
    requests: LineItem
    memory: LineItem  # Lambda's duration charge (GB-s); Google's memory charge (GB-s, GiB-s)
    cpu: LineItem | None  # Google's GHz-s or vCPU-s; None on Lambda, whose GB-s price includes CPU

    @property
    def product(self) -> Product:
        return self.prices.product

    @property
    def lines(self) -> tuple[LineItem, ...]:
        return (self.requests, self.memory) if self.cpu is None else (self.requests, self.memory, self.cpu)

    @property
    def gross(self) -> Decimal:
        return sum((line.gross for line in self.lines), Decimal(0))

    @property
    def free_tier_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), Decimal(0))

    @property
    def total(self) -> Decimal:
        return self.gross - self.free_tier_credit

    @property
    def cents(self) -> Decimal:
        """The total rounded to the cent, as the clouds' examples round it."""
        return self.total.quantize(CENT, rounding=ROUND_HALF_UP)


def _prices(product: Product | ProductPrices) -> ProductPrices:
    return product if isinstance(product, ProductPrices) else PRICES[product]


def _tiered(quantity: Decimal, tiers: tuple[PriceTier, ...]) -> Decimal:
    cost, below = Decimal(0), Decimal(0)
    for tier in tiers:
        upper = quantity if tier.up_to is None else min(quantity, tier.up_to)
        if upper > below:
            cost += (upper - below) * tier.price
        if tier.up_to is None or quantity <= tier.up_to:
            break
        below = tier.up_to
    return cost


def _line(name: Literal["requests", "memory", "cpu"], unit: str, quantity: Decimal,
          allowance: Decimal, tiers: tuple[PriceTier, ...]) -> LineItem:
    free = min(quantity, allowance)
    # Google: "The free tier is applied as a spending based discount using Tier 1
    # pricing"; AWS's volume tiers start billions of GB-s above its free tier.
    return LineItem(name, unit, quantity, free, _tiered(quantity, tiers), free * tiers[0].price)


def price(product: Product | ProductPrices, workload: Workload) -> Bill:
    """Price a month's ``workload`` on ``product``, free tier included."""
    p = _prices(product)
    return Bill(
        p,
        workload,
        requests=_line("requests", "requests", workload.requests, p.free.requests, (PriceTier(None, p.request_price),)),
        memory=_line("memory", p.memory_unit, workload.memory_seconds, p.free.memory_seconds, p.memory_tiers),
        cpu=_line("cpu", p.cpu_unit, workload.cpu_seconds, p.free.cpu_seconds, (PriceTier(None, p.cpu_price),))
        if p.cpu_unit else None,
    )


def account_bill(product: Product | ProductPrices, workloads: Iterable[Workload]) -> Bill:
    """Price several functions' workloads together: the free tier is the account's, once."""
    return price(product, sum(workloads, Workload(Decimal(0), Decimal(0))))


def mean_billed_ms(product: Product | ProductPrices, durations_ms: Sequence[float]) -> Decimal:
    """The mean billed duration once each invocation is rounded up the product's way."""
    if not durations_ms:
        return Decimal(0)
    p = _prices(product)
    return Decimal(sum(p.billed_ms(d) for d in durations_ms)) / len(durations_ms)


def workload(product: Product | ProductPrices, invocations: int, memory_mb: int, billed_ms: Decimal | float,
             vcpu: float | None = None) -> Workload:
    """A month of ``invocations`` each billed ``billed_ms`` on average, as billing units."""
    p = _prices(product)
    if invocations < 0:
        raise ValueError("invocations must not be negative")
    if vcpu is not None and p.product != "gcf-gen2":
        raise ValueError(f"{p.name} does not take a vCPU setting")
    seconds = Decimal(invocations) * Decimal(repr(billed_ms) if isinstance(billed_ms, float) else billed_ms) / 1000
    cpu = Decimal(repr(vcpu)) if vcpu is not None else p.cpu_for(memory_mb)
    return Workload(
        requests=Decimal(invocations),
        memory_seconds=seconds * p.billed_memory_mb(memory_mb) / 1024,
        cpu_seconds=seconds * cpu,
    )


def monthly_bill(product: Product | ProductPrices, invocations_per_month: int, memory_mb: int, *,
                 billed_ms: Decimal | float | None = None, durations_ms: Sequence[float] | None = None,
                 vcpu: float | None = None) -> Bill:
    """One function's month on ``product``.

    Give either ``billed_ms``, the average billed duration of an invocation, used as
    is, or ``durations_ms``, measured durations that are each rounded up the
    product's way and then stand for the month's invocations in proportion.
    """
    if (billed_ms is None) == (durations_ms is None):
        raise ValueError("give exactly one of billed_ms and durations_ms")
    mean = billed_ms if billed_ms is not None else mean_billed_ms(product, durations_ms or ())
    return price(product, workload(product, invocations_per_month, memory_mb, mean, vcpu))


def projected_invocations(usage: Usage, monthly: int | None = None) -> int | None:
    """A month's invocations: ``monthly`` if given, else the recorded rate over 30 days.

    None when there is nothing to extrapolate from (no span, or no invocations).
    """
    if monthly is not None:
        return monthly
    if not usage.span_s or usage.span_s <= 0 or not usage.invocations:
        return None
    rate = Decimal(usage.invocations) / Decimal(repr(usage.span_s))
    return int((rate * MONTH_SECONDS).to_integral_value(rounding=ROUND_HALF_UP))


def usage_workload(usage: Usage, product: Product, invocations_per_month: int) -> Workload:
    """``usage`` scaled to a month on ``product``, rounding each duration the product's way."""
    vcpu = usage.vcpu if product == "gcf-gen2" else None
    return workload(product, invocations_per_month, usage.memory_mb, mean_billed_ms(product, usage.durations_ms), vcpu)


def percentile(values: Sequence[float], pct: float) -> float | None:
    """The nearest-rank percentile: the smallest value with ``pct``% of values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class FunctionStats:
    """What was measured for one function, billed on its own product."""

    usage: Usage
    p50_ms: float | None
    p95_ms: float | None
    billed_ms: int  # summed over the recorded invocations
    gb_seconds: Decimal  # billed duration x memory, over the recorded invocations


def stats(usage: Usage) -> FunctionStats:
    p = PRICES[usage.product]
    billed = sum(p.billed_ms(d) for d in usage.durations_ms)
    return FunctionStats(
        usage=usage,
        p50_ms=percentile(usage.durations_ms, 50),
        p95_ms=percentile(usage.durations_ms, 95),
        billed_ms=billed,
        gb_seconds=Decimal(billed) / 1000 * p.billed_memory_mb(usage.memory_mb) / 1024,
    )
