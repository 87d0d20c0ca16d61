"""``emu cost`` rendering: the aligned table and the JSON, from plain ``Usage`` values."""

from __future__ import annotations

import json

from emulator.cost.model import Usage
from emulator.cost.report import render_json, render_table

API = Usage("api", "aws", 512, (400.0,) * 4, span_s=2.0)
THUMB = Usage("thumb", "gcp", 256, (260.0, 90.0, 410.0), span_s=10.0, generation=1)
BIG = Usage("big", "gcp", 16384, (1000.0,))


def _block(text: str, title: str) -> list[str]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(title)) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i] or lines[i].startswith(("*", "No "))), len(lines))
    return lines[start:end]


def test_table_measures_and_projects_each_function():
    text = render_table([API, THUMB], monthly=5_000_000)
    measured = _block(text, "Measured")
    assert measured[0].split() == ["FUNCTION", "CLOUD", "MEMORY", "INVOCATIONS", "P50", "MS", "P95", "MS",
                                   "BILLED", "MS", "GB-S"]
    assert measured[1].split() == ["api", "aws", "512", "MB", "4", "400.0", "400.0", "1,600", "0.8"]
    assert measured[2].split() == ["thumb", "gcp", "256", "MB", "3", "260.0", "410.0", "900", "0.225"]

    projected = _block(text, "Projected month (5,000,000 invocations a month per function)")
    # The last column is right-aligned, so every line of the table is as long as its header.
    assert {len(line) for line in projected} == {len(projected[0])}
    rows = [line.split("  ") for line in projected[1:]]
    cells = [[c.strip() for c in row if c.strip()] for row in rows]
    assert cells[0][:2] == ["api", "AWS Lambda (x86_64) *"]
    assert cells[0][-1] == "$10.80"
    assert cells[1][:2] == ["api", "AWS Lambda (arm64)"]
    assert cells[1][-1] == "$8.80"
    assert [c[1] for c in cells[2:]] == ["Cloud Functions (1st gen) *", "Cloud Functions (2nd gen)"]
    assert "(together)" not in text  # no product is shared by two functions, and no note about it
    assert "https://aws.amazon.com/lambda/pricing/" in text
    assert "https://cloud.google.com/run/pricing" in text


def test_table_bills_functions_sharing_a_product_together():
    other = Usage("other", "aws", 512, (400.0,), span_s=1.0)
    text = render_table([API, other], monthly=5_000_000)
    together = [line for line in text.splitlines() if line.startswith("(together)")]
    assert len(together) == 2
    # 10M requests and 2,000,000 GB-s with one free tier: $1.80 + $26.67.
    assert together[0].split()[-1] == "$28.47"


def test_table_says_when_there_is_no_rate_to_extrapolate():
    text = render_table([API, BIG])
    assert "No rate to extrapolate from for big: give --monthly N." in text
    # api: 4 invocations over 2 s, so 5,184,000 a month.
    assert "5,184,000" in text


def test_table_with_no_invocations():
    assert render_table([]) == "No invocations recorded.\n"


def test_json_carries_line_items_and_sources():
    data = json.loads(render_json([API, BIG], monthly=5_000_000))
    assert data["monthly"] == 5_000_000
    assert data["month_days"] == 30
    api, big = sorted(data["functions"], key=lambda f: f["function"])
    assert api["product"] == "lambda-x86_64"
    assert api["architecture"] == "x86_64" and api["generation"] is None
    assert api["duration_ms"] == {"p50": 400.0, "p95": 400.0}
    assert api["billed_ms"] == 1600
    x86, arm = api["bills"]
    assert (x86["product"], x86["configured"], x86["total_cents"]) == ("lambda-x86_64", True, 10.8)
    assert (arm["product"], arm["configured"], arm["total_cents"]) == ("lambda-arm64", False, 8.8)
    requests = x86["lines"][0]
    assert requests == {"name": "requests", "unit": "requests", "quantity": 5_000_000.0, "free": 1_000_000.0,
                        "billable": 4_000_000.0, "gross": 1.0, "credit": 0.2, "cost": 0.8}
    assert [b["product"] for b in big["bills"]] == ["gcf-gen2"]
    assert [line["unit"] for line in big["bills"][0]["lines"]] == ["requests", "GiB-s", "vCPU-s"]
    assert data["totals"] == []
    assert {p["product"]: p["source"] for p in data["prices"]}["gcf-gen1"] == \
        "https://cloud.google.com/functions/pricing-1stgen"


def test_json_without_a_rate_has_no_bills():
    data = json.loads(render_json([BIG]))
    assert data["functions"][0]["invocations_per_month"] is None
    assert data["functions"][0]["bills"] == []
