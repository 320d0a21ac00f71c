"""A tiny run of the benchmark harness (100 materials, SQLite), so that it cannot rot."""

from __future__ import annotations

from pathlib import Path

import pytest
from benchmarks.__main__ import main
from benchmarks.queries import MIX

# runs the benchmark harness end to end: `make test` and CI run it, `make test-fast` does not.
pytestmark = pytest.mark.slow


def test_harness_runs_every_layer_and_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "benchmarks.md"
    assert main(["--smoke", "--out", str(out), "--json", str(tmp_path / "raw.json")]) == 0
    report = out.read_text(encoding="utf-8")
    for query in MIX:
        assert query.title in report
    assert "## Against Datasette" in report
    assert "## Import" in report
    assert "| sqlite | 100 | 1,500 |" in report
