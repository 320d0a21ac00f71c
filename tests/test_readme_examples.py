"""The search examples in the README give the answers it shows (on the seed data)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from biomatdb.bundles.reader import read_file
from biomatdb.exchange.importer import import_documents
from tests.conftest import client_for

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = re.compile(
    r"curl '(?:http://127\.0\.0\.1:8000)(?P<path>[^']+)'\n#  -> data: \[(?P<ids>[^\]]*)\]"
)
EXAMPLES = [
    (m["path"], [i.strip() for i in m["ids"].split(",") if i.strip()])
    for m in EXAMPLE.finditer((ROOT / "README.md").read_text(encoding="utf-8"))
]


def test_readme_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize(("path", "expected"), EXAMPLES, ids=[p for p, _ in EXAMPLES])
def test_readme_example_answers(empty_database: Session, path: str, expected: list[str]) -> None:
    files = sorted((ROOT / "seed").glob("*.json"))
    assert import_documents(empty_database, [(f.name, read_file(f)) for f in files]).ok
    with client_for(empty_database) as client:
        body = client.get(path + ("&" if "?" in path else "?") + "limit=200").json()
    assert [m["id"] for m in body["data"]] == expected
