"""``python -m benchmarks``: build corpora, time every layer, write docs/benchmarks.md.

Layers, for the same logical query on the same database:
* service: the search service in process (parse, SQL, wire objects);
* HTTP: ``biomatdb serve`` over loopback (one worker), keep-alive client;
* floor: hand-written SQL through the bare driver (benchmarks/floor.py);
* Datasette: the same SQLite file served by Datasette, for what it can express.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy.orm import Session

from benchmarks import million
from benchmarks.floor import Floor
from benchmarks.queries import MIX, Query
from biomatdb import migrations
from biomatdb.bundles.stream import Material, file_parts
from biomatdb.db import make_engine
from biomatdb.materials import service
from biomatdb.search import counts
from biomatdb.search.params import DEFAULT_LIMIT, parse_search
from biomatdb.synth import write_bundle

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "benchmarks" / ".data"
# One client drives the load: the service's per-address rate limit would cut it short.
os.environ.setdefault("BIOMATDB_RATE_LIMIT_ANONYMOUS", "off")
os.environ.setdefault("BIOMATDB_RATE_LIMIT_KEY", "off")
PG_ADMIN = os.environ.get("BIOMATDB_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
SEED = 42


def detail_slug(size: int) -> str:
    """A material in the middle of the corpus."""
    return f"synth-{size // 2:07d}"


def percentiles(samples: list[float]) -> tuple[float, float]:
    """(p50, p95) in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return statistics.median(ordered), p95


def timed(fn: Callable[[], Any], iterations: int, warmup: int = 2) -> tuple[float, float]:
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(iterations):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return percentiles(samples)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- corpora and databases -------------------------------------------------------------------


def bundle_file(size: int) -> Path:
    DATA.mkdir(parents=True, exist_ok=True)
    path = DATA / f"synth-{size}-seed{SEED}.json"
    if not path.exists():
        partial = path.with_suffix(".partial")
        write_bundle(partial, size, SEED)  # a material at a time: 1M is 2.4 GB
        partial.rename(path)
    return path


def fresh_database(dialect: str, size: int) -> str:
    """A new, migrated, empty database; its SQLAlchemy URL."""
    if dialect == "sqlite":
        path = DATA / f"bench-{size}.sqlite3"
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    else:
        name = f"biomatdb_bench_{size}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    migrations.upgrade(url)
    return url


def driver_dsn(url: str) -> str:
    return url.removeprefix("sqlite:///") if url.startswith("sqlite") else url


#: Run in the import's process: ``biomatdb import`` that writes its peak RSS (VmHWM, of
#: this process alone: ``ru_maxrss`` of a child counts the parent's memory at the fork)
#: to the file named by its first argument.
_IMPORT_WITH_PEAK = """
import atexit, sys
from pathlib import Path
out = Path(sys.argv.pop(1))
def peak():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            out.write_text(line.split()[1])
atexit.register(peak)
from biomatdb.cli import main
sys.argv[0] = "biomatdb"
main()
"""


def run_import(url: str, path: Path) -> tuple[float, float]:
    """Seconds and peak RSS (MB) of ``biomatdb import FILE`` (a fresh process: read,
    check, write)."""
    peak = DATA / "import-peak.txt"
    peak.unlink(missing_ok=True)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _IMPORT_WITH_PEAK, str(peak), "import", str(path)],
        check=True,
        env={**os.environ, "BIOMATDB_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    seconds = time.perf_counter() - start
    rss_mb = int(peak.read_text()) / 1024 if peak.exists() else 0.0  # kB; none off Linux
    return seconds, rss_mb


def database_mb(url: str) -> float:
    """The database's size on disk after a load (SQLite: the file and its WAL)."""
    if url.startswith("sqlite"):
        path = Path(driver_dsn(url))
        return (
            sum(
                Path(str(path) + suffix).stat().st_size
                for suffix in ("", "-wal")
                if Path(str(path) + suffix).exists()
            )
            / 1e6
        )
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT pg_database_size(current_database())").fetchone()
    return float(row[0]) / 1e6 if row else 0.0


def _floor_rows(path: Path, chunk: int = 100_000) -> Iterator[list[tuple[Any, ...]]]:
    """The property-value rows of a bundle file, ``chunk`` at a time (a million
    materials is 15 million rows: never all in memory)."""
    rows: list[tuple[Any, ...]] = []
    materials = (p.value for p in file_parts(path) if isinstance(p, Material))
    for index, material in enumerate(materials):
        for pos, v in enumerate(material["properties"]):
            low = v.get("value", v.get("min", v.get("max")))
            high = v.get("value", v.get("max", v.get("min")))
            rows.append(
                (
                    index + 1,
                    v["property"],
                    pos,
                    v.get("value"),
                    v.get("min"),
                    v.get("max"),
                    v["unit"],
                    low,
                    high,
                    "=",
                    v.get("uncertainty"),
                    v.get("specimen"),
                    None,
                    None,
                    None,
                )
            )
        if len(rows) >= chunk:
            yield rows
            rows = []
    if rows:
        yield rows


def bare_executemany(dialect: str, url: str, path: Path) -> tuple[int, float]:
    """The same property-value rows inserted by executemany (and the same indexes): the
    seconds of the inserts and the commit, not of reading the file."""
    ddl = [
        "DROP TABLE IF EXISTS bench_floor_values",
        "CREATE TABLE bench_floor_values (id INTEGER PRIMARY KEY"
        + (" AUTOINCREMENT" if dialect == "sqlite" else " GENERATED BY DEFAULT AS IDENTITY")
        + ", material_id INTEGER, property_key VARCHAR(64), position INTEGER, value FLOAT,"
        " value_min FLOAT, value_max FLOAT, unit VARCHAR(64), canonical_min FLOAT,"
        " canonical_max FLOAT, qualifier VARCHAR(2), uncertainty FLOAT, specimen VARCHAR(200),"
        " method VARCHAR(300), conditions TEXT, reference_id INTEGER)",
        "CREATE INDEX bench_floor_a ON bench_floor_values (property_key, canonical_min,"
        " canonical_max, material_id)",
        "CREATE INDEX bench_floor_b ON bench_floor_values (material_id)",
        # The other two of property_values (references; the specimen filter).
        "CREATE INDEX bench_floor_c ON bench_floor_values (reference_id)",
        "CREATE INDEX bench_floor_d ON bench_floor_values (lower(specimen), property_key,"
        " canonical_min, canonical_max, material_id)",
    ]
    insert = (
        "INSERT INTO bench_floor_values (material_id, property_key, position, value,"
        " value_min, value_max, unit, canonical_min, canonical_max, qualifier, uncertainty,"
        " specimen, method, conditions, reference_id) VALUES ({})"
    )
    if dialect == "sqlite":
        conn = sqlite3.connect(driver_dsn(url))
        for statement in ddl:
            conn.execute(statement)
        conn.commit()
        took = 0.0
        count = 0
        for rows in _floor_rows(path):
            start = time.perf_counter()
            conn.executemany(insert.format(",".join("?" * 15)), rows)
            took += time.perf_counter() - start
            count += len(rows)
        start = time.perf_counter()
        conn.commit()
        took += time.perf_counter() - start
        conn.execute("DROP TABLE bench_floor_values")
        conn.commit()
        conn.close()
    else:
        with psycopg.connect(url) as conn:
            for statement in ddl:
                conn.execute(statement)
            conn.commit()
            took = 0.0
            count = 0
            with conn.cursor() as cur:
                for rows in _floor_rows(path):
                    start = time.perf_counter()
                    cur.executemany(insert.format(",".join(["%s"] * 15)), rows)
                    took += time.perf_counter() - start
                    count += len(rows)
            start = time.perf_counter()
            conn.commit()
            took += time.perf_counter() - start
            conn.execute("DROP TABLE bench_floor_values")
            conn.commit()
    return count, took


# --- the layers -----------------------------------------------------------------------------


def service_runner(
    url: str, slug: str
) -> tuple[Callable[[Query], Callable[[], Any]], Callable[[], None]]:
    engine = make_engine(url)

    def make(query: Query) -> Callable[[], Any]:
        def run() -> Any:
            with Session(engine) as session:
                if query.detail:
                    material = service.get_material(session, slug, latest=False)
                    return service.material_view(session, material, latest=False)
                params = query.params()
                parsed = parse_search(
                    q=params.get("q", [None])[0],
                    classes=params.get("class", []),
                    applications=params.get("application", []),
                    degradable=None,
                    props=params.get("prop", []),
                    regulatory=params.get("regulatory", []),
                    supplier=None,
                    country=params.get("country", [None])[0],
                    sort=params.get("sort", [None])[0],
                    limit=int(params.get("limit", [DEFAULT_LIMIT])[0]),
                    facets=params.get("facets", [None])[0],
                )
                after = None
                total = 0
                for _ in range(query.pages):
                    found = service.search(session, parsed, after=after)
                    total, after = found.total, found.next_cursor
                    if after is None:
                        break
                return total

        return run

    return make, engine.dispose


class Server:
    """A subprocess serving HTTP on a free port until closed."""

    def __init__(self, command: list[str], port: int, env: dict[str, str], probe: str) -> None:
        self.port = port
        self.process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}{probe}", timeout=5).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"server {command[:3]} did not start")
            time.sleep(0.2)

    def rss_peak_mb(self) -> float:
        """Peak resident memory of the server process and its children (VmHWM)."""
        total = 0
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        if children.exists():
            pids += [int(p) for p in children.read_text().split()]
        for pid in pids:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
        return total / 1024

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


def api_server(url: str, workers: int = 1, *, result_cache: bool = False) -> Server:
    """``biomatdb serve`` on ``url``. Without ``result_cache`` the server keeps no search
    answer (``BIOMATDB_RESULT_CACHE_MB=0``), so that repeating a request times the
    search, not a lookup of its bytes; the load test keeps the cache, as deployed."""
    port = free_port()
    return Server(
        [
            sys.executable,
            "-m",
            "biomatdb.cli",
            "serve",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        port,
        {
            **os.environ,
            "BIOMATDB_DATABASE_URL": url,
            **({} if result_cache else {"BIOMATDB_RESULT_CACHE_MB": "0"}),
        },
        "/health",
    )


#: Per search of the mix: answers over HTTP, and of them those whose facets were still
#: being counted in the background (``meta.facets_pending``).
HTTP_ANSWERS: dict[str, list[int]] = {}


def http_runner(
    server: Server, slug: str
) -> tuple[Callable[[Query], Callable[[], Any]], Callable[[], None]]:
    # identity, like the floor and Datasette: gzip costs CPU on loopback and saves nothing
    # there; the export rows of the choosing section time gzip separately.
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{server.port}",
        timeout=60,
        headers={"Accept-Encoding": "identity"},
    )

    def make(query: Query) -> Callable[[], Any]:
        def run() -> Any:
            if query.detail:
                response = client.get(f"/api/v1/materials/{slug}")
                response.raise_for_status()
                return response
            url: str | None = f"/api/v1/materials?{query.api}"
            for _ in range(query.pages):
                assert url is not None
                response = client.get(url)
                response.raise_for_status()
                body = response.json()
                answers = HTTP_ANSWERS.setdefault(query.name, [0, 0])
                answers[0] += 1
                answers[1] += "facets_pending" in body["meta"]
                url = body["links"]["next"]
                if url is None:
                    break
            return None

        return run

    return make, client.close


def floor_runner(
    dialect: str, url: str, slug: str
) -> tuple[Callable[[Query], Callable[[], Any]], Callable[[], None]]:
    floor = Floor(dialect, driver_dsn(url))

    def make(query: Query) -> Callable[[], Any]:
        return (lambda: floor.detail(slug)) if query.detail else (lambda: floor.search(query))

    return make, floor.close


def datasette_server(url: str) -> Server:
    port = free_port()
    path = driver_dsn(url)
    link = DATA / "bench.sqlite3"  # Datasette names the database after the file
    link.unlink(missing_ok=True)
    link.symlink_to(Path(path).resolve())
    return Server(
        [
            sys.executable,
            "-m",
            "datasette",
            "serve",
            str(link),
            "--port",
            str(port),
            "--setting",
            "sql_time_limit_ms",
            "20000",
            "--setting",
            "facet_time_limit_ms",
            "20000",
            "--setting",
            "num_sql_threads",
            "2",
        ],
        port,
        dict(os.environ),
        "/-/versions.json",
    )


# --- the run --------------------------------------------------------------------------------


def existing_corpus(dialect: str, size: int) -> str | None:
    """The URL of a database an earlier run filled with the corpus of ``size``."""
    if dialect == "sqlite":
        path = DATA / f"bench-{size}.sqlite3"
        url = f"sqlite:///{path}"
        if not path.exists():
            return None
    else:
        url = PG_ADMIN.rsplit("/", 1)[0] + f"/biomatdb_bench_{size}"
    try:
        engine = make_engine(url)
        with engine.connect() as connection:
            count = connection.exec_driver_sql("SELECT count(*) FROM materials").scalar()
        engine.dispose()
    except Exception:  # no such database, or not migrated
        return None
    if count != size:
        return None
    migrations.upgrade(url)  # a corpus of an earlier run, brought to this code's schema
    return url


def import_corpus(
    dialect: str, size: int, results: dict[str, Any], log: Callable[[str], None]
) -> str:
    """A fresh database holding the synthetic corpus of ``size``, import timed."""
    path = bundle_file(size)
    url = fresh_database(dialect, size)
    log(f"[{dialect} {size}] importing {path.name}")
    import_seconds, rss_mb = run_import(url, path)
    size_mb = database_mb(url)
    values, bare_seconds = bare_executemany(dialect, url, path)
    results["imports"].append(
        {
            "dialect": dialect,
            "size": size,
            "values": values,
            "seconds": import_seconds,
            "bare_seconds": bare_seconds,
            "rss_mb": rss_mb,
            "database_mb": size_mb,
        }
    )
    log(
        f"[{dialect} {size}] import {values / import_seconds:,.0f} values/s, peak RSS "
        f"{rss_mb:,.0f} MB; bare executemany {values / bare_seconds:,.0f} values/s"
    )
    return url


def measure_choosing(
    dialect: str,
    size: int,
    url: str,
    iterations: int,
    results: dict[str, Any],
    log: Callable[[str], None],
) -> None:
    """Rank, compare, export and chart (benchmarks/choosing.py) on a fresh server, then
    the web pages (benchmarks/pages.py)."""
    from benchmarks import choosing, pages

    server = api_server(url)
    try:
        rows = choosing.measure(server.port, size, iterations, timed, server.rss_peak_mb)
        rows += pages.measure(server.port, iterations, timed)
    finally:
        server.close()
    for row in rows:
        results.setdefault("choosing", []).append({"dialect": dialect, "size": size, **row})
        log(f"[{dialect} {size}] {row['name']}: {row}")


def measure(
    dialect: str,
    size: int,
    iterations: int,
    results: dict[str, Any],
    log: Callable[[str], None],
    only_choosing: bool = False,
    reuse: bool = False,
) -> None:
    reused = existing_corpus(dialect, size) if only_choosing and reuse else None
    url = reused or import_corpus(dialect, size, results, log)
    if reused:
        migrations.upgrade(url)
        log(f"[{dialect} {size}] reusing {url}")
    measure_choosing(dialect, size, url, iterations, results, log)
    if not only_choosing:
        measure_searches(dialect, size, url, iterations, results, log)


def time_layer(
    row: dict[str, Any],
    layer: str,
    run: Callable[[], Any],
    iterations: int,
    log: Callable[[str], None],
) -> None:
    """``row[layer]``: (p50, p95) of ``run``; or None and ``row[layer + "_error"]`` when
    the server answered an error (a 503 of the query timeout: reported, not fatal)."""
    try:
        row[layer] = timed(run, iterations)
    except httpx.HTTPStatusError as exc:
        row[layer] = None
        problem = exc.response.json() if exc.response.content else {}
        row[f"{layer}_error"] = f"{exc.response.status_code} {problem.get('title', '')}".strip()
        log(f"[{row['dialect']} {row['size']}] {row['query']} {layer}: {row[f'{layer}_error']}")


def measure_searches(
    dialect: str,
    size: int,
    url: str,
    iterations: int,
    results: dict[str, Any],
    log: Callable[[str], None],
) -> None:
    """The search mix at every layer (service, HTTP, floor, Datasette)."""
    server = api_server(url)
    slug = detail_slug(size)
    service_make, service_close = service_runner(url, slug)

    def cold(query: Query) -> Callable[[], Any]:
        run = service_make(query)

        def without_cache() -> Any:
            counts.clear()  # totals and facets recounted, as the floor does
            return run()

        return without_cache

    layers = {
        "service": (service_make, service_close),
        "service_cold": (cold, lambda: None),
        "http": http_runner(server, slug),
        "floor": floor_runner(dialect, url, slug),
    }
    datasette = datasette_server(url) if dialect == "sqlite" else None
    try:
        for query in MIX:
            row: dict[str, Any] = {
                "dialect": dialect,
                "size": size,
                "query": query.name,
                "title": query.title,
            }
            for layer, (make, _) in layers.items():
                time_layer(row, layer, make(query), iterations, log)
            row["http_answers"] = HTTP_ANSWERS.pop(query.name, None)  # [all, facets pending]
            if datasette is not None and query.datasette:
                ds = httpx.Client(base_url=f"http://127.0.0.1:{datasette.port}", timeout=60)
                ours = httpx.Client(
                    base_url=f"http://127.0.0.1:{server.port}",
                    timeout=60,
                    headers={"Accept-Encoding": "identity"},
                )
                comparable = query.api if not query.facets else ("facets=class,degradable&limit=1")

                def ds_get(ds: httpx.Client = ds, path: str = query.datasette) -> None:
                    ds.get(path).raise_for_status()

                def ours_get(ours: httpx.Client = ours, path: str = comparable) -> None:
                    ours.get(f"/api/v1/materials?{path}").raise_for_status()

                row["datasette"] = timed(ds_get, iterations)
                row["ours_vs_datasette"] = timed(ours_get, iterations)
                ds.close()
                ours.close()
            results["queries"].append(row)
            log(
                f"[{dialect} {size}] {query.name}: "
                + ", ".join(
                    f"{k} p50 {v[0]:.2f} ms" for k, v in row.items() if isinstance(v, tuple) and v
                )
            )
        results["rss"].append({"dialect": dialect, "size": size, "mb": server.rss_peak_mb()})
    finally:
        for _, close in layers.values():
            close()
        server.close()
        if datasette is not None:
            datasette.close()


#: The longest warm-up before a load test (a million materials: the background counts
#: of the facets, and a cold disk cache, take tens of seconds).
WARM_UP_LIMIT_SECONDS = 300


def warm_up_server(port: int, paths: list[str], workers: int) -> dict[str, Any]:
    """Ask the mix until the server is in its steady state: every worker has answered
    each query (and so holds its counts and pages) and no answer has facets pending
    (each worker counted them in the background) or was a 503 (a query timeout: the
    first searches on a cold disk cache at a million materials). The mix is asked by
    several connections at once, as wrk does: one client alone is served by whichever
    worker accepts first, which can leave another worker cold. Settled: two rounds in
    a row without either. Returns how long it took, the answers asked, and how many
    were 503 or had facets pending."""
    from concurrent.futures import ThreadPoolExecutor

    began = time.perf_counter()
    asked = unavailable = pending = quiet_rounds = 0
    connections = 4 * workers
    clients = [
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) for _ in range(connections)
    ]

    def ask(n: int) -> tuple[int, bool]:
        answer = clients[n % connections].get(paths[n % len(paths)])
        if answer.status_code == 503:  # measured, not fatal
            return 503, False
        answer.raise_for_status()
        return answer.status_code, "facets_pending" in answer.json().get("meta", {})

    try:
        with ThreadPoolExecutor(connections) as pool:
            while quiet_rounds < 2 and time.perf_counter() - began < WARM_UP_LIMIT_SECONDS:
                answers = list(pool.map(ask, range(len(paths) * connections)))
                asked += len(answers)
                round_unavailable = sum(status == 503 for status, _ in answers)
                round_pending = sum(waiting for _, waiting in answers)
                unavailable += round_unavailable
                pending += round_pending
                quiet_rounds = 0 if round_unavailable or round_pending else quiet_rounds + 1
                if quiet_rounds == 0:
                    time.sleep(1)
    finally:
        for client in clients:
            client.close()
    return {
        "seconds": round(time.perf_counter() - began, 1),
        "answers": asked,
        "unavailable": unavailable,
        "facets_pending": pending,
        "settled": quiet_rounds >= 2,
    }


def load_test(
    dialect: str, size: int, seconds: int, results: dict[str, Any], log: Callable[[str], None]
) -> None:
    """wrk against ``biomatdb serve --workers <cores>`` with the search mix."""
    url = (
        f"sqlite:///{DATA / f'bench-{size}.sqlite3'}"
        if dialect == "sqlite"
        else PG_ADMIN.rsplit("/", 1)[0] + f"/biomatdb_bench_{size}"
    )
    workers = os.cpu_count() or 2
    server = api_server(url, workers=workers, result_cache=True)
    paths = [
        f"/api/v1/materials?{q.api}" if not q.detail else f"/api/v1/materials/{detail_slug(size)}"
        for q in MIX
    ]
    script = DATA / "mix.lua"
    script.write_text(
        "local paths = {" + ",".join(json.dumps(p) for p in paths) + "}\n"
        "local i = 0\nrequest = function()\n  i = i % #paths + 1\n"
        "  return wrk.format('GET', paths[i])\nend\n"
        "done = function(summary, latency, requests)\n"
        "  io.write(string.format('ERRORS %d %d %d %d %d\\n', summary.errors.connect,"
        " summary.errors.read, summary.errors.write, summary.errors.status,"
        " summary.errors.timeout))\n"
        "  io.write(string.format('P99 %.3f\\n', latency:percentile(99) / 1000))\n"
        "  io.write(string.format('P50 %.3f\\n', latency:percentile(50) / 1000))\nend\n"
    )
    try:
        warm_up = warm_up_server(server.port, paths, workers)
        log(f"[{dialect} {size}] warm-up: {warm_up}")
        before = million.scrape(server.port)
        out = subprocess.run(
            [
                "wrk",
                "--timeout",
                "10s",
                "-t2",
                "-c16",
                f"-d{seconds}s",
                "-s",
                str(script),
                f"http://127.0.0.1:{server.port}",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        seen = million.observed(before, million.scrape(server.port), seconds)
        rps = float(
            next(line.split()[1] for line in out.splitlines() if line.startswith("Requests/sec"))
        )
        p99 = float(next(line.split()[1] for line in out.splitlines() if line.startswith("P99")))
        p50 = float(next(line.split()[1] for line in out.splitlines() if line.startswith("P50")))
        errors = sum(
            int(x)
            for x in next(line for line in out.splitlines() if line.startswith("ERRORS")).split()[
                1:
            ]
        )
        results["load"].append(
            {
                "dialect": dialect,
                "size": size,
                "workers": workers,
                "rps": rps,
                "p50": p50,
                "p99": p99,
                "errors": errors,
                "seconds": seconds,
                "rss": server.rss_peak_mb(),
                "observed": seen,
                "warm_up": warm_up,
            }
        )
        log(
            f"[{dialect} {size}] load: {rps:.0f} req/s, p99 {p99:.1f} ms, errors {errors}; "
            f"/metrics: {seen}"
        )
    finally:
        server.close()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--dialects", default="sqlite,postgresql")
    parser.add_argument("--iterations", type=int, default=30)
    parser.add_argument(
        "--load-seconds",
        type=int,
        default=20,
        help="wrk duration per database at the largest size (0: no load test)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md")
    parser.add_argument("--json", type=Path, default=None, help="also write the raw figures")
    parser.add_argument(
        "--load-only",
        type=Path,
        default=None,
        help="reuse the raw figures of an earlier run (its --json) and re-run the load tests",
    )
    parser.add_argument(
        "--only-choosing",
        action="store_true",
        help="build the corpora, then time only rank, compare, export and chart",
    )
    parser.add_argument(
        "--million",
        action="store_true",
        help="the 1,000,000-material run on PostgreSQL (import, every search warm and "
        "cold, load observed through /metrics, database size); only its section of the "
        "page is rewritten; with --reuse and --json, an earlier run's database is used "
        "again",
    )
    parser.add_argument(
        "--only-imports",
        action="store_true",
        help="build the corpora (timing the imports), then nothing else; only the import "
        "section of the page is rewritten",
    )
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="100 materials, SQLite, 3 iterations, no load test (CI)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="with --only-choosing: use the databases of an earlier run when they hold the "
        "corpus (no import)",
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.dialects, args.iterations, args.load_seconds = "100", "sqlite", 3, 0
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    dialects = args.dialects.split(",")
    results: dict[str, Any] = {
        "queries": [],
        "imports": [],
        "rss": [],
        "load": [],
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }

    def log(line: str) -> None:
        print(line, flush=True)

    if args.million:
        run_million(args, results, log)
        return 0
    if args.load_only is not None:
        # Re-run only the load tests on databases built by an earlier run.
        results = json.loads(args.load_only.read_text())
        results["load"] = []
    for dialect in dialects:
        for size in sizes if args.load_only is None else []:
            if args.only_imports:
                import_corpus(dialect, size, results, log)
                continue
            measure(dialect, size, args.iterations, results, log, args.only_choosing, args.reuse)
            if args.json:  # keep what is measured even if a later step fails
                args.json.write_text(json.dumps(results, indent=1))
        partial = args.only_choosing or args.only_imports
        if args.load_seconds and shutil_which("wrk") and not partial:
            load_test(dialect, max(sizes), args.load_seconds, results, log)
    write_page(args, results)
    log(f"wrote {args.out}")
    return 0


def run_million(
    args: argparse.Namespace, results: dict[str, Any], log: Callable[[str], None]
) -> None:
    """``--million``: the 1M-material corpus on PostgreSQL (benchmarks/million.py). With
    ``--reuse``, a database of an earlier run that holds the corpus is used again, with
    the figures that run kept in ``--json`` (its import, and its searches when it got
    that far): a run stopped by a failure goes on where it stopped."""
    dialect, size = "postgresql", million.SIZE
    earlier = (
        json.loads(args.json.read_text()) if args.reuse and args.json and args.json.exists() else {}
    )
    imported = [r for r in earlier.get("imports", []) if r["size"] == size]
    url = existing_corpus(dialect, size) if args.reuse and imported else None

    def keep() -> None:  # what is measured survives a later step's failure
        if args.json:
            args.json.write_text(json.dumps(results, indent=1))

    if url is None:
        url = import_corpus(dialect, size, results, log)
        results["imports"][-1]["bundle_mb"] = bundle_file(size).stat().st_size / 2**20
    else:
        results["imports"] = imported
        log(f"[{dialect} {size}] reusing {url}")
    keep()
    searched = [r for r in earlier.get("queries", []) if r["size"] == size and "matches" in r]
    if url is not None and searched:  # --reuse: the searches of the earlier run stand
        results["queries"] = searched
    else:
        measure_searches(dialect, size, url, args.iterations, results, log)
        engine_run, close = service_runner(url, detail_slug(size))
        try:
            for row in results["queries"]:
                query = next(q for q in MIX if q.name == row["query"])
                row["matches"] = 1 if query.detail else engine_run(query)()
        finally:
            close()
    keep()
    if args.load_seconds and shutil_which("wrk"):
        load_test(dialect, size, args.load_seconds, results, log)
    keep()
    text = args.out.read_text(encoding="utf-8") if args.out.exists() else "# Benchmarks\n"
    args.out.write_text(million.replace(text, results), encoding="utf-8")
    log(f"wrote {args.out}")


def write_page(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """docs/benchmarks.md (``--out``), whole or only the part measured; the raw figures."""
    from benchmarks.report import render, replace_choosing, replace_imports

    args.out.parent.mkdir(parents=True, exist_ok=True)
    if args.only_imports and args.out.exists():  # the rest of the page stays as it was
        text = replace_imports(args.out.read_text(encoding="utf-8"), results)
    elif args.only_choosing and args.out.exists():
        text = replace_choosing(args.out.read_text(encoding="utf-8"), results)
    else:
        text = render(results, machine())
    args.out.write_text(text, encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))


def shutil_which(name: str) -> bool:
    import shutil

    return shutil.which(name) is not None


def machine() -> dict[str, str]:
    import datasette
    import fastapi
    import pydantic
    import sqlalchemy
    import uvicorn

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        (
            line.split()[1]
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        "0",
    )
    try:
        with psycopg.connect(PG_ADMIN) as conn:
            pg = str(conn.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
    except psycopg.Error:
        pg = "unavailable"
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpu": f"{cpu}, {os.cpu_count()} cores",
        "memory": f"{int(memory) / 1024 / 1024:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg,
        "sqlalchemy": sqlalchemy.__version__,
        "fastapi": fastapi.__version__,
        "pydantic": pydantic.__version__,
        "uvicorn": uvicorn.__version__,
        "datasette": getattr(datasette, "__version__", "?"),
    }


if __name__ == "__main__":
    raise SystemExit(main())
