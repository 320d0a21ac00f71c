"""The README documents every command, setting and endpoint (docs as tests)."""

from __future__ import annotations

import re
from pathlib import Path

from biomatdb.app import create_app
from biomatdb.cli import app as cli_app
from biomatdb.settings import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_cli_command_is_documented() -> None:
    names = [c.name for c in cli_app.registered_commands]
    for group in cli_app.registered_groups:
        assert group.typer_instance is not None
        names += [f"{group.name} {c.name}" for c in group.typer_instance.registered_commands]
    assert "keys create" in names
    assert names
    for name in names:
        assert f"`biomatdb {name}" in README, name


def test_every_setting_is_documented() -> None:
    for field in Settings.model_fields:
        assert f"BIOMATDB_{field.upper()}" in README, field


def test_every_endpoint_is_documented() -> None:
    paths = {route.path for route in create_app().routes if hasattr(route, "methods")}
    for path in paths:
        if path in {"/docs/oauth2-redirect"}:
            continue
        documented = re.sub(r"\{[^}]+\}", "{id}", path)
        readme = re.sub(r"\{[^}]+\}", "{id}", README)
        assert documented in readme, path


def test_readme_has_the_two_commands() -> None:
    assert "make serve" in README
    assert "make test" in README
    assert "postgresql" in README.lower()
