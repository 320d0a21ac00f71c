"""Imports of files of any size (``exchange.streaming``): read, checked and written a
batch at a time, with the same answers as a whole-document import: the same report,
the same errors at the same paths, all or nothing, memory bounded by a batch."""

from __future__ import annotations

import copy
import gc
import json
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from biomatdb.bundles import stream
from biomatdb.errors import InvalidBundle
from biomatdb.exchange import streaming
from biomatdb.exchange.importer import import_documents
from biomatdb.models import Material, PropertyValue
from biomatdb.synth import generate
from tests.conftest import load_json

FIXTURES = Path(__file__).parent / "fixtures"
SEARCH_BUNDLE = FIXTURES / "search_bundle.json"


def parts(path: Path) -> list[Any]:
    return list(stream.file_parts(path))


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")
    return path


def report_of(session: Session, paths: list[Path], **options: Any) -> dict[str, Any]:
    return streaming.import_files(session, paths, **options).as_dict()


# -- reading -----------------------------------------------------------------------------


@pytest.mark.dialect_free
@pytest.mark.parametrize("chunk", [7, 64, 1 << 20])
def test_the_parts_are_the_document(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    # A window of 7 bytes cuts every string, number and escape somewhere: the parts
    # are still exactly the document's, in order.
    monkeypatch.setattr(stream, "CHUNK_BYTES", chunk)
    document = load_json(SEARCH_BUNDLE)
    found = parts(SEARCH_BUNDLE)
    assert [p.key for p in found if isinstance(p, stream.TopLevel)] == [
        "references",
        "organizations",
    ]
    assert [p.value for p in found if isinstance(p, stream.Material)] == document["materials"]
    assert [p.index for p in found if isinstance(p, stream.Material)] == list(
        range(len(document["materials"]))
    )


@pytest.mark.dialect_free
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"materials": [{"id": "a"},\n  {"id": }]}', "invalid JSON at line 2 column 10"),
        ('{"materials": [{"id": "a"} {"id": "b"}]}', "Expecting ',' delimiter"),
        ('{"materials": []}\n{"materials": []}', "invalid JSON at line 2 column 1: Extra data"),
        ('{"materials": [], "materials": []}', "duplicate key 'materials'"),
        ('{"materials": [{"id": "a", "id": "b"}]}', "duplicate key 'id'"),
        ('[{"id": "a"}]', "a bundle must be a JSON object"),
        ("", "Expecting value"),
        ('{"materials": [{"id": "a"}', "Expecting ',' delimiter"),
        ('{"references": [' * 2000, "nested too deeply"),
    ],
)
def test_a_file_that_is_not_a_bundle_is_named_with_its_place(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, text: str, message: str
) -> None:
    monkeypatch.setattr(stream, "CHUNK_BYTES", 5)
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidBundle) as caught:
        parts(path)
    assert message in caught.value.errors[0].message, caught.value.errors


@pytest.mark.dialect_free
def test_not_utf8_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"materials": [{"name": "caf\xe9"}]}')
    with pytest.raises(InvalidBundle) as caught:
        parts(path)
    assert caught.value.errors[0].message == "not UTF-8: invalid continuation byte at byte 28"


@pytest.mark.dialect_free
def test_nul_characters_are_named_and_reading_goes_on(tmp_path: Path) -> None:
    path = write(
        tmp_path / "nul.json",
        {"materials": [{"id": "a"}, {"id": "b", "name": "x\x00y"}, {"id": "c"}]},
    )
    found = parts(path)
    assert [p.problem.path for p in found if isinstance(p, stream.Broken)] == ["materials[1].name"]
    assert [p.value for p in found if isinstance(p, stream.Material)] == [
        {"id": "a"},
        None,
        {"id": "c"},
    ]


# -- importing -----------------------------------------------------------------------------


def broken_bundle() -> dict[str, Any]:
    """The search fixture with problems spread over its materials (several batches of
    two): a bad class, an unknown reference, a duplicate id, a bad unit."""
    bundle = copy.deepcopy(load_json(SEARCH_BUNDLE))
    materials = bundle["materials"]
    materials[1]["class"] = "rock"
    materials[4]["properties"][0]["source"] = "no-such-reference"
    materials[7]["id"] = materials[2]["id"]
    materials[10]["properties"][0]["unit"] = "furlong"
    return {"extra": 1, **bundle}  # problems are listed in file order


def test_the_report_is_that_of_a_whole_document_import(
    empty_database: Session, tmp_path: Path
) -> None:
    bundle = broken_bundle()
    path = write(tmp_path / "broken.json", bundle)
    streamed = report_of(empty_database, [path], batch_materials=2)
    empty_database.rollback()
    whole = import_documents(empty_database, [(str(path), bundle)]).as_dict()
    empty_database.rollback()
    assert streamed["errors"] == whole["errors"]
    assert [e["path"] for e in streamed["errors"]] == [
        "extra",
        "materials[1].class",
        "materials[4].properties[0].source",
        "materials[7].id",
        "materials[10].properties[0].unit",
    ]
    assert empty_database.scalar(select(func.count()).select_from(Material)) == 0


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_good_file_in_batches_is_imported_whole(
    empty_database: Session, tmp_path: Path, dry_run: bool
) -> None:
    bundle = load_json(SEARCH_BUNDLE)
    path = write(tmp_path / "good.json", bundle)
    streamed = report_of(empty_database, [path], batch_materials=3, dry_run=dry_run)
    assert streamed["ok"], streamed["errors"]
    assert streamed["materials"] == {"created": 13, "updated": 0, "unchanged": 0}
    assert streamed["references"]["created"] == len(bundle["references"])
    stored = empty_database.scalar(select(func.count()).select_from(Material))
    assert stored == (0 if dry_run else 13)
    if not dry_run:
        values = empty_database.scalar(select(func.count()).select_from(PropertyValue))
        assert values == sum(len(m["properties"]) for m in bundle["materials"])
        empty_database.commit()
        again = report_of(empty_database, [path], batch_materials=5)
        assert again["materials"] == {"created": 0, "updated": 0, "unchanged": 13}


def test_rows_written_in_bulk_are_those_an_insert_would_write(
    empty_database: Session, tmp_path: Path
) -> None:
    """Materials are written with ids taken first and one COPY (or executemany), not an
    INSERT ... RETURNING: their ids follow on as an insert's would, and their times
    (with the versions' and the change log's) are stored in the form SQLAlchemy binds,
    so that comparing them with a bound time finds them (on SQLite, text compared as
    text: a row stored as ``...+00:00``, as versions and changes were, equals no
    bound time)."""
    from biomatdb.models import Change, MaterialVersion

    bundle = load_json(SEARCH_BUNDLE)
    last = bundle["materials"].pop()
    first = write(tmp_path / "first.json", bundle)
    second = write(tmp_path / "second.json", {"materials": [last]})
    assert report_of(empty_database, [first, second], batch_materials=5)["ok"]
    ids = empty_database.scalars(select(Material.id).order_by(Material.id)).all()
    assert ids == list(range(1, 14))
    assert empty_database.scalar(select(Material.id).where(Material.slug == last["id"])) == 13
    for column in (Material.created_at, Material.updated_at, MaterialVersion.created_at, Change.at):
        when = empty_database.scalar(select(func.max(column)))
        assert when is not None
        assert when.tzinfo is not None
        table = select(func.count()).select_from(column.class_)
        # One import, one time: every row of the table is found by it.
        assert empty_database.scalar(table.where(column == when)) == empty_database.scalar(
            table
        ), column
    if empty_database.get_bind().dialect.name == "postgresql":
        # The sequence moved on with the ids taken: the next insert does not collide.
        following = empty_database.scalar(text("SELECT nextval('materials_id_seq')"))
        assert following == 14


def test_references_after_the_materials_are_read_first(
    empty_database: Session, tmp_path: Path
) -> None:
    bundle = load_json(SEARCH_BUNDLE)
    late = {
        "materials": bundle["materials"],
        "organizations": bundle["organizations"],
        "references": bundle["references"],
    }
    path = write(tmp_path / "late.json", late)
    streamed = report_of(empty_database, [path], batch_materials=4)
    assert streamed["ok"], streamed["errors"]
    assert streamed["materials"]["created"] == 13
    assert streamed["references"]["created"] == len(bundle["references"])
    assert empty_database.scalar(select(func.count()).select_from(Material)) == 13


def test_a_later_file_may_name_what_an_earlier_one_declares(
    empty_database: Session, tmp_path: Path
) -> None:
    bundle = load_json(SEARCH_BUNDLE)
    shared = write(
        tmp_path / "shared.json",
        {"references": bundle["references"], "organizations": bundle["organizations"]},
    )
    lines = tmp_path / "materials.ndjson"
    lines.write_text("\n".join(json.dumps(m) for m in bundle["materials"]) + "\n")
    streamed = report_of(empty_database, [shared, lines], batch_materials=5)
    assert streamed["ok"], streamed["errors"]
    assert streamed["materials"]["created"] == 13
    empty_database.rollback()
    alone = report_of(empty_database, [lines])
    unknown = {e["message"].split(":")[0] for e in alone["errors"]}
    assert {"unknown reference 'fx-ref-a'", "unknown organization 'fx-org-it'"} <= unknown
    assert all(m.startswith(("unknown reference", "unknown organization")) for m in unknown)


def test_unreadable_lines_of_every_file_stop_the_import(
    empty_database: Session, tmp_path: Path
) -> None:
    first = tmp_path / "first.ndjson"
    first.write_text('{"id": "a"}\nnot json\n')
    second = tmp_path / "second.json"
    second.write_text('{"materials": [')
    with pytest.raises(InvalidBundle) as caught:
        streaming.import_files(empty_database, [first, second])
    assert [p.path for p in caught.value.errors] == [
        f"{first}: materials[1]",
        f"{second}",
    ]
    empty_database.rollback()
    assert empty_database.scalar(select(func.count()).select_from(Material)) == 0


def test_a_report_lists_the_first_problems_and_counts_the_rest(
    empty_database: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "MAX_ERRORS", 3)
    bad = {"materials": [{"id": f"m{i}", "name": "M", "class": "rock"} for i in range(10)]}
    report = report_of(empty_database, [write(tmp_path / "bad.json", bad)], batch_materials=4)
    assert [e["path"] for e in report["errors"]] == [
        "materials[0].class",
        "materials[1].class",
        "materials[2].class",
        "",
    ]
    assert report["errors"][-1]["message"] == ("and 7 more problem(s): only the first 3 are listed")


def index_names(session: Session) -> set[str]:
    tables = ("materials", "property_values", "material_property_summaries")
    if session.get_bind().dialect.name == "sqlite":
        query = (
            "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "AND tbl_name IN ('materials', 'property_values', 'material_property_summaries')"
        )
    else:  # the indexes, and the foreign keys (dropped for a first load there too)
        query = (
            f"SELECT indexname FROM pg_indexes WHERE tablename IN {tables} UNION "
            "SELECT conname FROM pg_constraint WHERE contype = 'f' AND conrelid IN "
            f"(SELECT oid FROM pg_class WHERE relname IN {tables})"
        )
    return set(session.execute(text(query)).scalars())


def test_a_first_load_builds_the_indexes_after_the_rows(
    empty_database: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = index_names(empty_database)
    assert {
        "ix_property_values_material_id",
        "ix_property_values_lower_specimen_property_key_canonical_min",
    } <= before
    built: list[list[str]] = []
    original = streaming.first_load

    @contextmanager
    def spy(session: Session, tables: Any) -> Iterator[list[str]]:
        with original(session, tables) as names:
            built.append(names)
            # The import runs without them ...
            assert not (set(names) & index_names(session))
            yield names

    monkeypatch.setattr(streaming, "first_load", spy)
    good = write(tmp_path / "good.json", load_json(SEARCH_BUNDLE))
    assert report_of(empty_database, [good])["ok"]
    assert "ix_property_values_material_id" in built[0]
    if empty_database.get_bind().dialect.name == "postgresql":
        assert "fk_property_values_material_id_materials" in before
        assert "fk_property_values_material_id_materials" in built[0]
    assert index_names(empty_database) == before  # ... and has them again at the end
    empty_database.rollback()
    assert index_names(empty_database) == before
    # The next load finds a database in use: nothing is dropped, not even the
    # indexes of tables still empty (a reader of one would wait for the load).
    assert report_of(empty_database, [good])["ok"]
    empty_database.commit()
    built.clear()
    assert report_of(empty_database, [good])["ok"]
    assert built == []
    empty_database.rollback()


def test_memory_is_bounded_by_a_batch_not_by_the_file(databases: Any, tmp_path: Path) -> None:
    """The peak of Python memory while importing 4x the materials stays about the same:
    what grows with the file is on disk, not in the process."""
    from biomatdb import migrations
    from biomatdb.db import make_engine

    peaks = []
    for size in (150, 600):
        path = tmp_path / f"synth-{size}.json"
        path.write_text(json.dumps(generate(size, 7)), encoding="utf-8")
        url = databases.new_url()
        migrations.upgrade(url)
        engine = make_engine(url)
        with Session(engine) as session:
            tracemalloc.start()
            report = streaming.import_files(session, [path], batch_materials=50)
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            assert report.ok, report.errors[:3]
            assert report.materials.created == size
            session.rollback()
        engine.dispose()
    small, large = peaks
    assert large < 1.5 * small, f"peak {small / 1e6:.1f} MB for 150, {large / 1e6:.1f} MB for 600"


def test_a_batch_written_leaves_no_garbage_behind(databases: Any, tmp_path: Path) -> None:
    """The cyclic collector is off while importing, and writing a batch makes reference
    cycles (SQLAlchemy's IN parameters hold each batch's ids through their clones):
    left alone they grew a 100k import by 0.9 MB a batch. Each batch's are collected
    after it, so a full collection after any batch finds nothing more to free."""
    from biomatdb import migrations
    from biomatdb.db import make_engine

    path = tmp_path / "synth-300.json"
    path.write_text(json.dumps(generate(300, 7)), encoding="utf-8")
    url = databases.new_url()
    migrations.upgrade(url)
    engine = make_engine(url)
    left: list[int] = []
    with Session(engine) as session:
        report = streaming.import_files(
            session, [path], batch_materials=50, progress=lambda *_: left.append(gc.collect())
        )
        assert report.ok, report.errors[:3]
        assert report.materials.created == 300
        session.rollback()
    engine.dispose()
    # The first call comes before any batch (what opening the file left); then one
    # after each of the 6 batches, and one at the end of the file.
    assert len(left) == 8
    assert left[1:] == [0] * 7


@pytest.mark.dialect_free
def test_an_ndjson_line_longer_than_the_limit_is_named_and_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(stream, "MAX_PIECE_CHARS", 64)
    monkeypatch.setattr(stream, "CHUNK_BYTES", 16)
    path = tmp_path / "long.ndjson"
    path.write_text('{"id": "a"}\n{"id": "' + "x" * 500 + '"}\n{"id": "c"}\n')
    found = parts(path)
    assert [p.problem.message for p in found if isinstance(p, stream.Broken)] == [
        "line 2: longer than 64 bytes; one material a line"
    ]
    assert [p.value for p in found if isinstance(p, stream.Material)] == [
        {"id": "a"},
        None,
        {"id": "c"},
    ]


def test_statistics_after_a_large_import_leave_the_pages_all_visible(databases: Any) -> None:
    """After a large import PostgreSQL gets ``VACUUM (ANALYZE)``: statistics for the
    planner, and the visibility map that lets index-only scans (a property range in
    name order) skip the table. SQLite is left without ``sqlite_stat1``."""
    from biomatdb.db import make_engine, refresh_statistics

    url = databases.with_fixture()
    engine = make_engine(url)
    try:
        refresh_statistics(engine)
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                vacuumed, analyzed, visible = connection.exec_driver_sql(
                    "SELECT s.last_vacuum IS NOT NULL, s.last_analyze IS NOT NULL, "
                    "c.relallvisible > 0 FROM pg_stat_user_tables s "
                    "JOIN pg_class c ON c.oid = s.relid WHERE s.relname = 'property_values'"
                ).one()
                assert (vacuumed, analyzed, visible) == (True, True, True)
            else:
                tables = connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'"
                ).all()
                assert tables == []
    finally:
        engine.dispose()
