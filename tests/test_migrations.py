"""One migration history for both databases: upgrade, no drift, downgrade."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, select

from biomatdb import catalogue, migrations
from biomatdb.db import make_engine
from biomatdb.migrations import include_name, include_object_on
from biomatdb.models import Base, Property
from tests.conftest import DatabaseFactory


def test_upgrade_check_downgrade(databases: DatabaseFactory) -> None:
    url = databases.new_url()
    engine = make_engine(url)
    try:
        migrations.upgrade(url)
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection,
                opts={
                    "compare_type": True,
                    "include_name": include_name,
                    "include_object": include_object_on(connection.dialect.name),
                    "target_metadata": Base.metadata,
                },
            )
            assert compare_metadata(context, Base.metadata) == []
            tables = set(inspect(connection).get_table_names())
            assert "material_fts" in tables
            assert {t.name for t in Base.metadata.sorted_tables} <= tables
        migrations.downgrade(url, "base")
        with engine.connect() as connection:
            assert set(inspect(connection).get_table_names()) <= {"alembic_version"}
        migrations.upgrade(url)  # and back up again, as an operator would
    finally:
        engine.dispose()


def test_catalogue_table_matches_code(session: object) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    rows = {p.key: p for p in session.scalars(select(Property))}
    assert set(rows) == set(catalogue.BY_KEY)
    for key, definition in catalogue.BY_KEY.items():
        row = rows[key]
        assert (
            row.name,
            row.category,
            row.canonical_unit,
            row.dimension,
            row.lower_bound,
            row.upper_bound,
            row.description,
        ) == (
            definition.name,
            definition.category,
            definition.canonical_unit,
            definition.dimension,
            definition.lower_bound,
            definition.upper_bound,
            definition.description,
        ), key


def test_constraint_names_follow_the_convention() -> None:
    for table in Base.metadata.sorted_tables:
        for constraint in table.constraints:
            assert constraint.name, f"unnamed constraint on {table.name}"
        for index in table.indexes:
            assert index.name is not None
            assert index.name.startswith(f"ix_{table.name}_"), index.name


def test_relationships_never_lazy_load() -> None:
    for mapper in Base.registry.mappers:
        for relationship in mapper.relationships:
            assert relationship.lazy == "raise", f"{mapper.class_.__name__}.{relationship.key}"


def test_summary_digits_of_existing_rows_are_filled_as_the_importer_writes_them(
    databases: DatabaseFactory,
) -> None:
    """Revision 0004 fills ``digits`` of summaries written before it existed with the
    rule the importer applies to new ones (units.derived_digits)."""
    from biomatdb.models import PropertySummary

    url = databases.with_fixture()
    engine = make_engine(url)
    query = select(
        PropertySummary.material_id, PropertySummary.property_key, PropertySummary.digits
    ).order_by(PropertySummary.material_id, PropertySummary.property_key)
    try:
        with engine.connect() as connection:
            written = connection.execute(query).all()
        assert {digits for *_, digits in written} >= {3, 5}  # e.g. 110 GPa; 113.75 ...
        migrations.downgrade(url, "0003")
        migrations.upgrade(url)
        with engine.connect() as connection:
            assert connection.execute(query).all() == written
    finally:
        engine.dispose()


def test_material_summaries_of_existing_rows_are_filled_as_the_importer_writes_them(
    databases: DatabaseFactory,
) -> None:
    """Revision 0006 packs ``materials.summary`` from the summary rows: the same bytes
    as the projection writes for a new import (a material without values: empty)."""
    from biomatdb import packed
    from biomatdb.models import Material

    url = databases.with_fixture()
    engine = make_engine(url)
    query = select(Material.slug, Material.summary).order_by(Material.slug)
    try:
        with engine.connect() as connection:
            written = connection.execute(query).all()
        assert dict(written)["fx-hydrogel"] == b""
        assert packed.unpack(dict(written)["fx-mg"])["density"] == (1.78, 1.78, 1.78, 1, 3)
        migrations.downgrade(url, "0005")
        migrations.upgrade(url)
        with engine.connect() as connection:
            assert connection.execute(query).all() == written
    finally:
        engine.dispose()
