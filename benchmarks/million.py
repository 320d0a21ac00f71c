"""A million materials on PostgreSQL (issue 13): ``python -m benchmarks --million``.

The corpus of ``biomatdb synth`` at 1,000,000 materials (15M property values),
imported into PostgreSQL by ``biomatdb import``, then: each search of the mix in
process (counts cached, and cold: recounted on every call) and over HTTP, and the
load test at two workers as the service's own ``/metrics`` saw it (requests by
status, the latency histogram) beside what wrk saw. The section it writes in
docs/benchmarks.md is its own: the rest of the page stays as it was.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.report import replace_section

SIZE = 1_000_000
HEADING = "## A million materials (PostgreSQL)"
#: The goal for a selective search at a million materials (issue 13, part 7).
SELECTIVE_P95_MS = 100
#: A search is selective when it matches at most this share of the materials (in the
#: mix: the full-text searches and regulatory + country, about 2-4% each; the detail
#: fetch, one material). The property ranges match 10-25%, the sort walk and the
#: facets every material.
SELECTIVE_SHARE = 0.05

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def scrape(port: int) -> Samples:
    """Every sample of the server's ``/metrics`` (summed over its workers)."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def _delta(before: Samples, after: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        labels: value - before.get((metric, labels), 0.0)
        for (metric, labels), value in after.items()
        if metric == name
    }


def observed(before: Samples, after: Samples, seconds: float) -> dict[str, Any]:
    """What the service counted between two scrapes: requests per second and by status
    class, and the p50 / p99 of its latency histogram (the upper bound of the bucket
    each falls in, in ms), over every route."""
    requests = _delta(before, after, "biomatdb_http_requests_total")
    by_status: dict[str, int] = {}
    for labels, count in requests.items():
        status = dict(labels).get("status", "?")
        by_status[status[0] + "xx"] = by_status.get(status[0] + "xx", 0) + round(count)
    buckets: dict[float, float] = {}
    for labels, count in _delta(
        before, after, "biomatdb_http_request_duration_seconds_bucket"
    ).items():
        bound = float(dict(labels)["le"])
        buckets[bound] = buckets.get(bound, 0.0) + count
    total = sum(by_status.values())
    background = {
        dict(labels).get("outcome", "?"): round(n)
        for labels, n in _delta(before, after, "biomatdb_background_facet_counts_total").items()
        if n
    }
    return {
        "facets_deferred": round(
            sum(_delta(before, after, "biomatdb_facets_deferred_total").values())
        ),
        "background_counts": dict(sorted(background.items())),
        "requests": total,
        "rps": total / seconds if seconds else 0.0,
        "by_status": dict(sorted(by_status.items())),
        "p50_le_ms": _quantile(buckets, 0.50),
        "p99_le_ms": _quantile(buckets, 0.99),
    }


def _quantile(cumulative: Mapping[float, float], q: float) -> float | None:
    """The upper bound (ms) of the bucket holding quantile ``q`` of a cumulative
    histogram; None when it is empty."""
    if not cumulative:
        return None
    bounds = sorted(cumulative)
    count = cumulative[bounds[-1]]  # +Inf holds every observation
    if count <= 0:
        return None
    for bound in bounds:
        if cumulative[bound] >= q * count:
            return bound * 1000
    return bounds[-1] * 1000


def render(results: dict[str, Any]) -> list[str]:
    """The section: import, each search, the load."""
    imports = [r for r in results.get("imports", []) if r["size"] == SIZE]
    queries = [r for r in results.get("queries", []) if r["size"] == SIZE]
    loads = [r for r in results.get("load", []) if r["size"] == SIZE]
    lines = [
        HEADING,
        "",
        "`python -m benchmarks --million` (`make bench-million`): the synthetic corpus at "
        f"{SIZE:,} materials on PostgreSQL, measured {str(results.get('started', ''))[:10]}. "
        "It rewrites this section alone.",
        "",
    ]
    for r in imports:
        lines += [
            "| import | values | time | values/s | bare executemany | ratio | peak RSS | "
            "database size |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| `biomatdb import` of one {r.get('bundle_mb', 0):,.0f} MB JSON file into an "
            f"empty database | {r['values']:,} | {r['seconds']:,.0f} s | "
            f"{r['values'] / r['seconds']:,.0f} | {r['bare_seconds']:,.0f} s | "
            f"{r['seconds'] / r['bare_seconds']:.1f}x | {r['rss_mb']:,.0f} MB | "
            f"{r.get('database_mb', 0):,.0f} MB |",
            "",
        ]
    if queries:
        lines += [
            "Each search of the mix, milliseconds p50 / p95: *service* in process with its "
            "counts cached per data version, *cold* with totals and facets recounted on "
            "every call, *HTTP* through `biomatdb serve` (one worker, no answers kept). "
            f"Goal: p95 < {SELECTIVE_P95_MS} ms for a selective search (one matching at "
            f"most {SELECTIVE_SHARE:.0%} of the materials).",
            "",
            "| query | matches | service | service, cold | HTTP | selective: p95 < 100 ms |",
            "| --- | ---: | ---: | ---: | ---: | --- |",
        ]
        for r in queries:
            matches = r.get("matches")
            selective = matches is not None and matches <= SELECTIVE_SHARE * SIZE
            met = ("yes" if r["service"][1] < SELECTIVE_P95_MS else "**no**") if selective else "-"
            http = _ms(r["http"]) if r.get("http") else r.get("http_error", "-")
            answers, pending = r.get("http_answers") or (0, 0)
            if pending:
                http += f" ({pending} of {answers} answers with facets pending)"
            lines.append(
                f"| {r['title']} | {'' if matches is None else f'{matches:,}'} | "
                f"{_ms(r['service'])} | {_ms(r.get('service_cold'))} | {http} | {met} |"
            )
        lines.append("")
    for r in loads:
        seen = r.get("observed") or {}
        statuses = ", ".join(f"{k} {v:,}" for k, v in (seen.get("by_status") or {}).items())
        warm = r.get("warm_up") or {}
        lines += [
            f"Load: wrk (2 threads, 16 connections) cycling through the mix for {r['seconds']} s "
            f"against `biomatdb serve --workers {r['workers']}` (answers kept, as deployed), "
            "after a warm-up; *observed*: the difference of two scrapes of the service's "
            "`/metrics` around the run (summed over the workers; a quantile is the upper "
            "bound of its histogram bucket).",
            "",
        ]
        if warm:
            lines += [
                f"Warm-up, from the server's start until every answer of the mix was whole: "
                f"{warm['seconds']:g} s, {warm['answers']:,} answers, of which "
                f"{warm['facets_pending']:,} had facets pending (being counted in the "
                f"background) and {warm['unavailable']:,} were 503 (a search whose total, "
                "counted cold while other searches' were, ran over the 5 s budget)"
                + (
                    "."
                    if warm.get("settled", True)
                    else "; it had not settled when it was cut off."
                ),
                "",
            ]
        lines += [
            "| | requests/s | p50 | p99 | answers | peak RSS (all workers) |",
            "| --- | ---: | ---: | ---: | --- | ---: |",
            f"| wrk | {r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | "
            f"{r['errors']} errors | {r['rss']:.0f} MB |",
            f"| /metrics | {seen.get('rps', 0):.0f} | <= {_bound(seen.get('p50_le_ms'))} | "
            f"<= {_bound(seen.get('p99_le_ms'))} | {statuses} | |",
            "",
            f"Facets left out of an answer (`biomatdb_facets_deferred_total`): "
            f"{seen.get('facets_deferred', 0):,}; counted in the background "
            "(`biomatdb_background_facet_counts_total`): "
            + (
                ", ".join(f"{k} {v:,}" for k, v in seen.get("background_counts", {}).items())
                or "none"
            )
            + ".",
            "",
        ]
    return lines


def _ms(pair: Any) -> str:
    return "-" if not pair else f"{pair[0]:.1f} / {pair[1]:.1f}"


def _bound(ms: float | None) -> str:
    return "-" if ms is None else f"{ms:g} ms"


def replace(document: str, results: dict[str, Any]) -> str:
    """``document`` with this section replaced by (or appended with) these figures."""
    return replace_section(document, HEADING, "\n".join(render(results)))
