"""What ``/api/v1/info`` says: the terms (fixed here, in code) and the counts (read)."""

from __future__ import annotations

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from biomatdb import __version__
from biomatdb.info.schemas import (
    ApiVersionOut,
    CountsOut,
    DocumentationOut,
    InfoOut,
    LicenseOut,
)
from biomatdb.models import Material, Organization, PropertyValue, Reference
from biomatdb.search.counts import data_version, last_updated
from biomatdb.vocab import MaterialStatus

#: The version of the public contract (docs: the v1 contract and its v1.1 additions).
API_VERSION = "1.1"
#: The data is CC BY 4.0 (LICENSE-DATA at the top of the repository says so in full).
DATA_LICENSE = LicenseOut(
    id="CC-BY-4.0",
    name="Creative Commons Attribution 4.0 International",
    url="https://creativecommons.org/licenses/by/4.0/",
)
SOFTWARE_LICENSE = LicenseOut(
    id="Apache-2.0",
    name="Apache License 2.0",
    url="https://www.apache.org/licenses/LICENSE-2.0",
)
ATTRIBUTION = (
    "biomatdb contributors, biomatdb open biomaterials database, CC BY 4.0 "
    "(https://creativecommons.org/licenses/by/4.0/); state whether the data was changed, "
    "and cite the original sources given with each value (its `source` reference)."
)
FORMATS = ["json", "csv", "ndjson"]


def how_to_cite(version: int, base: str) -> str:
    """A citation of the database as read now (its data version and where)."""
    where = f"{base}/api/v1" if base else "/api/v1"
    return (
        f"biomatdb contributors. biomatdb: an open, curated biomaterials database "
        f"(software {__version__}, data version {version}). {where}. Licensed under "
        "CC BY 4.0. Accessed <date>. Please also cite the sources of the values you use."
    )


def counts(session: Session) -> CountsOut:
    """What the public sees: published materials, public references and organizations,
    the property values of published materials (one query)."""
    published = Material.status == MaterialStatus.published.value
    row = session.execute(
        select(
            select(func.count()).select_from(Material).where(published).scalar_subquery(),
            select(func.count())
            .select_from(Reference)
            .where(Reference.public == true())
            .scalar_subquery(),
            select(func.count())
            .select_from(Organization)
            .where(Organization.public == true())
            .scalar_subquery(),
            select(func.count())
            .select_from(PropertyValue)
            .join(Material, Material.id == PropertyValue.material_id)
            .where(published)
            .scalar_subquery(),
        )
    ).one()
    return CountsOut(
        materials=row[0], references=row[1], organizations=row[2], property_values=row[3]
    )


def info(session: Session, *, base: str) -> InfoOut:
    """The whole answer of ``/api/v1/info`` (``base``: the public base URL, or empty)."""
    version = data_version(session)
    return InfoOut(
        name="biomatdb",
        description="An open, curated, machine-readable biomaterials database: what "
        "materials are made of, their properties (each value with its source), who "
        "supplies them and the regulatory records of devices that contain them.",
        api_version=API_VERSION,
        software_version=__version__,
        available_api_versions=[ApiVersionOut(url=f"{base}/api/v1", version=API_VERSION)],
        data_version=version,
        last_updated=last_updated(session),
        data_license=DATA_LICENSE,
        software_license=SOFTWARE_LICENSE,
        attribution=ATTRIBUTION,
        how_to_cite=how_to_cite(version, base),
        counts=counts(session),
        formats=FORMATS,
        documentation=DocumentationOut(
            openapi=f"{base}/openapi.json",
            swagger_ui=f"{base}/docs",
            redoc=f"{base}/redoc",
            data_license=DATA_LICENSE.url,
        ),
    )


#: What each role adds to those below it (contract section 5).
ROLE_RIGHTS = {
    "reader": "read drafts and the history of materials",
    "curator": "create and edit drafts, import bundles, submit drafts for review",
    "editor": "publish and retract materials, return them to draft",
    "admin": "manage API keys",
}


def may_do(role: str) -> list[str]:
    """The rights of ``role``: its own and those of every role below it."""
    rights = []
    for name, right in ROLE_RIGHTS.items():
        rights.append(right)
        if name == role:
            break
    return rights
