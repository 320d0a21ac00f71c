"""Contract section 8 and issue 12: material identifiers (ChEBI, PubChem, CAS, MeSH,
UNII, Wikidata) in their own table, the regulatory record's GMDN code, indexes for the
new search filters (identifier=, biocompat=, product_code=, decided=), and two
properties for the resorbable metals and hydrogels: corrosion_rate and swelling_ratio.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Frozen here on purpose (a test compares the table with biomatdb.catalogue).
PROPERTIES = [
    {
        "key": "swelling_ratio",
        "name": "Swelling ratio",
        "category": "physical",
        "canonical_unit": "%",
        "dimension": "dimensionless",
        "lower_bound": 0.0,
        "upper_bound": None,
        "description": "Uptake of water or medium by a hydrogel or polymer: swollen to dry "
        "mass or volume, or the percentage gain (conditions say which); a ratio of 15 is "
        "1500 %.",
    },
    {
        "key": "corrosion_rate",
        "name": "Corrosion (degradation) rate",
        "category": "chemical",
        "canonical_unit": "mm/year",
        "dimension": "[length] / [time]",
        "lower_bound": 0.0,
        "upper_bound": None,
        "description": "Loss of thickness per time of a corroding (e.g. resorbable) metal; "
        "medium and method (immersion, hydrogen evolution, electrochemical) in conditions.",
    },
]

INDEXES = [
    (
        "ix_biocompatibility_results_endpoint_result_material_id",
        "biocompatibility_results",
        ["endpoint", "result", "material_id"],
    ),
    (
        "ix_regulatory_records_upper_product_code_decision_date",
        "regulatory_records",
        [sa.text("upper(product_code)"), "decision_date", "material_id"],
    ),
    (
        "ix_regulatory_records_decision_date_material_id",
        "regulatory_records",
        ["decision_date", "material_id"],
    ),
]


def upgrade() -> None:
    op.create_table(
        "material_identifiers",
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["materials.id"],
            name=op.f("fk_material_identifiers_material_id_materials"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("material_id", "position", name=op.f("pk_material_identifiers")),
    )
    op.create_index(
        "ix_material_identifiers_scheme_value_material_id",
        "material_identifiers",
        ["scheme", "value", "material_id"],
    )
    # A nullable column is added in place on both engines (no batch copy).
    op.add_column("regulatory_records", sa.Column("gmdn", sa.String(length=16), nullable=True))
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)
    properties = sa.table(
        "properties",
        *(sa.column(key) for key in PROPERTIES[0]),
    )
    op.bulk_insert(properties, PROPERTIES)


def downgrade() -> None:
    keys = ", ".join(f"'{p['key']}'" for p in PROPERTIES)
    used = (
        op.get_bind()
        .execute(sa.text(f"SELECT count(*) FROM property_values WHERE property_key IN ({keys})"))
        .scalar()
    )
    if used:
        # Dropping them would leave versions, summaries and packed summaries that name
        # properties the older code does not know: refuse rather than half-downgrade.
        raise RuntimeError(
            f"{used} property value(s) of swelling_ratio or corrosion_rate exist; revision "
            "0007 does not know these properties. Remove them (re-import the materials "
            "without them) before downgrading."
        )
    op.execute(f"DELETE FROM properties WHERE key IN ({keys})")
    for name, table, _ in INDEXES:
        op.drop_index(name, table_name=table)
    op.drop_column("regulatory_records", "gmdn")
    op.drop_index(
        "ix_material_identifiers_scheme_value_material_id", table_name="material_identifiers"
    )
    op.drop_table("material_identifiers")
