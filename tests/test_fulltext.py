"""The full-text index: normalisation and large batches."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.models import Material
from biomatdb.search import fulltext


def test_normalize_ascii_and_unicode_alike() -> None:
    assert fulltext.normalize("Ti-6Al-4V ELI, Grade 23") == "ti 6al 4v eli grade 23"
    assert fulltext.normalize("Café CRÈME ﬁbre") == "cafe creme fibre"
    assert fulltext.words("porous  POROUS scaffold!") == ["porous", "scaffold"]


def test_removing_more_ids_than_a_statement_can_bind(session: Session) -> None:
    # PostgreSQL takes at most 65,535 parameters per statement: removal is chunked.
    index = fulltext.for_session(session)

    def searchable() -> list[int]:
        return sorted(session.scalars(select(Material.id).where(index.matching(["fx"]))))

    before = searchable()
    assert len(before) == 13
    index.remove(session, [*range(1_000_000, 1_070_000), before[0]])
    assert searchable() == before[1:]
