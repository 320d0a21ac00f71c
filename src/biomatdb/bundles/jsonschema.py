"""The bundle JSON Schema, generated from the pydantic models."""

from __future__ import annotations

import json

from biomatdb.bundles.schemas import Bundle


def render() -> str:
    """The schema document as committed in ``schemas/bundle.schema.json``."""
    schema = Bundle.model_json_schema(by_alias=True, mode="validation")
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"
