"""Initial schema: materials and everything a bundle carries, their versions and
the change feed, API keys, the property catalogue, and the full-text index (FTS5
on SQLite, tsvector + GIN on PostgreSQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-26 06:49:25.646080
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("lookup", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "role IN ('reader', 'curator', 'editor', 'admin')", name=op.f("ck_api_keys_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("lookup", name=op.f("uq_api_keys_lookup")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    op.create_table(
        "materials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column(
            "sort_name",
            sa.String(length=300).with_variant(sa.String(length=300, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("material_class", sa.String(length=16), nullable=False),
        sa.Column("subclass", sa.String(length=200), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("degradable", sa.Boolean(), nullable=True),
        sa.Column(
            "synonyms",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("published_version", sa.Integer(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "material_class IN ('metal', 'ceramic', 'glass', 'polymer', 'composite', 'natural')",
            name=op.f("ck_materials_material_class"),
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'in_review', 'published', 'retracted')",
            name=op.f("ck_materials_status"),
        ),
        sa.CheckConstraint("version >= 1", name=op.f("ck_materials_version_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_materials")),
        sa.UniqueConstraint("slug", name=op.f("uq_materials_slug")),
    )
    with op.batch_alter_table("materials", schema=None) as batch_op:
        batch_op.create_index("ix_materials_material_class", ["material_class"], unique=False)
        batch_op.create_index(
            "ix_materials_status_sort_name_slug", ["status", "sort_name", "slug"], unique=False
        )
        batch_op.create_index(
            "ix_materials_status_updated_at_slug", ["status", "updated_at", "slug"], unique=False
        )

    op.create_table(
        "organizations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("website", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organizations")),
        sa.UniqueConstraint("slug", name=op.f("uq_organizations_slug")),
    )
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organizations_country"), ["country"], unique=False)

    op.create_table(
        "properties",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("canonical_unit", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=200), nullable=False),
        sa.Column("lower_bound", sa.Double(), nullable=True),
        sa.Column("upper_bound", sa.Double(), nullable=True),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_properties")),
    )
    op.create_table(
        "references",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=128), nullable=False),
        sa.Column("citation", sa.Text(), nullable=False),
        sa.Column("doi", sa.String(length=255), nullable=True),
        sa.Column("year", sa.Integer(), nullable=True),
        sa.Column("pmid", sa.String(length=32), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_references")),
        sa.UniqueConstraint("slug", name=op.f("uq_references_slug")),
    )
    with op.batch_alter_table("references", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_references_doi"), ["doi"], unique=False)

    op.create_table(
        "biocompatibility_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("endpoint", sa.String(length=32), nullable=False),
        sa.Column("standard", sa.String(length=200), nullable=True),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("reference_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "endpoint IN ('cytotoxicity', 'sensitization', 'irritation', 'systemic_toxicity', 'genotoxicity', 'implantation', 'hemocompatibility', 'carcinogenicity', 'degradation')",
            name=op.f("ck_biocompatibility_results_endpoint"),
        ),
        sa.CheckConstraint(
            "result IN ('pass', 'fail', 'inconclusive')",
            name=op.f("ck_biocompatibility_results_result"),
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_biocompatibility_results_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reference_id"],
            ["references.id"],
            name=op.f("fk_biocompatibility_results_reference_id_references"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_biocompatibility_results")),
    )
    with op.batch_alter_table("biocompatibility_results", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_biocompatibility_results_material_id"), ["material_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_biocompatibility_results_reference_id"), ["reference_id"], unique=False
        )

    op.create_table(
        "changes",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=128), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=True),
        sa.Column("public_version", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "entry",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "kind IN ('material', 'reference', 'organization')", name=op.f("ck_changes_kind")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_changes_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_changes")),
    )
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.create_index("ix_changes_material_id_seq", ["material_id", "seq"], unique=False)

    op.create_table(
        "material_applications",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("application", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_material_applications_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "material_id", "application", name=op.f("pk_material_applications")
        ),
    )
    with op.batch_alter_table("material_applications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_material_applications_application_material_id",
            ["application", "material_id"],
            unique=False,
        )

    op.create_table(
        "material_components",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("component", sa.String(length=200), nullable=False),
        sa.Column("fraction", sa.Float(), nullable=False),
        sa.Column("basis", sa.String(length=8), nullable=False),
        sa.CheckConstraint(
            "basis IN ('mass', 'mole', 'volume')", name=op.f("ck_material_components_basis")
        ),
        sa.CheckConstraint(
            "fraction >= 0 AND fraction <= 1", name=op.f("ck_material_components_fraction_range")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_material_components_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_components")),
    )
    with op.batch_alter_table("material_components", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_material_components_material_id"), ["material_id"], unique=False
        )

    op.create_table(
        "material_property_summaries",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("property_key", sa.String(length=64), nullable=False),
        sa.Column("canonical_min", sa.Float(), nullable=False),
        sa.Column("canonical_max", sa.Float(), nullable=False),
        sa.Column("typical", sa.Float(), nullable=False),
        sa.Column("value_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_material_property_summaries_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_key"],
            ["properties.key"],
            name=op.f("fk_material_property_summaries_property_key_properties"),
        ),
        sa.PrimaryKeyConstraint(
            "material_id", "property_key", name=op.f("pk_material_property_summaries")
        ),
    )
    with op.batch_alter_table("material_property_summaries", schema=None) as batch_op:
        batch_op.create_index(
            "ix_material_property_summaries_property_key_typical_material_id",
            ["property_key", "typical", "material_id"],
            unique=False,
        )

    op.create_table(
        "material_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column(
            "entry",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column(
            "diff",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'in_review', 'published', 'retracted')",
            name=op.f("ck_material_versions_status"),
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_material_versions_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_material_versions")),
        sa.UniqueConstraint(
            "material_id", "version", name=op.f("uq_material_versions_material_id_version")
        ),
    )
    op.create_table(
        "property_values",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("property_key", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("value_min", sa.Float(), nullable=True),
        sa.Column("value_max", sa.Float(), nullable=True),
        sa.Column("unit", sa.String(length=64), nullable=False),
        sa.Column("canonical_min", sa.Float(), nullable=False),
        sa.Column("canonical_max", sa.Float(), nullable=False),
        sa.Column("qualifier", sa.String(length=2), nullable=False),
        sa.Column("uncertainty", sa.Float(), nullable=True),
        sa.Column("specimen", sa.String(length=200), nullable=True),
        sa.Column("method", sa.String(length=300), nullable=True),
        sa.Column(
            "conditions",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("reference_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "qualifier IN ('=', '~', '>=', '<=')", name=op.f("ck_property_values_qualifier")
        ),
        sa.CheckConstraint(
            "canonical_min <= canonical_max", name=op.f("ck_property_values_canonical_interval")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_property_values_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["property_key"],
            ["properties.key"],
            name=op.f("fk_property_values_property_key_properties"),
        ),
        sa.ForeignKeyConstraint(
            ["reference_id"],
            ["references.id"],
            name=op.f("fk_property_values_reference_id_references"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_property_values")),
    )
    with op.batch_alter_table("property_values", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_property_values_material_id"), ["material_id"], unique=False
        )
        batch_op.create_index(
            "ix_property_values_property_key_canonical_min_canonical_max",
            ["property_key", "canonical_min", "canonical_max", "material_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_property_values_reference_id"), ["reference_id"], unique=False
        )

    op.create_table(
        "regulatory_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("jurisdiction", sa.String(length=32), nullable=False),
        sa.Column("pathway", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("identifier", sa.String(length=128), nullable=True),
        sa.Column("device_class", sa.String(length=32), nullable=True),
        sa.Column("product_code", sa.String(length=32), nullable=True),
        sa.Column("device_name", sa.Text(), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("reference_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_regulatory_records_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_regulatory_records_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["reference_id"],
            ["references.id"],
            name=op.f("fk_regulatory_records_reference_id_references"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_regulatory_records")),
    )
    with op.batch_alter_table("regulatory_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_regulatory_records_identifier"), ["identifier"], unique=False
        )
        batch_op.create_index(
            "ix_regulatory_records_jurisdiction_status_material_id",
            ["jurisdiction", "status", "material_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_regulatory_records_material_id"), ["material_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_regulatory_records_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_regulatory_records_reference_id"), ["reference_id"], unique=False
        )

    op.create_table(
        "supplier_offerings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("trade_name", sa.String(length=300), nullable=True),
        sa.Column("grade", sa.String(length=200), nullable=True),
        sa.Column("form", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_supplier_offerings_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organizations.id"],
            name=op.f("fk_supplier_offerings_organization_id_organizations"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_offerings")),
    )
    with op.batch_alter_table("supplier_offerings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_offerings_material_id"), ["material_id"], unique=False
        )
        batch_op.create_index(
            "ix_supplier_offerings_organization_id_material_id",
            ["organization_id", "material_id"],
            unique=False,
        )

    _create_fulltext()
    _insert_catalogue()


def downgrade() -> None:
    _drop_fulltext()
    with op.batch_alter_table("supplier_offerings", schema=None) as batch_op:
        batch_op.drop_index("ix_supplier_offerings_organization_id_material_id")
        batch_op.drop_index(batch_op.f("ix_supplier_offerings_material_id"))

    op.drop_table("supplier_offerings")
    with op.batch_alter_table("regulatory_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regulatory_records_reference_id"))
        batch_op.drop_index(batch_op.f("ix_regulatory_records_organization_id"))
        batch_op.drop_index(batch_op.f("ix_regulatory_records_material_id"))
        batch_op.drop_index("ix_regulatory_records_jurisdiction_status_material_id")
        batch_op.drop_index(batch_op.f("ix_regulatory_records_identifier"))

    op.drop_table("regulatory_records")
    with op.batch_alter_table("property_values", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_property_values_reference_id"))
        batch_op.drop_index("ix_property_values_property_key_canonical_min_canonical_max")
        batch_op.drop_index(batch_op.f("ix_property_values_material_id"))

    op.drop_table("property_values")
    op.drop_table("material_versions")
    with op.batch_alter_table("material_property_summaries", schema=None) as batch_op:
        batch_op.drop_index("ix_material_property_summaries_property_key_typical_material_id")

    op.drop_table("material_property_summaries")
    with op.batch_alter_table("material_components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_material_components_material_id"))

    op.drop_table("material_components")
    with op.batch_alter_table("material_applications", schema=None) as batch_op:
        batch_op.drop_index("ix_material_applications_application_material_id")

    op.drop_table("material_applications")
    with op.batch_alter_table("changes", schema=None) as batch_op:
        batch_op.drop_index("ix_changes_material_id_seq")

    op.drop_table("changes")
    with op.batch_alter_table("biocompatibility_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_biocompatibility_results_reference_id"))
        batch_op.drop_index(batch_op.f("ix_biocompatibility_results_material_id"))

    op.drop_table("biocompatibility_results")
    with op.batch_alter_table("references", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_references_doi"))

    op.drop_table("references")
    op.drop_table("properties")
    with op.batch_alter_table("organizations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organizations_country"))

    op.drop_table("organizations")
    with op.batch_alter_table("materials", schema=None) as batch_op:
        batch_op.drop_index("ix_materials_status_updated_at_slug")
        batch_op.drop_index("ix_materials_status_sort_name_slug")
        batch_op.drop_index("ix_materials_material_class")

    op.drop_table("materials")
    op.drop_table("api_keys")


# The catalogue as of this revision. Frozen here on purpose: a later change to
# biomatdb.catalogue needs its own migration (a test compares the two).
CATALOGUE = [
    # key, name, category, canonical_unit, dimension, lower_bound, upper_bound, description
    (
        "density",
        "Density",
        "physical",
        "g/cm^3",
        "[mass] / [length] ** 3",
        0.0,
        None,
        "Mass per unit volume of the bulk material.",
    ),
    (
        "porosity",
        "Porosity",
        "physical",
        "%",
        "dimensionless",
        0.0,
        100.0,
        "Volume fraction of pores.",
    ),
    (
        "pore_size",
        "Pore size",
        "physical",
        "um",
        "[length]",
        0.0,
        None,
        "Characteristic pore diameter of a porous material or scaffold.",
    ),
    (
        "youngs_modulus",
        "Young's modulus",
        "mechanical",
        "GPa",
        "[mass] / [length] / [time] ** 2",
        0.0,
        None,
        "Elastic modulus in tension, compression or bending.",
    ),
    (
        "tensile_strength",
        "Ultimate tensile strength",
        "mechanical",
        "MPa",
        "[mass] / [length] / [time] ** 2",
        0.0,
        None,
        "",
    ),
    (
        "yield_strength",
        "Yield strength",
        "mechanical",
        "MPa",
        "[mass] / [length] / [time] ** 2",
        0.0,
        None,
        "",
    ),
    (
        "compressive_strength",
        "Compressive strength",
        "mechanical",
        "MPa",
        "[mass] / [length] / [time] ** 2",
        0.0,
        None,
        "",
    ),
    (
        "flexural_strength",
        "Flexural (bending) strength",
        "mechanical",
        "MPa",
        "[mass] / [length] / [time] ** 2",
        0.0,
        None,
        "",
    ),
    (
        "fatigue_strength",
        "Fatigue strength",
        "mechanical",
        "MPa",
        "[mass] / [length] / [time] ** 2",
        0.0,
        None,
        "Stress amplitude endured for a stated number of cycles (see conditions).",
    ),
    (
        "elongation_at_break",
        "Elongation at break",
        "mechanical",
        "%",
        "dimensionless",
        0.0,
        None,
        "",
    ),
    (
        "fracture_toughness",
        "Fracture toughness (K_IC)",
        "mechanical",
        "MPa*m^0.5",
        "[mass] / [length] ** 0.5 / [time] ** 2",
        0.0,
        None,
        "",
    ),
    (
        "vickers_hardness",
        "Vickers hardness",
        "mechanical",
        "HV",
        "[mass] / [length] / [time] ** 2",
        0.0,
        None,
        "Vickers hardness number (kgf/mm^2); values in GPa or MPa convert.",
    ),
    (
        "poissons_ratio",
        "Poisson's ratio",
        "mechanical",
        "dimensionless",
        "dimensionless",
        -1.0,
        0.5,
        "",
    ),
    (
        "degradation_time",
        "Degradation (resorption) time",
        "biological",
        "month",
        "[time]",
        0.0,
        None,
        "Time to complete resorption or mass loss, in vivo or in vitro (see conditions).",
    ),
    (
        "water_contact_angle",
        "Water contact angle",
        "surface",
        "degree",
        "dimensionless",
        0.0,
        180.0,
        "",
    ),
    (
        "glass_transition_temperature",
        "Glass transition temperature",
        "thermal",
        "degC",
        "[temperature]",
        -273.15,
        None,
        "",
    ),
    (
        "melting_temperature",
        "Melting temperature",
        "thermal",
        "degC",
        "[temperature]",
        -273.15,
        None,
        "",
    ),
]


def _insert_catalogue() -> None:
    properties = sa.table(
        "properties",
        sa.column("key"),
        sa.column("name"),
        sa.column("category"),
        sa.column("canonical_unit"),
        sa.column("dimension"),
        sa.column("lower_bound"),
        sa.column("upper_bound"),
        sa.column("description"),
    )
    keys = (
        "key",
        "name",
        "category",
        "canonical_unit",
        "dimension",
        "lower_bound",
        "upper_bound",
        "description",
    )
    op.bulk_insert(properties, [dict(zip(keys, row, strict=True)) for row in CATALOGUE])


def _create_fulltext() -> None:
    # Text is normalised by biomatdb.search.fulltext before it is indexed, so the
    # tokenizers only split on spaces and both engines see the same words.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE material_fts USING fts5(document, "
            "tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE TABLE material_fts ("
            " material_id INTEGER PRIMARY KEY"
            " REFERENCES materials (id) ON DELETE CASCADE,"
            " document TSVECTOR NOT NULL)"
        )
        op.execute("CREATE INDEX ix_material_fts_document ON material_fts USING gin (document)")


def _drop_fulltext() -> None:
    op.execute("DROP TABLE IF EXISTS material_fts")
