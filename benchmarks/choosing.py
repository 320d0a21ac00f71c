"""Benchmarks of choosing (contract section 6) over HTTP: rank, compare, CSV export,
the Ashby chart. Targets (issue 9): at 100k materials, rank of 10,000 candidates on
5 criteria p95 < 300 ms; compare of 20 p95 < 20 ms; CSV export of every material at
>= 20,000 rows/s with the server's RSS < 300 MB; a chart of 10,000 materials < 1 s."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

RANK_CANDIDATES = 10_000
RANK_CRITERIA = [
    {"property": "youngs_modulus", "goal": "target", "target": 18, "unit": "GPa", "weight": 3},
    {"property": "tensile_strength", "goal": "max", "weight": 2},
    {"property": "density", "goal": "min", "weight": 1},
    {"property": "compressive_strength", "goal": "max", "weight": 1},
    {"property": "elongation_at_break", "goal": "max", "weight": 1},
]
#: About 10% of a synthetic corpus: 10,000 of 100,000 (see biomatdb.synth.CLASSES).
CHART_QUERY = "x=density&y=youngs_modulus&class=composite"
TARGETS = {
    "rank": ("p95 < 300 ms", lambda r: r["p95"] < 300),
    "compare": ("p95 < 20 ms", lambda r: r["p95"] < 20),
    "export": (
        ">= 20,000 rows/s, RSS < 300 MB",
        lambda r: r["rows_per_s"] >= 20_000 and r["rss_mb"] < 300,
    ),
    "chart": ("p95 < 1,000 ms", lambda r: r["p95"] < 1000),
    "export-gzip": ("(no target)", lambda r: None),
}


def slug(index: int) -> str:
    return f"synth-{index:07d}"


def measure(
    port: int,
    size: int,
    iterations: int,
    timed: Callable[[Callable[[], Any], int], tuple[float, float]],
    rss_mb: Callable[[], float],
) -> list[dict[str, Any]]:
    """The four measurements against a server on ``port`` (a fresh one: the export's
    memory is read from its peak RSS)."""
    client = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=600)
    rows: list[dict[str, Any]] = []
    try:
        ids = [slug(i) for i in range(min(size, RANK_CANDIDATES))]
        rank_body = {"ids": ids, "criteria": RANK_CRITERIA}
        ranked = client.post("/api/v1/rank", json=rank_body)
        ranked.raise_for_status()

        def rank() -> None:
            client.post("/api/v1/rank", json=rank_body).raise_for_status()

        p50, p95 = timed(rank, iterations)
        meta = ranked.json()["meta"]
        rows.append(
            {
                "name": "rank",
                "what": f"{len(ids):,} candidates ({meta['total']:,} ranked, "
                f"{len(meta['excluded']):,} lacking a value), 5 criteria, TOPSIS",
                "p50": p50,
                "p95": p95,
            }
        )
        compared = ",".join(slug(i * max(1, size // 20)) for i in range(20))

        def compare() -> None:
            client.get(f"/api/v1/compare?ids={compared}").raise_for_status()

        p50, p95 = timed(compare, iterations)
        rows.append(
            {"name": "compare", "what": "20 materials, every property", "p50": p50, "p95": p95}
        )
        rows.append(_export(client, size, rss_mb, "identity"))
        rows.append(_export(client, size, rss_mb, "gzip"))
        chart = client.get(f"/api/v1/charts/ashby?{CHART_QUERY}&format=json").json()

        def draw() -> None:
            client.get(f"/api/v1/charts/ashby?{CHART_QUERY}").raise_for_status()

        p50, p95 = timed(draw, max(3, iterations // 3))
        rows.append(
            {
                "name": "chart",
                "what": f"SVG of {chart['meta']['total']:,} materials "
                "(density against Young's modulus, class=composite)",
                "p50": p50,
                "p95": p95,
            }
        )
    finally:
        client.close()
    for row in rows:
        label, check = TARGETS[row["name"]]
        row["target"] = label
        row["met"] = check(row)
    return rows


def _export(
    client: httpx.Client, size: int, rss_mb: Callable[[], float], encoding: str
) -> dict[str, Any]:
    """Every material as CSV, streamed; rows counted as lines as they arrive (the
    synthetic corpus has no line breaks inside cells), so that the client's own
    parsing does not share the two cores with the server being measured.

    ``identity``: what the server produces (the target); ``gzip``: the same with the
    compression a client gets by asking for it (on loopback it only costs CPU; over a
    network the 5x smaller body is usually the faster one)."""
    start = time.perf_counter()
    lines = 0
    headers = {"Accept-Encoding": encoding}
    with client.stream("GET", "/api/v1/materials?format=csv", headers=headers) as response:
        response.raise_for_status()
        for chunk in response.iter_bytes():
            lines += chunk.count(b"\n")
    seconds = time.perf_counter() - start
    count = lines - 1  # the header
    return {
        "name": "export" if encoding == "identity" else "export-gzip",
        "what": f"CSV of every material ({count:,} rows of {size:,}), {encoding}",
        "seconds": seconds,
        "rows_per_s": count / seconds,
        "rss_mb": rss_mb(),
    }
