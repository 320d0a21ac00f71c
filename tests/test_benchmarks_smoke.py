"""A tiny run of the benchmark harness (100 materials, SQLite), so that it cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.__main__ import main
from benchmarks.queries import MIX

# runs the benchmark harness end to end: `make test` and CI run it, `make test-fast` does not.
pytestmark = [pytest.mark.slow, pytest.mark.dialect_free]


def test_harness_runs_every_layer_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    assert main(["--smoke", "--out", str(out), "--json", str(tmp_path / "raw.json")]) == 0
    report = out.read_text(encoding="utf-8")
    for query in MIX:
        assert query.title in report
    assert "## Against Datasette" in report
    assert "## Import" in report
    assert "| sqlite | 100 | 1,500 |" in report
    for name in ("rank", "compare", "export", "chart"):
        assert f"| sqlite | 100 | {name}: " in report


def test_choosing_alone_replaces_only_its_section(tmp_path: Path) -> None:
    from benchmarks.report import CHOOSING_HEADING, replace_choosing

    row = {
        "dialect": "sqlite",
        "size": 100,
        "name": "compare",
        "what": "20 materials",
        "p50": 1.0,
        "p95": 2.0,
        "target": "p95 < 20 ms",
        "met": True,
    }
    page = (
        f"# Benchmarks\n\n## Searches\n\nold\n\n{CHOOSING_HEADING}\n\nold figures\n\n"
        "## Import\n\nkept\n"
    )
    updated = replace_choosing(page, {"choosing": [row]})
    assert "old figures" not in updated
    assert "| sqlite | 100 | compare: 20 materials | 1.0 / 2.0 ms | p95 < 20 ms | yes |" in updated
    assert updated.startswith("# Benchmarks\n\n## Searches\n\nold\n\n")
    assert updated.endswith("## Import\n\nkept\n")
