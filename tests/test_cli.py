"""The command line: keys, import reports and exit codes, export."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from biomatdb.cli import app
from tests.conftest import SEARCH_BUNDLE


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_keys_create_list_revoke(cli_database: str) -> None:
    code, out, err = run("keys", "create", "--role", "curator", "--name", "alice")
    assert code == 0
    key = out.strip()
    assert key.startswith("bmdb_")
    assert "shown only this once" in err
    code, out, _ = run("keys", "list")
    assert code == 0
    assert "alice\tcurator\tbmdb_" in out
    assert key not in out
    assert run("keys", "create", "--role", "curator", "--name", "alice")[0] == 1
    assert run("keys", "create", "--role", "wizard", "--name", "bob")[0] == 2
    assert run("keys", "revoke", "alice")[0] == 0
    assert "revoked: 20" in run("keys", "list")[1]
    assert run("keys", "revoke", "nobody")[0] == 1


def test_import_report_and_exit_codes(cli_database: str, tmp_path: Path) -> None:
    code, out, err = run("import", str(SEARCH_BUNDLE), "--dry-run")
    assert code == 0, err
    assert "13 material(s) would be created" in out
    code, out, _ = run("import", str(SEARCH_BUNDLE))
    assert code == 0
    assert "materials: 13 created, 0 updated, 0 unchanged" in out
    code, out, _ = run("import", str(SEARCH_BUNDLE))
    assert "nothing changed" in out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"materials": [{"id": "x", "name": "X", "class": "rock"}]}))
    code, _, err = run("import", str(bad))
    assert code == 1
    assert "materials[0].class" in err
    assert "nothing was written" in err
    code, out, _ = run("import", str(bad), "--json")
    assert code == 1
    assert json.loads(out)["errors"][0]["path"] == "materials[0].class"
    missing = run("import", str(tmp_path / "missing.json"))
    assert missing[0] == 2
    out_file = tmp_path / "export.json"
    assert run("export", "--out", str(out_file))[0] == 0
    exported = json.loads(out_file.read_text())
    assert len(exported["materials"]) == 12


def test_export_formats_take_the_search_filters_as_options(
    cli_database: str, tmp_path: Path
) -> None:
    import csv
    import io

    assert run("import", str(SEARCH_BUNDLE))[0] == 0
    code, out, _ = run("export", "--format", "csv", "--class", "metal", "--class", "ceramic")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert sorted(r["id"] for r in rows) == [
        "fx-alumina",
        "fx-ha",
        "fx-mg",
        "fx-steel",
        "fx-ti-alloy",
    ]
    code, out, _ = run(
        "export", "--format", "ndjson", "--prop", "youngs_modulus:..50:GPa", "--sort", "name"
    )
    assert code == 0
    items = [json.loads(line) for line in out.splitlines()]
    assert sorted(i["id"] for i in items) == [
        "fx-bioglass",
        "fx-cfr",
        "fx-collagen",
        "fx-ha",
        "fx-mg",
        "fx-peek",
        "fx-plga",
        "fx-silk",
    ]
    names = [i["name"].lower() for i in items]
    assert names == sorted(names)
    code, out, _ = run(
        "export", "--format", "values-csv", "--q", "steel", "--units", "youngs_modulus:MPa"
    )
    assert code == 0
    values = list(csv.DictReader(io.StringIO(out, newline="")))
    assert [(v["property"], v["canonical_unit"]) for v in values] == [
        ("density", "g/cm^3"),
        ("tensile_strength", "MPa"),
        ("youngs_modulus", "MPa"),
    ]
    bundle_file = tmp_path / "metals.json"
    assert run("export", "--class", "metal", "--out", str(bundle_file))[0] == 0
    bundle = json.loads(bundle_file.read_text())
    assert sorted(m["id"] for m in bundle["materials"]) == ["fx-mg", "fx-steel", "fx-ti-alloy"]
    assert [r["id"] for r in bundle["references"]] == ["fx-ref-a", "fx-ref-b"]


def test_export_option_errors_name_the_option(cli_database: str) -> None:
    code, _, err = run("export", "--format", "csv", "--prop", "youngs_modulus:x")
    assert code == 2
    assert err.startswith("error: --prop[0]: malformed range")
    code, _, err = run("export", "--format", "xlsx")
    assert code == 2
    assert "bundle, csv, ndjson, values-csv" in err
    code, _, err = run("export", "--format", "csv", "--units", "density:GPa")
    assert code == 2
    assert err.startswith("error: --units:")


def test_a_dry_run_report_says_what_an_update_removes(cli_database: str, tmp_path: Path) -> None:
    assert run("import", str(SEARCH_BUNDLE))[0] == 0
    bundle = json.loads(SEARCH_BUNDLE.read_text())
    steel = next(m for m in bundle["materials"] if m["id"] == "fx-steel")
    steel["properties"] = steel["properties"][:1]
    changed = tmp_path / "steel.json"
    changed.write_text(json.dumps({"materials": [steel]}))
    code, out, _ = run("import", str(changed), "--dry-run")
    assert code == 0
    assert "updated fx-steel: properties +0 ~0 -2 (removed tensile_strength, density)" in out
