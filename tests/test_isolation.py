"""Each test's writes are rolled back: the two tests below see the same database."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.exchange.importer import import_documents
from biomatdb.models import Material

FIXTURE_MATERIALS = 13


@pytest.mark.parametrize("attempt", [1, 2])
def test_writes_do_not_leak_between_tests(session: Session, attempt: int) -> None:
    assert session.scalar(select(func.count()).select_from(Material)) == FIXTURE_MATERIALS
    report = import_documents(
        session,
        [("x", {"materials": [{"id": "isolation-probe", "name": "Probe", "class": "metal"}]})],
    )
    assert report.materials.created == 1
    session.commit()  # releases the savepoint only; the outer transaction rolls back
    assert session.scalar(select(func.count()).select_from(Material)) == FIXTURE_MATERIALS + 1
