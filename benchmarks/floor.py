"""The floor: the best hand-written SQL for each logical query, through the bare driver
(``sqlite3`` or ``psycopg``), on the same database and indexes."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

import psycopg

from benchmarks.queries import PAGE, Query

COLUMNS = "m.id, m.slug, m.name, m.material_class, m.subclass, m.degradable, m.updated_at"


class Floor:
    """Runs :class:`Query` objects as raw SQL on one connection."""

    def __init__(self, dialect: str, dsn: str) -> None:
        self.dialect = dialect
        if dialect == "sqlite":
            self.conn: Any = sqlite3.connect(dsn, check_same_thread=False)
        else:
            self.conn = psycopg.connect(dsn, autocommit=True)

    def close(self) -> None:
        self.conn.close()

    def _sql(self, sql: str) -> str:
        # The queries are written with sqlite's ? placeholders; psycopg wants %s.
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    def all(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        cur = self.conn.cursor()
        cur.execute(self._sql(sql), params)
        rows = cur.fetchall()
        cur.close()
        return rows

    def _fts(self, words: str) -> str:
        if self.dialect == "sqlite":
            match = " AND ".join(f'"{w}"' for w in words.split())
            return f"m.id IN (SELECT rowid FROM material_fts WHERE material_fts MATCH '{match}')"
        tsquery = " & ".join(words.split())
        return (
            "m.id IN (SELECT material_id FROM material_fts WHERE document @@ "
            f"to_tsquery('simple'::regconfig, '{tsquery}'))"
        )

    def where(self, query: Query) -> str:
        parts = ["m.status = 'published'"]
        if query.floor_where:
            parts.append(query.floor_where)
        if query.fts:
            parts.append(self._fts(query.fts))
        return " AND ".join(parts)

    def _extras(self, ids: list[int]) -> None:
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        self.all(
            "SELECT material_id, property_key, canonical_min, canonical_max, typical, "
            f"value_count FROM material_property_summaries WHERE material_id IN ({marks})",
            tuple(ids),
        )
        self.all(
            f"SELECT material_id, application FROM material_applications "
            f"WHERE material_id IN ({marks}) ORDER BY material_id, position",
            tuple(ids),
        )

    def search(self, query: Query) -> int:
        """Run the query as the API would answer it; return the number of rows seen."""
        where = self.where(query)
        if query.pages > 1:
            return self._walk(query, where)
        rows = self.all(
            f"SELECT {COLUMNS} FROM materials m WHERE {where} "
            f"ORDER BY {query.floor_order} LIMIT {(1 if query.facets else PAGE) + 1}"
        )
        self.all(f"SELECT count(*) FROM materials m WHERE {where}")
        self._extras([r[0] for r in rows])
        if query.facets:
            self._facets(where)
        return len(rows)

    def _walk(self, query: Query, where: str) -> int:
        # Materials with the property, in index order (the walk never reaches the
        # few without it in five pages of this corpus, so phase 2 is not needed).
        join = (
            "JOIN material_property_summaries ps ON ps.material_id = m.id "
            "AND ps.property_key = 'youngs_modulus'"
        )
        seen = 0
        after: tuple[Any, str] | None = None
        for _ in range(query.pages):
            keyset = ""
            params: tuple[Any, ...] = ()
            if after is not None:
                typical, slug = after
                keyset = " AND (ps.typical < ? OR (ps.typical = ? AND m.slug > ?))"
                params = (typical, typical, slug)
            rows = self.all(
                f"SELECT {COLUMNS}, ps.typical FROM materials m {join} WHERE {where}{keyset} "
                f"ORDER BY {query.floor_order} LIMIT {PAGE + 1}",
                params,
            )
            self.all(f"SELECT count(*) FROM materials m WHERE {where}")
            page = rows[:PAGE]
            self._extras([r[0] for r in page])
            seen += len(page)
            if len(rows) <= PAGE:
                break
            after = (page[-1][-1], page[-1][1])
        return seen

    def _facets(self, where: str) -> None:
        ids = f"SELECT m.id FROM materials m WHERE {where}"
        self.all(
            f"SELECT material_class, count(*) FROM materials m WHERE {where} "
            "GROUP BY material_class"
        )
        self.all(f"SELECT degradable, count(*) FROM materials m WHERE {where} GROUP BY degradable")
        self.all(
            "SELECT application, count(DISTINCT material_id) FROM material_applications "
            f"WHERE material_id IN ({ids}) GROUP BY application"
        )
        self.all(
            "SELECT jurisdiction, status, count(DISTINCT material_id) FROM regulatory_records "
            f"WHERE material_id IN ({ids}) GROUP BY jurisdiction, status"
        )
        self.all(
            "SELECT jurisdiction, count(DISTINCT material_id) FROM regulatory_records "
            f"WHERE material_id IN ({ids}) GROUP BY jurisdiction"
        )
        self.all(
            "SELECT o.country, count(DISTINCT s.material_id) FROM supplier_offerings s JOIN "
            f"organizations o ON o.id = s.organization_id WHERE s.material_id IN ({ids}) "
            "GROUP BY o.country"
        )

    def detail(self, slug: str) -> int:
        """The rows behind one whole material: its row, its version, what it cites."""
        material = self.all(
            "SELECT id, version, created_at FROM materials WHERE slug = ? AND status = 'published'",
            (slug,),
        )[0]
        entry = self.all(
            "SELECT entry, created_at FROM material_versions WHERE material_id = ? AND version = ?",
            (material[0], material[1]),
        )[0][0]
        data = json.loads(entry) if isinstance(entry, str) else entry
        refs = sorted({v["source"] for v in data.get("properties", []) if v.get("source")})
        orgs = sorted({s["organization"] for s in data.get("suppliers", [])})
        if refs:
            self.all(
                f'SELECT * FROM "references" WHERE slug IN ({",".join("?" * len(refs))})',
                tuple(refs),
            )
        if orgs:
            self.all(
                f"SELECT * FROM organizations WHERE slug IN ({','.join('?' * len(orgs))})",
                tuple(orgs),
            )
        return 1
