"""Full-text search behind one interface: SQLite FTS5 or PostgreSQL tsvector + GIN.

Both backends index the same pre-normalised text (lower case, accents removed,
every non-alphanumeric character a word break) and are queried with the same
word list, so a query matches the same materials on either database. User
text never reaches a query language unescaped: it is reduced to words first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Protocol

from sqlalchemy import ColumnElement, Integer, bindparam, column, delete, insert, table, text
from sqlalchemy.orm import Session

FTS_TABLE = "material_fts"
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: A query longer than this many words is refused (it can only be a mistake or abuse).
MAX_QUERY_WORDS = 32


def normalize(text_: str) -> str:
    """Lower-case, strip accents, and keep only words separated by single spaces."""
    if text_.isascii():  # nothing to decompose (the common case, and the fast one)
        return " ".join(_WORD.findall(text_.lower()))
    decomposed = unicodedata.normalize("NFKD", text_)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(_WORD.findall(stripped.casefold()))


def words(query: str) -> list[str]:
    """The distinct words of a query, in order."""
    return list(dict.fromkeys(normalize(query).split()))


def document(parts: Iterable[str | None]) -> str:
    """The indexed text of one material."""
    return normalize(" ".join(p for p in parts if p))


class FullTextIndex(Protocol):
    """What the rest of the code needs from a full-text engine."""

    def replace(self, session: Session, documents: Mapping[int, str]) -> None:
        """(Re)index the given materials: ``{material id: document}``."""

    def remove(self, session: Session, material_ids: Iterable[int]) -> None:
        """Drop materials from the index."""

    def matching(self, query_words: list[str]) -> ColumnElement[bool]:
        """A condition on ``materials.id`` true when every word occurs in the material."""


_sqlite_fts = table(FTS_TABLE, column("rowid", Integer), column("document"))
_pg_fts = table(FTS_TABLE, column("material_id", Integer), column("document"))


class SqliteFts5:
    """SQLite FTS5 virtual table ``material_fts(document)``; rowid is the material id."""

    def replace(self, session: Session, documents: Mapping[int, str]) -> None:
        if not documents:
            return
        self.remove(session, documents.keys())
        session.execute(
            insert(_sqlite_fts),
            [{"rowid": mid, "document": doc} for mid, doc in documents.items()],
        )

    def remove(self, session: Session, material_ids: Iterable[int]) -> None:
        ids = list(material_ids)
        for start in range(0, len(ids), 500):
            session.execute(
                delete(_sqlite_fts).where(_sqlite_fts.c.rowid.in_(ids[start : start + 500]))
            )

    def matching(self, query_words: list[str]) -> ColumnElement[bool]:
        from biomatdb.models import Material

        # Each word is a quoted FTS5 string: no operator, column filter or
        # syntax error can be smuggled in.
        expression = " AND ".join('"' + w.replace('"', '""') + '"' for w in query_words)
        subquery = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_query")
        return Material.id.in_(
            subquery.bindparams(bindparam("fts_query", expression, unique=True))
            .columns(rowid=Integer)
            .scalar_subquery()
        )


class PostgresTsvector:
    """Table ``material_fts(material_id, document tsvector)`` with a GIN index."""

    def replace(self, session: Session, documents: Mapping[int, str]) -> None:
        if not documents:
            return
        self.remove(session, documents.keys())
        session.execute(
            text(
                f"INSERT INTO {FTS_TABLE} (material_id, document) "
                "VALUES (:mid, to_tsvector('simple'::regconfig, :doc))"
            ),
            [{"mid": mid, "doc": doc} for mid, doc in documents.items()],
        )

    def remove(self, session: Session, material_ids: Iterable[int]) -> None:
        ids = list(material_ids)
        # In chunks: a statement takes at most 65,535 parameters.
        for start in range(0, len(ids), 5000):
            session.execute(
                delete(_pg_fts).where(_pg_fts.c.material_id.in_(ids[start : start + 5000]))
            )

    def matching(self, query_words: list[str]) -> ColumnElement[bool]:
        from biomatdb.models import Material

        # Words are alphanumeric only, so joining them with & is a valid tsquery.
        tsquery = " & ".join(query_words)
        subquery = text(
            f"SELECT material_id FROM {FTS_TABLE} "
            "WHERE document @@ to_tsquery('simple'::regconfig, :fts_query)"
        )
        return Material.id.in_(
            subquery.bindparams(bindparam("fts_query", tsquery, unique=True))
            .columns(material_id=Integer)
            .scalar_subquery()
        )


def for_dialect(dialect_name: str) -> FullTextIndex:
    """The full-text engine of a database dialect."""
    if dialect_name == "sqlite":
        return SqliteFts5()
    if dialect_name == "postgresql":
        return PostgresTsvector()
    raise NotImplementedError(f"no full-text search for dialect {dialect_name!r}")


def for_session(session: Session) -> FullTextIndex:
    """The full-text engine of the database a session is bound to."""
    return for_dialect(session.get_bind().dialect.name)
