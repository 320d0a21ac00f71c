"""docs/benchmarks.md from the figures of one run."""

from __future__ import annotations

from typing import Any

TARGET_P95_MS = 50.0


def _ms(pair: tuple[float, float] | list[float] | None) -> str:
    return "-" if not pair else f"{pair[0]:.2f} / {pair[1]:.2f}"


def render(results: dict[str, Any], machine: dict[str, str]) -> str:
    lines = [
        "# Benchmarks",
        "",
        "Produced by `make bench` (`python -m benchmarks`); do not edit by hand. What was "
        "changed to get here, and why the targets that are missed are missed (with the "
        "profiles): [performance.md](performance.md).",
        "",
        "## Machine and versions",
        "",
        "| | |",
        "| --- | --- |",
        *[f"| {k} | {v} |" for k, v in machine.items()],
        "",
        "## Searches",
        "",
        "Milliseconds, p50 / p95, over the fixed mix on a synthetic corpus "
        "(`biomatdb synth --seed 42`). *service*: the search service in process; *HTTP*: "
        "`biomatdb serve` over loopback, one worker, `Accept-Encoding: identity` (gzip is timed "
        "on the export rows); *floor*: the best hand-written SQL for "
        "the same result (page, total, summaries, applications) through the bare driver; "
        "*HTTP/floor* compares p50s (target: within 1.5x + 2 ms). The sort walk is five "
        "pages of 20 following `links.next`.",
        "",
        "",
        "Totals and facet counts are cached per data version (the last change-log number; "
        "any write invalidates them), so repeated searches do not recount; *service, cold* "
        "clears that cache before every call and shows the cost of counting, which the floor "
        "pays every time.",
        "",
        "| database | materials | query | service | service, cold | HTTP | floor | "
        "HTTP/floor (p50) |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results["queries"]:
        if not row.get("http") or not row.get("floor"):  # a layer that answered an error
            lines.append(
                f"| {row['dialect']} | {row['size']:,} | {row['title']} | "
                f"{_ms(row.get('service'))} | {_ms(row.get('service_cold'))} | "
                f"{_ms(row.get('http')) if row.get('http') else row.get('http_error', '-')} | "
                f"{_ms(row.get('floor'))} | - |"
            )
            continue
        ratio = row["http"][0] / row["floor"][0] if row["floor"][0] else 0
        target = row["floor"][0] * 1.5 + 2
        mark = "" if row["http"][0] <= target else " (over)"
        over95 = "" if row["service"][1] < TARGET_P95_MS else " (over 50 ms)"
        lines.append(
            f"| {row['dialect']} | {row['size']:,} | {row['title']} | {_ms(row['service'])}"
            f"{over95} | {_ms(row.get('service_cold'))} | {_ms(row['http'])} | "
            f"{_ms(row['floor'])} | {ratio:.2f}x{mark} |"
        )
    ds_rows = [r for r in results["queries"] if "datasette" in r]
    if ds_rows:
        lines += [
            "",
            "## Against Datasette (same SQLite file)",
            "",
            "The queries Datasette can express: the property range as a filter on the "
            "`property_values` table, the full-text match as SQL on `material_fts`, and facets "
            "on the `materials` table (class and degradable; ours asked for the same two). Both "
            "over HTTP on loopback; milliseconds p50 / p95.",
            "",
            "| materials | query | Datasette | biomatdb | biomatdb/Datasette (p50) |",
            "| ---: | --- | ---: | ---: | ---: |",
        ]
        for row in ds_rows:
            ratio = row["ours_vs_datasette"][0] / row["datasette"][0]
            lines.append(
                f"| {row['size']:,} | {row['title']} | {_ms(row['datasette'])} | "
                f"{_ms(row['ours_vs_datasette'])} | {ratio:.2f}x |"
            )
    lines += ["", *render_choosing(results)]
    lines += ["", *render_imports(results)]
    lines += [
        "",
        "## Memory",
        "",
        "Peak resident memory of the API process during the run.",
        "",
        "| database | materials | peak RSS |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {r['dialect']} | {r['size']:,} | {r['mb']:.0f} MB |" for r in results["rss"]]
    if results["load"]:
        lines += [
            "",
            "## Load",
            "",
            "wrk (2 threads, 16 connections, 10 s timeout) cycling through the search mix "
            "against `biomatdb serve --workers <cores>`, after a warm-up in which every "
            "worker has answered each query (steady state: counts cached).",
            "",
            "| database | materials | workers | duration | requests/s | p50 | p99 | errors | "
            "peak RSS (all workers) |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in results["load"]:
            lines.append(
                f"| {r['dialect']} | {r['size']:,} | {r['workers']} | {r['seconds']} s | "
                f"{r['rps']:.0f} | {r['p50']:.1f} ms | {r['p99']:.1f} ms | {r['errors']} | "
                f"{r['rss']:.0f} MB |"
            )
    sizes = sorted({r["size"] for r in results["queries"]})
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        lines += [
            "",
            f"## Growth: {large:,} against {small:,} materials",
            "",
            "Service-layer p50 at the large size divided by p50 at the small one (target for "
            "selective searches: under 2).",
            "",
            "| database | query | ratio |",
            "| --- | --- | ---: |",
        ]
        by_key = {(r["dialect"], r["size"], r["query"]): r for r in results["queries"]}
        for (dialect, size, name), row in by_key.items():
            if size != large or (dialect, small, name) not in by_key:
                continue
            base = by_key[(dialect, small, name)]["service"][0]
            lines.append(f"| {dialect} | {row['title']} | {row['service'][0] / base:.2f} |")
    lines.append("")
    return "\n".join(lines)


CHOOSING_HEADING = "## Choosing and the web page: rank, compare, export, chart, pages"


def render_choosing(results: dict[str, Any]) -> list[str]:
    """The section on choosing (issue 9's targets), over HTTP on a fresh server."""
    rows = results.get("choosing") or []
    if not rows:
        return []
    lines = [
        CHOOSING_HEADING,
        "",
        "Over HTTP on loopback (`biomatdb serve`, one worker, a fresh process per database "
        "and size). Milliseconds p50 / p95; the export streams every material as CSV "
        "(rows counted by the client as they arrive) and reports rows per second and the server's "
        "peak RSS (`VmHWM`) afterwards. Timed by `benchmarks/choosing.py`; the web pages "
        "(whole HTML answers, their size uncompressed) by `benchmarks/pages.py`. The "
        "server keeps no search answers (`BIOMATDB_RESULT_CACHE_MB=0`), so a repeated "
        "page runs its search again, with totals and facet counts cached per data "
        "version as deployed; the *first view* row asks a new range on every request, "
        "so every count is made afresh. Measured "
        f"{str(results.get('started', ''))[:10]} (`--only-choosing --reuse` rewrites this section "
        "alone).",
        "",
        "| database | materials | what | figures | target | met |",
        "| --- | ---: | --- | ---: | --- | --- |",
    ]
    for row in rows:
        if row["name"].startswith("export"):
            figures = (
                f"{row['seconds']:.1f} s, {row['rows_per_s']:,.0f} rows/s, "
                f"RSS {row['rss_mb']:.0f} MB"
            )
        else:
            figures = f"{row['p50']:.1f} / {row['p95']:.1f} ms"
        if "kb" in row:  # a web page: its size too
            figures += f", {row['kb']:.0f} KB"
        lines.append(
            f"| {row['dialect']} | {row['size']:,} | {row['name']}: {row['what']} | "
            f"{figures} | {row['target']} | {_met(row['met'])} |"
        )
    return [*lines, ""]


IMPORT_HEADING = "## Import"


def render_imports(results: dict[str, Any]) -> list[str]:
    """The import section: speed against a bare executemany, and peak memory."""
    lines = [
        IMPORT_HEADING,
        "",
        "`biomatdb import` of the whole bundle (one JSON file) into an empty database: a "
        "fresh process reading the file a batch of 1,000 materials at a time, checking "
        "every entry, writing versions, the projection, the full-text index and the "
        "change log in one transaction, the indexes (and on PostgreSQL the foreign keys) "
        "of the empty tables made after the rows, then the commit (and VACUUM (ANALYZE) on "
        "PostgreSQL). Against one bare `executemany` of the same property-value rows "
        "into a table with the same indexes, through the same driver. *Peak RSS*: the "
        "import process's (`VmHWM`); *size*: the database on disk afterwards.",
        "",
        f"Measured {str(results.get('started', ''))[:10]} (`python -m benchmarks "
        "--only-imports` rewrites this section alone; the machine's speed that day shows "
        "in the bare executemany column).",
        "",
        "| database | materials | property values | biomatdb import | values/s | bare "
        "executemany | values/s | ratio | peak RSS | size |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results["imports"]:
        ours = row["values"] / row["seconds"]
        bare = row["values"] / row["bare_seconds"]
        rss = f"{row['rss_mb']:,.0f} MB" if row.get("rss_mb") else "-"
        size = f"{row['database_mb']:,.0f} MB" if row.get("database_mb") else "-"
        lines.append(
            f"| {row['dialect']} | {row['size']:,} | {row['values']:,} | {row['seconds']:.1f} s "
            f"| {ours:,.0f} | {row['bare_seconds']:.1f} s | {bare:,.0f} | {bare / ours:.1f}x "
            f"| {rss} | {size} |"
        )
    return lines


def replace_section(document: str, heading: str, section: str) -> str:
    """``document`` with the section under ``heading`` (up to the next ``## ``) replaced
    by ``section``, or with ``section`` appended when it has none."""
    if heading not in document:
        return document.rstrip("\n") + "\n\n" + section
    before, _, after = document.partition(heading)
    rest = after.split("\n## ", 1)
    tail = "\n## " + rest[1] if len(rest) > 1 else ""
    return before + section + tail


def replace_imports(document: str, results: dict[str, Any]) -> str:
    """``document`` with its import section replaced by these figures."""
    return replace_section(document, IMPORT_HEADING, "\n".join(render_imports(results)) + "\n")


def _met(met: bool | None) -> str:
    return "-" if met is None else "yes" if met else "**no**"


def replace_choosing(document: str, results: dict[str, Any]) -> str:
    """``document`` with its choosing section replaced by (or appended with) these."""
    return replace_section(document, CHOOSING_HEADING, "\n".join(render_choosing(results)))
