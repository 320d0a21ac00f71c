"""Wire types of ``/api/v1/info`` and ``/api/v1/me``."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from biomatdb.api.wire import WireModel, last_updated_field


class LicenseOut(WireModel):
    id: str = Field(description="SPDX identifier.", examples=["CC-BY-4.0"])
    name: str
    url: str


class ApiVersionOut(WireModel):
    url: str = Field(description="The base path of this version.", examples=["/api/v1"])
    version: str = Field(description="The contract version it answers.", examples=["1.1"])


class CountsOut(WireModel):
    materials: int = Field(description="Published materials.")
    references: int = Field(description="Public references (cited by published materials).")
    organizations: int = Field(description="Public organizations (named by published materials).")
    property_values: int = Field(description="Property values of the published materials.")


class DocumentationOut(WireModel):
    openapi: str = Field(description="The OpenAPI document.")
    swagger_ui: str
    redoc: str
    data_license: str = Field(description="The data licence's notice and attribution guidance.")


class InfoOut(WireModel):
    name: str
    description: str
    api_version: str = Field(
        description="The version of the public contract answered (v1 and its additive "
        "v1.1 sections).",
        examples=["1.1"],
    )
    software_version: str = Field(description="The version of the biomatdb software.")
    available_api_versions: list[ApiVersionOut]
    data_version: int = Field(
        description="Changes whenever the data does: the sequence number of the last entry "
        "of the change feed (`/api/v1/changes`); 0 for an empty database."
    )
    last_updated: datetime | None = last_updated_field()
    data_license: LicenseOut = Field(description="The licence of the data.")
    software_license: LicenseOut = Field(description="The licence of the software.")
    attribution: str = Field(description="What to credit when the data is reused.")
    how_to_cite: str = Field(description="A citation of the database (with the date read).")
    counts: CountsOut
    formats: list[str] = Field(description="Formats of lists (`format=` or `Accept`).")
    documentation: DocumentationOut


class InfoMeta(WireModel):
    last_updated: datetime | None = last_updated_field()


class InfoPage(WireModel):
    data: InfoOut
    meta: InfoMeta


class Caller(WireModel):
    """The caller's API key: its name and role (never the key itself)."""

    name: str = Field(description="The key's name, as `biomatdb keys create` gave it.")
    role: Literal["reader", "curator", "editor", "admin"]
    may: list[str] = Field(
        description="What the role may do, in words (each role may also do what the "
        "roles below it may)."
    )
