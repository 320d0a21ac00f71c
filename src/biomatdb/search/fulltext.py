"""Full-text search behind one interface: SQLite FTS5 or PostgreSQL tsvector + GIN.

Both backends index the same pre-normalised text (lower case, accents removed,
every non-alphanumeric character a word break) and are queried with the same
word list, so a query matches the same materials on either database. User
text never reaches a query language unescaped: it is reduced to words first.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from threading import Lock
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Subquery,
    bindparam,
    column,
    delete,
    insert,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BinaryExpression

from biomatdb.db import SQLITE_FTS_TERMS
from biomatdb.search import synonyms
from biomatdb.search.base import tagged

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


#: A word is matched as a prefix when it is the last of the query and has at least
#: this many characters (``hydr`` finds hydroxyapatite while it is being typed) ...
PREFIX_LAST = 3
#: ... or, anywhere in the query, at least this many (``hydroxyapatit``). Shorter
#: words are whole words: ``a`` never becomes ``a*`` (every word starting with a).
PREFIX_ANY = 4


@dataclass(frozen=True, slots=True)
class Phrase:
    """Words in a row; ``prefix``: the last word may be the start of a longer one."""

    words: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True, slots=True)
class TextQuery:
    """What a material must contain: every group (AND), one phrase of each (OR)."""

    groups: tuple[tuple[Phrase, ...], ...]

    def fts5(self) -> str:
        """The FTS5 expression: each word a quoted string, so that no operator, column
        filter or syntax error can come from the words."""

        def phrase(p: Phrase) -> str:
            return (
                '"'
                + " ".join(w.replace('"', '""') for w in p.words)
                + '"'
                + ("*" if p.prefix else "")
            )

        return " AND ".join("(" + " OR ".join(map(phrase, g)) + ")" for g in self.groups)

    def tsquery(self) -> str:
        """The ``to_tsquery`` text: words are alphanumeric only, so joining them with
        ``<->``, ``|`` and ``&`` (and ``:*`` for a prefix) is a valid tsquery."""

        def phrase(p: Phrase) -> str:
            return " <-> ".join(p.words) + (":*" if p.prefix else "")

        return " & ".join("(" + " | ".join(map(phrase, g)) + ")" for g in self.groups)


def _prefix(word: str, last: bool) -> bool:
    return len(word) >= (PREFIX_LAST if last else PREFIX_ANY)


def expand(query_words: list[str], whole: frozenset[str] = frozenset()) -> TextQuery:
    """The forgiving form of a query's words: each word, or each run of words that is
    a name of the vocabulary (:mod:`biomatdb.search.synonyms`), is one group; a group
    matches the words themselves (a word outside the vocabulary also as a prefix
    when it is long enough: see :data:`PREFIX_ANY`) or any term the vocabulary
    gives for them.

    The size is bounded: at most one prefix per query word (at most
    :data:`MAX_QUERY_WORDS`), and the vocabulary's terms are a fixed list.
    ``whole``: words the caller knows no other indexed word starts with, matched
    as whole words (the same materials, found faster: :func:`sole_terms`).
    """
    groups: list[tuple[Phrase, ...]] = []
    i = 0
    while i < len(query_words):
        for size in range(min(synonyms.LONGEST, len(query_words) - i), 0, -1):
            span = tuple(query_words[i : i + size])
            terms = synonyms.EXPANSIONS.get(" ".join(span), ())
            if terms or size == 1:
                break
        # A name of the vocabulary is a whole term (``pla`` is not ``plaster``).
        prefix = (
            not terms and span[-1] not in whole and _prefix(span[-1], i + size == len(query_words))
        )
        own = Phrase(span, prefix)
        groups.append((own, *(Phrase(tuple(t.split())) for t in terms if t != " ".join(span))))
        i += size
    return TextQuery(tuple(groups))


class Matching(BinaryExpression[bool]):
    """``materials.id IN (the ids the full-text query matches)``, which also carries
    the query, so that ``sort=relevance`` can rank by it (:func:`matching_in`)."""

    inherit_cache = True
    text_query: TextQuery


def _matching(ids: Any, query: TextQuery) -> Matching:
    from biomatdb.models import Material

    found = tagged(Material.id.in_(ids), Matching)
    found.text_query = query
    return found


def matching_in(where: Iterable[ColumnElement[bool]]) -> Matching | None:
    """The full-text condition among a search's conditions, if there is one."""
    return next((c for c in where if isinstance(c, Matching)), None)


class FullTextIndex(Protocol):
    """What the rest of the code needs from a full-text engine."""

    def replace(self, session: Session, documents: Mapping[int, str]) -> None:
        """(Re)index the given materials: ``{material id: document}``."""

    def add(self, session: Session, documents: Mapping[int, str]) -> None:
        """Index materials that are not in the index yet (just created)."""

    def remove(self, session: Session, material_ids: Iterable[int]) -> None:
        """Drop materials from the index."""

    def matching(self, query_words: list[str], session: Session | None = None) -> Matching:
        """A condition on ``materials.id`` true when every word (see :func:`expand`)
        occurs in the material (``session``: the index may be read to plan the query)."""

    def ranks(self, query: TextQuery) -> Subquery:
        """``(material_id, rank)`` of the materials the query matches; the lower the
        rank, the better the match (a float, the same on every call while the
        index does not change)."""


_sqlite_fts = table(FTS_TABLE, column("rowid", Integer), column("document"))
_pg_fts = table(FTS_TABLE, column("material_id", Integer), column("document"))


class SqliteFts5:
    """SQLite FTS5 virtual table ``material_fts(document)``; rowid is the material id."""

    def replace(self, session: Session, documents: Mapping[int, str]) -> None:
        self.remove(session, documents.keys())
        self.add(session, documents)

    def add(self, session: Session, documents: Mapping[int, str]) -> None:
        if not documents:
            return
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

    def matching(self, query_words: list[str], session: Session | None = None) -> Matching:
        whole = frozenset() if session is None else sole_terms(session, query_words)
        query = expand(query_words, whole)
        subquery = text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts_query")
        return _matching(
            subquery.bindparams(bindparam("fts_query", query.fts5(), unique=True))
            .columns(rowid=Integer)
            .scalar_subquery(),
            query,
        )

    def ranks(self, query: TextQuery) -> Subquery:
        # bm25(): negative, the lower the better.
        ranked = text(
            f"SELECT rowid AS material_id, bm25({FTS_TABLE}) AS rank FROM {FTS_TABLE} "
            f"WHERE {FTS_TABLE} MATCH :fts_query"
        )
        return (
            ranked.bindparams(bindparam("fts_query", query.fts5(), unique=True))
            .columns(material_id=Integer, rank=Float)
            .subquery("fts_ranks")
        )


def sole_terms(session: Session, query_words: list[str]) -> frozenset[str]:
    """The query's words that no other term of the SQLite index starts with.

    FTS5 answers a prefix query by merging the lists of every term with that prefix,
    even when there is only one: about twice the work of a whole word
    (``porous* scaffold*`` 3.5 ms against 1.7 at 100k materials). One seek in the
    index's term list per word (about 0.07 ms) tells whether the prefix is the word
    alone, and then the whole word is asked for: the same materials. Only ASCII
    words: FTS5's tokenizer folds some other letters (``ø`` to ``o``), so for them
    the term list may spell the word otherwise.
    """
    sole: set[str] = set()
    connection = session.connection()
    for position, word in enumerate(query_words, start=1):
        # Only the words expand() would ask as prefixes.
        if not word.isascii() or not _prefix(word, last=position == len(query_words)):
            continue
        # Terms are letters and digits only, so every longer term starting with the
        # word sorts at or after word + "0", and before the next prefix.
        after = word[:-1] + chr(ord(word[-1]) + 1)
        longer = connection.exec_driver_sql(
            f"SELECT 1 FROM {SQLITE_FTS_TERMS} WHERE term >= ? AND term < ? LIMIT 1",
            (word + "0", after),
        ).first()
        if longer is None:
            sole.add(word)
    return frozenset(sole)


class PostgresTsvector:
    """Table ``material_fts(material_id, document tsvector)`` with a GIN index."""

    def replace(self, session: Session, documents: Mapping[int, str]) -> None:
        self.remove(session, documents.keys())
        self.add(session, documents)

    def add(self, session: Session, documents: Mapping[int, str]) -> None:
        if not documents:
            return
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

    def matching(self, query_words: list[str], session: Session | None = None) -> Matching:
        query = expand(query_words)
        subquery = text(
            f"SELECT material_id FROM {FTS_TABLE} "
            "WHERE document @@ to_tsquery('simple'::regconfig, :fts_query)"
        )
        return _matching(
            subquery.bindparams(bindparam("fts_query", query.tsquery(), unique=True))
            .columns(material_id=Integer)
            .scalar_subquery(),
            query,
        )

    def ranks(self, query: TextQuery) -> Subquery:
        # ts_rank(): positive, the higher the better; a real, widened to a double so
        # that the value a cursor carries compares equal to the one recomputed.
        ranked = text(
            "SELECT material_id, (-ts_rank(document, q))::float8 AS rank "
            f"FROM {FTS_TABLE}, to_tsquery('simple'::regconfig, :fts_query) AS q "
            "WHERE document @@ q"
        )
        return (
            ranked.bindparams(bindparam("fts_query", query.tsquery(), unique=True))
            .columns(material_id=Integer, rank=Float)
            .subquery("fts_ranks")
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


# "Did you mean": on an empty result, each word of the query that no published
# material contains (whole, or as a prefix where prefixes apply) is replaced by the
# closest word of the published materials' text, by edit distance (one pass in
# Python over a vocabulary cached per data version). The same code on both
# databases gives the same suggestions; PostgreSQL's pg_trgm would need an extension
# (a superuser), a table of words, and rank otherwise than SQLite.

#: At most this many suggestions.
MAX_SUGGESTIONS = 3
#: "Did you mean" learns its words from at most this many published materials.
VOCABULARY_MATERIALS = 20_000
#: Known words by length: ``(word, materials, bigrams)``.
Buckets = dict[int, list[tuple[str, int, frozenset[str]]]]
_known_cache: dict[str, tuple[int, dict[str, int], list[str], Buckets]] = {}
_known_lock = Lock()


def _max_distance(word: str) -> int:
    """How many edits a correction may make: none for words of under 4 characters
    (too many neighbours), 1 up to 8, else 2."""
    return 0 if len(word) < 4 else 1 if len(word) <= 8 else 2


def distance(a: str, b: str, bound: int) -> int:
    """The optimal string alignment distance (insertions, deletions, substitutions,
    transpositions of neighbours) of ``a`` and ``b``, or ``bound + 1`` beyond ``bound``."""
    if abs(len(a) - len(b)) > bound:
        return bound + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            best = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                best = min(best, before[j - 2] + 1)
            current[j] = best
        if min(current) > bound:
            return bound + 1
        before, previous = previous, current
    return min(previous[-1], bound + 1)


def _published_texts(session: Session) -> Iterable[tuple[int, str | None]]:
    """``(material id, text)`` of the names in the documents of published materials:
    names, synonyms, subclasses, trade names, organization names, device names and
    identifiers (not descriptions: ten times the words, to read after every write)."""
    from biomatdb.models import Material, Organization, RegulatoryRecord, SupplierOffering
    from biomatdb.vocab import MaterialStatus

    # Bounded: the words of at most VOCABULARY_MATERIALS materials (the first by id),
    # so that building the list after a write costs at most about a second.
    last_id = session.scalar(
        select(Material.id)
        .where(Material.status == MaterialStatus.published.value)
        .order_by(Material.id)
        .offset(VOCABULARY_MATERIALS - 1)
        .limit(1)
    )
    published = Material.status == MaterialStatus.published.value
    if last_id is not None:
        published = published & (Material.id <= last_id)
    connection = session.connection()
    for mid, name, synonyms_, subclass in connection.execute(
        select(Material.id, Material.name, Material.synonyms, Material.subclass).where(published)
    ):
        yield from ((mid, t) for t in (name, *(synonyms_ or []), subclass))
    for mid, trade_name, organization in connection.execute(
        select(SupplierOffering.material_id, SupplierOffering.trade_name, Organization.name)
        .join(Organization, Organization.id == SupplierOffering.organization_id)
        .join(Material, Material.id == SupplierOffering.material_id)
        .where(published)
    ):
        yield from ((mid, trade_name), (mid, organization))
    for mid, device_name, identifier in connection.execute(
        select(
            RegulatoryRecord.material_id, RegulatoryRecord.device_name, RegulatoryRecord.identifier
        )
        .join(Material, Material.id == RegulatoryRecord.material_id)
        .where(published)
    ):
        yield from ((mid, device_name), (mid, identifier))


def _bigrams(word: str) -> frozenset[str]:
    return frozenset(word[i : i + 2] for i in range(len(word) - 1))


def _known_words(session: Session, version: int) -> tuple[dict[str, int], list[str], Buckets]:
    """Each word of the published materials' names with the number of materials that
    contain it, the words sorted (for prefixes) and by length with their bigrams (for
    corrections); cached per database and data version (``version``: the caller's
    ``counts.data_version``)."""
    database = str(session.get_bind().engine.url)
    with _known_lock:
        cached = _known_cache.get(database)
    if cached is not None and cached[0] == version:
        return cached[1], cached[2], cached[3]
    # Occurrences (a proxy for how many materials use a word): a count per distinct
    # word, so that memory grows with the vocabulary, not with the database.
    known: dict[str, int] = {}
    for _, text_ in _published_texts(session):
        if text_:
            for word in normalize(text_).split():
                known[word] = known.get(word, 0) + 1
    buckets: Buckets = {}
    for word, count in known.items():
        buckets.setdefault(len(word), []).append((word, count, _bigrams(word)))
    ordered = sorted(known)
    with _known_lock:
        _known_cache.clear()  # one database per process in practice: keep one entry
        _known_cache[database] = (version, known, ordered, buckets)
    return known, ordered, buckets


def _is_known(word: str, last: bool, known: dict[str, int], ordered: list[str]) -> bool:
    if word in known or word in synonyms.EXPANSIONS:
        return True
    if not _prefix(word, last):
        return False
    at = bisect_left(ordered, word)
    return at < len(ordered) and ordered[at].startswith(word)


def _corrections(word: str, known: Buckets) -> list[str]:
    """The closest known words, best first (fewest edits, then the most materials).

    An edit changes at most 3 of a word's distinct bigrams, so a candidate sharing
    fewer than ``len(bigrams) - 3 * bound`` of them is skipped without computing
    its distance (set intersections in C instead of a Python loop per letter)."""
    bound = _max_distance(word)
    if bound == 0:
        return []
    grams = _bigrams(word)
    needed = len(grams) - 3 * bound
    scored = [
        (d, -count, candidate)
        for size in range(len(word) - bound, len(word) + bound + 1)
        for candidate, count, theirs in known.get(size, ())
        if len(grams & theirs) >= needed and (d := distance(word, candidate, bound)) <= bound
    ]
    return [candidate for *_, candidate in sorted(scored)[:MAX_SUGGESTIONS]]


def suggestions(session: Session, query_words: list[str], version: int) -> list[list[str]]:
    """Corrected word lists for a query that found nothing (best first, at most
    :data:`MAX_SUGGESTIONS`; none when no word can be corrected). The caller keeps
    the ones that find something."""
    known, ordered, buckets = _known_words(session, version)
    options: list[list[str]] = []
    for position, word in enumerate(query_words):
        last = position == len(query_words) - 1
        found = [] if _is_known(word, last, known, ordered) else _corrections(word, buckets)
        options.append(found or [word])
    if all(len(o) == 1 and o[0] == w for o, w in zip(options, query_words, strict=True)):
        return []
    width = max(len(o) for o in options)
    corrected = [[o[min(k, len(o) - 1)] for o in options] for k in range(width)]
    return [list(c) for c in dict.fromkeys(tuple(c) for c in corrected)]
