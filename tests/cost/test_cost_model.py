"""The cost model against worked examples, to the cent.

Unless a test says otherwise, a bill includes the product's monthly free tier and
``billed_ms`` is the average billed duration of one invocation.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest

from emulator.cost.model import (
    Usage,
    Workload,
    account_bill,
    mean_billed_ms,
    monthly_bill,
    percentile,
    price,
    projected_invocations,
    stats,
    workload,
)
from emulator.cost.prices import PRICES, PRODUCTS


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# --- the worked examples of issue 6 -----------------------------------------------

def test_5m_requests_512mb_400ms_on_x86_is_10_80():
    bill = monthly_bill("lambda-x86_64", 5_000_000, 512, billed_ms=400)
    # 5M - 1M free = 4M requests x $0.20/M = $0.80
    assert bill.requests.billable == 4_000_000
    assert cents(bill.requests.cost) == Decimal("0.80")
    # 5M x 0.4 s x 0.5 GB = 1,000,000 GB-s; - 400,000 free = 600,000 x $0.0000166667 = $10.00002
    assert bill.memory.quantity == 1_000_000
    assert bill.memory.billable == 600_000
    assert bill.memory.cost == Decimal("10.00002")
    assert bill.cpu is None
    assert bill.cents == Decimal("10.80")


def test_the_same_on_arm64_is_8_80():
    bill = monthly_bill("lambda-arm64", 5_000_000, 512, billed_ms=400)
    # 600,000 GB-s x $0.0000133334 = $8.00004, plus the same $0.80 of requests:
    # $8.80004, which rounds to $8.80 exactly.
    assert bill.total == Decimal("8.80004")
    assert bill.cents == Decimal("8.80")


def test_5m_requests_1gb_3s_is_244_13():
    bill = monthly_bill("lambda-x86_64", 5_000_000, 1024, billed_ms=3000)
    # 15,000,000 GB-s - 400,000 = 14,600,000 x $0.0000166667 = $243.33382, + $0.80
    assert bill.memory.cost == Decimal("243.33382")
    assert bill.cents == Decimal("244.13")


def test_720_a_month_at_2gb_and_300s_is_0_53_on_lambda_x86_with_its_free_tier():
    # An hourly job over a 30-day month: 720 x 300 s x 2 GB = 432,000 GB-s. Only
    # Lambda x86 after its free tier comes to $0.53: 32,000 GB-s x $0.0000166667 =
    # $0.5333, and 720 requests are inside the free million. Without the free tier
    # it would be $7.20; the other products give other figures.
    x86 = monthly_bill("lambda-x86_64", 720, 2048, billed_ms=300_000)
    assert x86.memory.quantity == 432_000
    assert x86.memory.billable == 32_000
    assert x86.requests.cost == 0
    assert x86.cents == Decimal("0.53")
    assert cents(x86.gross) == Decimal("7.20")
    assert monthly_bill("lambda-arm64", 720, 2048, billed_ms=300_000).cents == Decimal("0.43")
    # gen1: 2048MB is 2.4 GHz, so 518,400 GHz-s - 200,000 free = $3.184, + $0.08 of GB-s.
    assert monthly_bill("gcf-gen1", 720, 2048, billed_ms=300_000).cents == Decimal("3.26")
    # gen2: 2 GiB is 1 vCPU: 36,000 vCPU-s x $0.000024 + 72,000 GiB-s x $0.0000025.
    assert monthly_bill("gcf-gen2", 720, 2048, billed_ms=300_000).cents == Decimal("1.04")


@pytest.mark.parametrize("product", PRODUCTS)
def test_1m_a_month_at_512mb_and_200ms_is_free_everywhere(product):
    bill = monthly_bill(product, 1_000_000, 512, billed_ms=200)
    assert bill.total == 0
    assert bill.gross > 0
    assert bill.free_tier_credit == bill.gross


# --- AWS's own examples, https://aws.amazon.com/lambda/pricing/ --------------------

def test_aws_example_mobile_backend():
    # "3 million requests ... 120 ms ... 1536 MB of memory, on an x86 based processor":
    # 540,000 GB-s - 400,000 = 140,000 x $0.0000166667 = $2.33; 2M requests = $0.40; $2.73.
    bill = monthly_bill("lambda-x86_64", 3_000_000, 1536, billed_ms=120)
    assert bill.memory.quantity == 540_000
    assert cents(bill.memory.cost) == Decimal("2.33")
    assert cents(bill.requests.cost) == Decimal("0.40")
    assert bill.cents == Decimal("2.73")


def test_aws_example_customer_support_nlp():
    # "six million requests ... 280 ms ... 4096 MB of memory on an x86": compute
    # 6,320,000 billable GB-s = $105.33, requests $1. The page's $106.41 adds $0.08
    # of ephemeral storage, which emu does not model.
    bill = monthly_bill("lambda-x86_64", 6_000_000, 4096, billed_ms=280)
    assert bill.memory.billable == 6_320_000
    assert cents(bill.memory.cost) == Decimal("105.33")
    assert cents(bill.requests.cost) == Decimal("1.00")
    assert bill.cents == Decimal("106.33")


def test_aws_example_durable_claims_on_arm():
    # 1M executions x 2 invocations, 32 s of compute each at 1 GB on Arm:
    # 31,600,000 billable GB-s x $0.0000133334 = $421.34; 1M billable requests = $0.20.
    bill = monthly_bill("lambda-arm64", 2_000_000, 1024, billed_ms=16_000)
    assert bill.memory.billable == 31_600_000
    assert cents(bill.memory.cost) == Decimal("421.34")
    assert cents(bill.requests.cost) == Decimal("0.20")


def test_lambda_volume_tiers_apply_beyond_6_billion_gb_seconds():
    # 7B GB-s on x86: 6B x $0.0000166667 + 1B x $0.000015, less 400,000 free at the first price.
    bill = price("lambda-x86_64", Workload(Decimal(0), Decimal(7_000_000_000)))
    assert bill.memory.gross == Decimal("115000.2")
    assert bill.memory.cost == Decimal("115000.2") - Decimal("6.66668")


# --- Cloud Functions ----------------------------------------------------------------

@pytest.mark.parametrize("memory_mb, per_100ms", [
    (128, "0.000000231"),
    (256, "0.000000463"),
    (512, "0.000000925"),
    (1024, "0.000001650"),
    (2048, "0.000002900"),
    (4096, "0.000005800"),
    (8192, "0.000006800"),
])
def test_gen1_rates_and_clock_tiers_reproduce_googles_price_per_100ms(memory_mb, per_100ms):
    # The gen1 pricing page lists each memory size with its clock and its "Price/100ms
    # (Tier 1 Price)"; those prices are the GB-s and GHz-s rates applied to the size.
    bill = price("gcf-gen1", workload("gcf-gen1", 1, memory_mb, 100))
    compute = bill.memory.gross + bill.cpu.gross
    assert compute.quantize(Decimal("1e-9"), rounding=ROUND_HALF_UP) == Decimal(per_100ms)


def test_gen1_10m_invocations_at_128mb_and_300ms():
    # Worked by hand from the gen1 rates (the stored copies of Google's page we could
    # read stop before its examples section):
    # invocations 10M - 2M free = 8M x $0.0000004 = $3.20;
    # 0.125 GB x 0.3 s x 10M = 375,000 GB-s, inside the 400,000 free;
    # 0.2 GHz x 0.3 s x 10M = 600,000 GHz-s - 200,000 free = 400,000 x $0.00001 = $4.00.
    bill = monthly_bill("gcf-gen1", 10_000_000, 128, billed_ms=300)
    assert cents(bill.requests.cost) == Decimal("3.20")
    assert bill.memory.quantity == 375_000
    assert bill.memory.cost == 0
    assert bill.cpu.unit == "GHz-s"
    assert bill.cpu.quantity == 600_000
    assert cents(bill.cpu.cost) == Decimal("4.00")
    assert bill.cents == Decimal("7.20")


def test_gen1_rounds_each_invocation_up_to_100ms():
    # The page's own example: "a function executing for 260ms would be billed as 300ms".
    assert PRICES["gcf-gen1"].billed_ms(260) == 300
    # 300 + 100 + 100 + 200 ms
    assert mean_billed_ms("gcf-gen1", [260.0, 1.0, 100.0, 100.01]) == Decimal(175)


def test_gen1_bills_the_size_a_function_gets():
    # gen1 has fixed sizes: 300 MB runs, and is billed, as 512MB at 800MHz.
    load = workload("gcf-gen1", 1000, 300, 1000)
    assert load.memory_seconds == 500
    assert load.cpu_seconds == 800


def test_gen2_10m_invocations_at_512mib_and_200ms():
    # Worked by hand from Cloud Run's request-based rates. 512 MiB gets .333 vCPU:
    # 666,000 vCPU-s - 180,000 free = 486,000 x $0.000024 = $11.664;
    # 1,000,000 GiB-s - 360,000 free = 640,000 x $0.0000025 = $1.60; requests $3.20.
    bill = monthly_bill("gcf-gen2", 10_000_000, 512, billed_ms=200)
    assert bill.cpu.unit == "vCPU-s"
    assert bill.cpu.quantity == 666_000
    assert bill.memory.unit == "GiB-s"
    assert bill.memory.billable == 640_000
    assert bill.total == Decimal("16.464")
    assert bill.cents == Decimal("16.46")


def test_gen2_with_a_whole_vcpu():
    # --cpu=1: 2,000,000 vCPU-s - 180,000 = 1,820,000 x $0.000024 = $43.68, + $1.60 + $3.20.
    bill = monthly_bill("gcf-gen2", 10_000_000, 512, billed_ms=200, vcpu=1)
    assert cents(bill.cpu.cost) == Decimal("43.68")
    assert bill.cents == Decimal("48.48")


def test_gen2_rounds_each_invocation_up_to_100ms():
    assert [PRICES["gcf-gen2"].billed_ms(d) for d in (0.0, 99.9, 100.0, 100.5)] == [100, 100, 100, 200]


def test_a_16gib_function_has_no_gen1_size():
    usage = Usage("big", "gcp", 16384, (10.0,))
    assert usage.products() == ("gcf-gen2",)
    assert Usage("small", "gcp", 256, (10.0,), generation=1).products() == ("gcf-gen1", "gcf-gen2")


# --- rounding, projection, percentiles ----------------------------------------------

def test_lambda_rounds_each_invocation_up_to_1ms():
    assert [PRICES["lambda-x86_64"].billed_ms(d) for d in (0.2, 1.0, 1.01, 12.3)] == [1, 1, 2, 13]


def test_measured_durations_stand_for_the_month_in_proportion():
    # Two measured invocations, 12.3 and 99.2 ms, billed 13 and 100 ms: 56.5 ms on average.
    bill = monthly_bill("lambda-x86_64", 1_000_000, 1024, durations_ms=[12.3, 99.2])
    assert bill.memory.quantity == Decimal("56500")


def test_monthly_bill_takes_one_kind_of_duration():
    with pytest.raises(ValueError):
        monthly_bill("lambda-x86_64", 1, 128)
    with pytest.raises(ValueError):
        monthly_bill("lambda-x86_64", 1, 128, billed_ms=1, durations_ms=[1.0])
    with pytest.raises(ValueError):
        monthly_bill("lambda-x86_64", 1, 128, billed_ms=1, vcpu=1)


def test_the_free_tier_is_the_accounts_once():
    # Two functions of 1M requests and 300,000 GB-s each: free alone, not together.
    alone = [workload("lambda-x86_64", 1_000_000, 512, 600) for _ in range(2)]
    assert all(price("lambda-x86_64", w).total == 0 for w in alone)
    together = account_bill("lambda-x86_64", alone)
    # 1M billable requests = $0.20; 200,000 billable GB-s = $3.33334.
    assert together.requests.billable == 1_000_000
    assert together.memory.billable == 200_000
    assert together.cents == Decimal("3.53")


def test_projection_extrapolates_the_recorded_rate_over_30_days():
    usage = Usage("f", "aws", 128, (5.0,) * 10, span_s=60.0)
    assert projected_invocations(usage) == 432_000  # 10 / 60 s x 2,592,000 s
    assert projected_invocations(usage, monthly=5_000_000) == 5_000_000
    assert projected_invocations(Usage("f", "aws", 128, (5.0,))) is None
    assert projected_invocations(Usage("f", "aws", 128, (), span_s=60.0)) is None


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(100, 0, -1)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert percentile([7.0], 95) == 7.0
    assert percentile([], 50) is None


def test_stats_bill_a_function_on_its_own_product():
    aws = stats(Usage("f", "aws", 512, (0.4, 10.2, 3.0)))
    assert aws.billed_ms == 1 + 11 + 3
    assert aws.gb_seconds == Decimal("0.0075")  # 15 ms x 0.5 GB
    gcp = stats(Usage("g", "gcp", 256, (0.4, 10.2, 130.0), generation=1))
    assert gcp.billed_ms == 100 + 100 + 200
    assert gcp.gb_seconds == Decimal("0.1")


def test_every_product_names_its_source_and_date():
    for p in PRICES.values():
        assert p.source.startswith("https://")
        assert p.read_on.year >= 2025
