"""The seed is what audit/merge_research.py makes of research/issue12 (so every quote
in audit/quotes.json points at its item), and it meets issue 12's counts."""

from __future__ import annotations

import importlib.util
import json
import shutil
from collections import Counter
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "audit" / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_merging_the_research_again_changes_nothing(tmp_path: Path) -> None:
    merge = load("merge_research")
    seed = tmp_path / "seed"
    shutil.copytree(ROOT / "seed", seed)
    merged, quotes = merge.merge(ROOT / "research" / "issue12", seed)
    for name, text in merged.write().items():
        assert (ROOT / "seed" / name).read_text(encoding="utf-8") == text, name
    recorded = json.loads((ROOT / "audit" / "quotes.json").read_text(encoding="utf-8"))
    assert quotes == recorded


def test_every_quote_points_at_its_item_and_the_counts_are_met() -> None:
    check = load("check")
    materials, _ = check.load_seed(ROOT / "seed")
    quotes = json.loads((ROOT / "audit" / "quotes.json").read_text(encoding="utf-8"))
    for quote in quotes:
        items = materials[quote["material"]][check.KINDS[quote["kind"]]]
        assert items[quote["index"]] == quote["item"], quote["material"]
    values = [v for m in materials.values() for v in m.get("properties", [])]
    assert sum(m.get("status") == "published" for m in materials.values()) >= 150
    assert len(values) >= 1200
    assert all(v.get("evidence") for v in values)
    results = [b for m in materials.values() for b in m.get("biocompatibility", [])]
    assert len(results) >= 80
    assert len({b["endpoint"] for b in results}) >= 6
    records = Counter(
        r["jurisdiction"] for m in materials.values() for r in m.get("regulatory", [])
    )
    assert sum(records.values()) >= 80
    assert {"US-FDA", "EU-MDR", "JP-PMDA"} <= set(records)


def test_a_person_has_read_every_quote_the_mechanical_check_cannot_confirm() -> None:
    check = load("check")
    materials, _ = check.load_seed(ROOT / "seed")
    quotes = json.loads((ROOT / "audit" / "quotes.json").read_text(encoding="utf-8"))
    readings = check.load_readings(ROOT / "audit" / "readings.json")
    checked, stale = check.check_quotes(materials, quotes)
    failures = [(q, looked) for q, ok, looked in checked if not ok]
    assert stale == []
    assert check.unread(failures, readings) == []
    # Every reading is of a quote that still needs one (none left behind by a fix).
    needed = {(q["material"], check.shown(q["kind"], q["item"])) for q, _ in failures}
    assert set(readings) == needed
    assert {r["verdict"] for r in readings.values()} == {"confirmed"}


def test_the_audit_page_is_what_the_script_writes() -> None:
    check = load("check")
    page = check.build(
        ROOT / "seed", ROOT / "audit" / "quotes.json", ROOT / "audit" / "readings.json", 12
    )
    assert (ROOT / "docs" / "data-audit.md").read_text(encoding="utf-8") == page
