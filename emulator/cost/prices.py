"""The serverless price table: one frozen ``ProductPrices`` per product, as data.

Every number cites the page it comes from; ``source`` and ``read_on`` say where
and when each product's prices were read. Prices are US dollars in the cheapest
region tier (AWS us-east-1, Google "Tier 1"), on-demand, before taxes, without
network egress, ephemeral storage, provisioned concurrency or minimum instances.

Units follow the clouds: a GB or GiB is 2^30 bytes (Google's pricing page says so
for its "GB"; AWS divides MB by 1024 in its examples), a GHz is 10^9 Hz.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import MappingProxyType
from typing import Literal, Mapping

Product = Literal["lambda-x86_64", "lambda-arm64", "gcf-gen1", "gcf-gen2"]
PRODUCTS: tuple[Product, ...] = ("lambda-x86_64", "lambda-arm64", "gcf-gen1", "gcf-gen2")

MILLION = Decimal(1_000_000)
# Every table below was read on this day, from stored copies of the cited pages.
READ_ON = date(2026, 11, 22)


@dataclass(frozen=True, slots=True)
class PriceTier:
    """A volume tier: ``price`` per unit for usage up to ``up_to`` units a month (None: no limit)."""

    up_to: Decimal | None
    price: Decimal


@dataclass(frozen=True, slots=True)
class CpuTier:
    """The CPU a function gets for memory up to ``memory_mb``: GHz on gen1, vCPU on gen2."""

    memory_mb: int
    cpu: Decimal


@dataclass(frozen=True, slots=True)
class FreeTier:
    """What a billing account gets free each month, per product."""

    requests: Decimal
    memory_seconds: Decimal
    cpu_seconds: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ProductPrices:
    """One product's prices, free tier, billing granularity and memory-to-CPU tiers."""

    product: Product
    name: str
    provider: Literal["aws", "gcp"]
    source: str
    read_on: date
    request_price: Decimal  # per request
    memory_unit: str  # "GB-s" or "GiB-s"
    memory_tiers: tuple[PriceTier, ...]
    free: FreeTier
    granularity_ms: int  # each invocation's duration is rounded up to a multiple of this
    cpu_unit: str | None = None  # "GHz-s", "vCPU-s"; None: the price of CPU is in the memory price
    cpu_price: Decimal = Decimal(0)
    cpu_tiers: tuple[CpuTier, ...] = ()
    # gen1 offers only the sizes in ``cpu_tiers``; a function is billed for the size it gets.
    memory_sizes_fixed: bool = False

    def tier_for(self, memory_mb: int) -> CpuTier:
        """The smallest CPU tier that holds ``memory_mb``."""
        for tier in self.cpu_tiers:
            if memory_mb <= tier.memory_mb:
                return tier
        raise ValueError(f"{self.name} has no size for {memory_mb} MB")

    def fits(self, memory_mb: int) -> bool:
        """Whether a function of ``memory_mb`` can run on this product at all."""
        return not self.cpu_tiers or memory_mb <= self.cpu_tiers[-1].memory_mb

    def billed_memory_mb(self, memory_mb: int) -> int:
        return self.tier_for(memory_mb).memory_mb if self.memory_sizes_fixed else memory_mb

    def cpu_for(self, memory_mb: int) -> Decimal:
        """The CPU (GHz or vCPU) billed alongside ``memory_mb``; 0 where CPU is not billed apart."""
        return self.tier_for(memory_mb).cpu if self.cpu_unit else Decimal(0)

    def billed_ms(self, duration_ms: float) -> int:
        """One invocation's billed duration: rounded up to the granularity, at least one step."""
        steps = math.ceil(Decimal(repr(duration_ms)) / self.granularity_ms)
        return max(1, steps) * self.granularity_ms


def _d(text: str) -> Decimal:
    return Decimal(text)


# AWS Lambda, https://aws.amazon.com/lambda/pricing/ (US East, N. Virginia):
# - "$0.20 per 1M requests", the same on x86 and Arm;
# - "The free tier includes one million requests and 400,000 GB-seconds per month",
#   shared by both architectures (we give each product all of it: each is priced as
#   if every AWS function ran on it);
# - duration "rounded up to the nearest 1 ms";
# - duration tiers "applied to aggregate monthly duration of your functions running on
#   the same architecture": x86 $0.0000166667 per GB-s for the first 6 billion GB-s a
#   month, $0.000015 for the next 9 billion, $0.0000133334 beyond 15 billion; Arm
#   $0.0000133334 for the first 7.5 billion, $0.0000120001 for the next 11.25 billion,
#   $0.0000106667 beyond. The page's first-tier figures appear in its own examples
#   (x86: "140,000 * $0.0000166667 = $2.33"; Arm: "31,600,000 × $0.0000133334 =
#   $421.34"); the upper tiers are as the AWS Price List publishes them.
_LAMBDA_SOURCE = "https://aws.amazon.com/lambda/pricing/"
_LAMBDA_REQUEST = _d("0.20") / MILLION
_LAMBDA_FREE = FreeTier(requests=Decimal(1_000_000), memory_seconds=Decimal(400_000))

LAMBDA_X86 = ProductPrices(
    product="lambda-x86_64",
    name="AWS Lambda (x86_64)",
    provider="aws",
    source=_LAMBDA_SOURCE,
    read_on=READ_ON,
    request_price=_LAMBDA_REQUEST,
    memory_unit="GB-s",
    memory_tiers=(
        PriceTier(Decimal(6_000_000_000), _d("0.0000166667")),
        PriceTier(Decimal(15_000_000_000), _d("0.000015")),
        PriceTier(None, _d("0.0000133334")),
    ),
    free=_LAMBDA_FREE,
    granularity_ms=1,
)

LAMBDA_ARM64 = ProductPrices(
    product="lambda-arm64",
    name="AWS Lambda (arm64)",
    provider="aws",
    source=_LAMBDA_SOURCE,
    read_on=READ_ON,
    request_price=_LAMBDA_REQUEST,
    memory_unit="GB-s",
    memory_tiers=(
        PriceTier(Decimal(7_500_000_000), _d("0.0000133334")),
        PriceTier(Decimal(18_750_000_000), _d("0.0000120001")),
        PriceTier(None, _d("0.0000106667")),
    ),
    free=_LAMBDA_FREE,
    granularity_ms=1,
)

# Cloud Functions (1st gen), https://cloud.google.com/functions/pricing-1stgen
# (formerly /functions/pricing), Tier 1 prices:
# - invocations: "First 2 million Free, Beyond 2 million $0.40" per million;
# - "Compute time is measured in 100ms increments, rounded up to the nearest
#   increment. For example, a function executing for 260ms would be billed as 300ms";
# - $0.0000025 per GB-second and $0.0000100 per GHz-second;
# - free tier 400,000 GB-seconds and 200,000 GHz-seconds a month
#   (https://cloud.google.com/free/docs/free-cloud-features: "2 million invocations
#   per month ..., 400,000 GB-seconds, 200,000 GHz-seconds of compute time").
# The memory sizes and their clock come from the page's compute-time table (128MB
# 200MHz ... 8192MB 4.8GHz), which agrees with
# https://cloud.google.com/functions/1stgendocs/configuring/memory (".083 vCPU" ...
# "2 vCPU", "1 vCPU is equal to 2.4GHz"). The page's price per 100ms for each size
# ($0.000000231 for 128MB ... $0.000006800 for 8192MB) follows from these rates.
GCF_GEN1 = ProductPrices(
    product="gcf-gen1",
    name="Cloud Functions (1st gen)",
    provider="gcp",
    source="https://cloud.google.com/functions/pricing-1stgen",
    read_on=READ_ON,
    request_price=_d("0.40") / MILLION,
    memory_unit="GB-s",
    memory_tiers=(PriceTier(None, _d("0.0000025")),),
    free=FreeTier(requests=Decimal(2_000_000), memory_seconds=Decimal(400_000), cpu_seconds=Decimal(200_000)),
    granularity_ms=100,
    cpu_unit="GHz-s",
    cpu_price=_d("0.0000100"),
    cpu_tiers=(
        CpuTier(128, _d("0.2")),
        CpuTier(256, _d("0.4")),
        CpuTier(512, _d("0.8")),
        CpuTier(1024, _d("1.4")),
        CpuTier(2048, _d("2.4")),
        CpuTier(4096, _d("4.8")),
        CpuTier(8192, _d("4.8")),
    ),
    memory_sizes_fixed=True,
)

# Cloud Functions (2nd gen), now "Cloud Run functions", is billed as a Cloud Run
# service with CPU allocated only during requests, https://cloud.google.com/run/pricing
# (Tier 1): "$0.00002400 / vCPU-second beyond free tier", $0.00000250 per GiB-second,
# $0.40 per million requests; free "First 180,000 vCPU-seconds", "First 360,000
# GiB-seconds", "2 million requests" a month; usage "rounded up to the nearest 100
# millisecond". The vCPU a function gets by default for its memory is the table at
# https://cloud.google.com/functions/docs/configuring/memory (128 MiB .083 vCPU ...
# 32 GiB 8 vCPU); a function deployed with --cpu overrides it (``Usage.vcpu``).
GCF_GEN2 = ProductPrices(
    product="gcf-gen2",
    name="Cloud Functions (2nd gen)",
    provider="gcp",
    source="https://cloud.google.com/run/pricing",
    read_on=READ_ON,
    request_price=_d("0.40") / MILLION,
    memory_unit="GiB-s",
    memory_tiers=(PriceTier(None, _d("0.0000025")),),
    free=FreeTier(requests=Decimal(2_000_000), memory_seconds=Decimal(360_000), cpu_seconds=Decimal(180_000)),
    granularity_ms=100,
    cpu_unit="vCPU-s",
    cpu_price=_d("0.000024"),
    cpu_tiers=(
        CpuTier(128, _d("0.083")),
        CpuTier(256, _d("0.167")),
        CpuTier(512, _d("0.333")),
        CpuTier(1024, _d("0.583")),
        CpuTier(2048, _d("1")),
        CpuTier(4096, _d("2")),
        CpuTier(8192, _d("2")),
        CpuTier(16384, _d("4")),
        CpuTier(32768, _d("8")),
    ),
)

PRICES: Mapping[Product, ProductPrices] = MappingProxyType({
    p.product: p for p in (LAMBDA_X86, LAMBDA_ARM64, GCF_GEN1, GCF_GEN2)
})
