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


def test_a_prefix_that_is_only_the_word_is_asked_as_the_word(session: Session) -> None:
    # SQLite answers "porous"* about half as fast as "porous": when no other term of
    # the index starts with a word, the word alone is asked for, with the same answer.
    index = fulltext.for_session(session)
    ids = list(session.scalars(select(Material.id).order_by(Material.id).limit(3)))
    index.replace(
        session,
        {ids[0]: "zephyrine quokkaword", ids[1]: "quokkawordish", ids[2]: "zephyrin0 cafe"},
    )
    words = ["zephyrine", "quokkaword", "quokk", "zephyrin", "zz", "nosuchword"]
    if session.get_bind().dialect.name == "sqlite":
        # "zephyrin" has zephyrine and zephyrin0 (a digit sorts before every letter);
        # "zz" is too short to be a prefix; a word in no document has no longer term.
        assert fulltext.sole_terms(session, words) == {"zephyrine", "nosuchword"}
        assert fulltext.expand(["zephyrine"], whole=frozenset({"zephyrine"})).fts5() == (
            '("zephyrine")'
        )

    def found(word: str, planned: bool) -> list[int]:
        condition = index.matching([word], session) if planned else index.matching([word])
        return sorted(session.scalars(select(Material.id).where(condition)))

    expected = {
        "zephyrine": [ids[0]],
        "quokkaword": [ids[0], ids[1]],
        "quokk": [ids[0], ids[1]],
        "zephyrin": [ids[0], ids[2]],
        "nosuchword": [],
    }
    for word, answer in expected.items():
        assert found(word, planned=True) == found(word, planned=False) == answer, word
