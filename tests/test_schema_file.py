"""The committed JSON Schema of the bundle is generated from the models."""

from __future__ import annotations

import json
from pathlib import Path

from biomatdb.bundles.jsonschema import render

SCHEMA = Path(__file__).resolve().parents[1] / "schemas" / "bundle.schema.json"


def test_bundle_schema_is_up_to_date() -> None:
    assert SCHEMA.read_text(encoding="utf-8") == render(), (
        "schemas/bundle.schema.json is stale: run `biomatdb schema`"
    )


def test_schema_describes_the_contract() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    material = schema["$defs"]["MaterialIn"]
    assert set(material["required"]) == {"id", "name", "class"}
    assert material["additionalProperties"] is False
    assert schema["$defs"]["MaterialClass"]["enum"] == [
        "metal",
        "ceramic",
        "glass",
        "polymer",
        "composite",
        "natural",
    ]
