"""The README's "Choosing" examples (compare, rank, units, export, values, chart)
give the answers it prints, on the seed data (see tests/readme_examples.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from biomatdb.bundles.reader import read_file
from biomatdb.exchange.importer import import_documents
from tests.conftest import client_for
from tests.readme_examples import Example, answer, examples, select

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Choosing", 1)[-1].split("\n## ", 1)[0]
EXAMPLES = examples(SECTION)


def test_the_choosing_section_has_its_examples() -> None:
    paths = [e.request()[1].split("?")[0] for e in EXAMPLES]
    for endpoint in ("compare", "rank", "materials", "values", "charts/ashby"):
        assert f"/api/v1/{endpoint}" in paths, endpoint


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.command[:80] for e in EXAMPLES])
def test_each_example_gives_the_printed_answer(empty_database: Session, example: Example) -> None:
    files = sorted((ROOT / "seed").glob("*.json"))
    assert import_documents(empty_database, [(f.name, read_file(f)) for f in files]).ok
    with client_for(empty_database) as client:
        data = answer(client, example)
    for path, expected in example.checks:
        assert select(data, path) == expected, path
