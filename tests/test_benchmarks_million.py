"""The million-material run's arithmetic: what /metrics saw between two scrapes, and
its section of docs/benchmarks.md replaced in place."""

from __future__ import annotations

from typing import Any

import pytest
from benchmarks import million
from prometheus_client.parser import text_string_to_metric_families

pytestmark = pytest.mark.dialect_free


def samples(text: str) -> million.Samples:
    found: million.Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def exposition(
    ok: int,
    missing: int,
    buckets: dict[str, int],
    deferred: int = 0,
    background: dict[str, int] | None = None,
) -> str:
    route = 'method="GET",route="/api/v1/materials"'
    lines = [
        "# TYPE biomatdb_facets_deferred_total counter",
        f'biomatdb_facets_deferred_total{{facet="country"}} {deferred}',
        "# TYPE biomatdb_background_facet_counts_total counter",
        *(
            f'biomatdb_background_facet_counts_total{{outcome="{k}"}} {n}'
            for k, n in (background or {}).items()
        ),
        "# TYPE biomatdb_http_requests_total counter",
        f'biomatdb_http_requests_total{{{route},status="200"}} {ok}',
        f'biomatdb_http_requests_total{{{route},status="404"}} {missing}',
        "# TYPE biomatdb_http_request_duration_seconds histogram",
    ]
    lines += [
        f'biomatdb_http_request_duration_seconds_bucket{{{route},le="{le}"}} {n}'
        for le, n in buckets.items()
    ]
    lines.append(f"biomatdb_http_request_duration_seconds_count{{{route}}} {ok + missing}")
    return "\n".join(lines) + "\n"


def test_what_metrics_saw_between_two_scrapes() -> None:
    before = samples(
        exposition(5, 0, {"0.01": 5, "0.05": 5, "0.25": 5, "+Inf": 5}, 2, {"counted": 1})
    )
    # 100 more answers: 90 within 10 ms, 9 more within 50 ms, one within 250 ms; five
    # facets left to the background, which counted two and gave up on one.
    after = samples(
        exposition(
            104,
            1,
            {"0.01": 95, "0.05": 104, "0.25": 105, "+Inf": 105},
            7,
            {"counted": 3, "timed_out": 1},
        )
    )
    seen = million.observed(before, after, seconds=20)
    assert seen == {
        "facets_deferred": 5,
        "background_counts": {"counted": 2, "timed_out": 1},
        "requests": 100,
        "rps": 5.0,
        "by_status": {"2xx": 99, "4xx": 1},
        "p50_le_ms": 10.0,
        "p99_le_ms": 50.0,
    }


def test_no_answers_no_quantiles() -> None:
    same = samples(exposition(5, 0, {"0.01": 5, "+Inf": 5}))
    seen = million.observed(same, same, seconds=20)
    assert (seen["requests"], seen["p50_le_ms"], seen["p99_le_ms"]) == (0, None, None)


def test_the_section_is_replaced_in_place() -> None:
    results: dict[str, Any] = {
        "started": "2026-12-02T18:00:00+00:00",
        "imports": [
            {
                "size": million.SIZE,
                "values": 15_000_000,
                "seconds": 1000.0,
                "bare_seconds": 300.0,
                "rss_mb": 250.0,
                "database_mb": 12000.0,
                "bundle_mb": 2400.0,
            }
        ],
        "queries": [
            {
                "size": million.SIZE,
                "title": "Full text",
                "matches": 500,
                "service": (40.0, 120.0),
                "service_cold": (90.0, 150.0),
                "http": (45.0, 130.0),
            },
            {
                "size": million.SIZE,
                "title": "Facets",
                "matches": 1_000_000,
                "service": (2.0, 3.0),
                "service_cold": (10_000.0, 10_500.0),
                "http": (240.0, 260.0),
                "http_answers": [12, 9],
            },
        ],
        "load": [],
    }
    page = "# Benchmarks\n\n## Searches\n\nold\n\n## Memory\n\nkept\n"
    first = million.replace(page, results)
    assert first.startswith(page.rstrip("\n"))
    assert "| Full text | 500 | 40.0 / 120.0 | 90.0 / 150.0 | 45.0 / 130.0 | **no** |" in first
    assert (
        "| Facets | 1,000,000 | 2.0 / 3.0 | 10000.0 / 10500.0 | 240.0 / 260.0 "
        "(9 of 12 answers with facets pending) | - |"
    ) in first
    assert "| 15,000,000 | 1,000 s | 15,000 | 300 s | 3.3x | 250 MB | 12,000 MB |" in first
    results["queries"][0]["service"] = (40.0, 80.0)
    second = million.replace(first + "\n## After\n\nkept too\n", results)
    assert second.count(million.HEADING) == 1
    assert "| Full text | 500 | 40.0 / 80.0 | 90.0 / 150.0 | 45.0 / 130.0 | yes |" in second
    assert second.endswith("## After\n\nkept too\n")
    assert "## Memory\n\nkept" in second


def test_the_load_names_its_warm_up() -> None:
    load = {
        "size": million.SIZE,
        "seconds": 20,
        "workers": 2,
        "rps": 500.4,
        "p50": 30.5,
        "p99": 66.3,
        "errors": 0,
        "rss": 440.0,
        "observed": {
            "rps": 500.0,
            "by_status": {"2xx": 10041},
            "p50_le_ms": 50.0,
            "p99_le_ms": 100.0,
            "facets_deferred": 0,
            "background_counts": {},
        },
        "warm_up": {
            "seconds": 31.5,
            "answers": 320,
            "unavailable": 5,
            "facets_pending": 12,
            "settled": True,
        },
    }
    text = "\n".join(million.render({"load": [load]}))
    assert (
        "Warm-up, from the server's start until every answer of the mix was whole: 31.5 s, "
        "320 answers, of which 12 had facets pending (being counted in the background) and "
        "5 were 503 (a search whose total, counted cold while other searches' were, ran over "
        "the 5 s budget)."
    ) in text
    assert "| wrk | 500 | 30.5 ms | 66.3 ms | 0 errors | 440 MB |" in text
    assert "counted in the background (`biomatdb_background_facet_counts_total`): none." in text
