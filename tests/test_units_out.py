"""Units out (``units=KEY:UNIT,...``) and the rounding of derived values, on search,
detail and compare; and the limits of ``units`` and of the Accept header."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from biomatdb.api import negotiation
from biomatdb.errors import NotAcceptable
from tests.helpers import problem_of


def summary(client: TestClient, url: str, slug: str) -> dict[str, Any]:
    body = client.get(url).json()
    found: dict[str, Any] = next(m for m in body["data"] if m["id"] == slug)["summary"]
    return found


def test_search_shows_the_asked_units_and_the_rest_canonical(client: TestClient) -> None:
    plain = summary(client, "/api/v1/materials?class=polymer", "fx-peek")
    mpa = summary(
        client, "/api/v1/materials?class=polymer&units=youngs_modulus:MPa,density:kg/m^3", "fx-peek"
    )
    assert plain["youngs_modulus"] == {
        "min": 3.5,  # 508 ksi = 3.50253670493 GPa, to 3 digits
        "max": 3.5,
        "typical": 3.5,
        "unit": "GPa",
        "count": 1,
    }
    assert mpa["youngs_modulus"] == {
        "min": 3500.0,
        "max": 3500.0,
        "typical": 3500.0,
        "unit": "MPa",
        "count": 1,
    }
    assert mpa["tensile_strength"] == plain["tensile_strength"]  # not asked: canonical
    # 14,000 psi and a glass transition of 416.15 K (5 digits) in degC.
    assert plain["tensile_strength"]["typical"] == 96.5
    assert plain["glass_transition_temperature"]["typical"] == 143


def test_temperatures_convert_with_their_offset(client: TestClient) -> None:
    kelvin = summary(
        client, "/api/v1/materials?class=polymer&units=glass_transition_temperature:K", "fx-plga"
    )
    assert kelvin["glass_transition_temperature"] == {
        "min": 318.0,  # 45 degC: 318.15 K to the 3 digits of "45" (at least 3)
        "max": 323.0,
        "typical": 321.0,
        "unit": "K",
        "count": 1,
    }


def test_detail_values_and_summary_in_the_asked_units(client: TestClient) -> None:
    plain = client.get("/api/v1/materials/fx-steel")
    psi = client.get("/api/v1/materials/fx-steel?units=tensile_strength:psi,youngs_modulus:ksi")
    value = next(v for v in psi.json()["properties"] if v["property"] == "tensile_strength")
    assert value["canonical"] == {"min": 70000.0, "max": 90000.0, "unit": "psi"}
    assert (value["min"], value["unit"]) == (70000.0, "psi")  # as given, untouched
    assert psi.json()["summary"]["youngs_modulus"]["typical"] == 28000
    plain_value = next(v for v in plain.json()["properties"] if v["property"] == "tensile_strength")
    assert plain_value["canonical"] == {"min": 483.0, "max": 621.0, "unit": "MPa"}
    # Another representation, another tag; the plain one is what writes check.
    assert psi.headers["etag"] != plain.headers["etag"]
    again = client.get(
        "/api/v1/materials/fx-steel?units=youngs_modulus:ksi,tensile_strength:psi",
        headers={"If-None-Match": psi.headers["etag"]},
    )
    assert again.status_code == 304


def test_compare_rows_in_the_asked_units(client: TestClient) -> None:
    data = client.get(
        "/api/v1/compare?ids=fx-mg,fx-collagen&properties=youngs_modulus&units=youngs_modulus:kPa"
    ).json()["data"]
    row = data["properties"][0]
    assert row["unit"] == "kPa"
    assert row["values"]["fx-mg"]["typical"] == 45e6
    assert row["values"]["fx-collagen"] == {
        "min": 500.0,
        "max": 600.0,
        "typical": 550.0,
        "count": 2,
    }


@pytest.mark.parametrize(
    ("units", "message"),
    [
        ("youngs_modulus:g", "dimension"),
        ("stiffness:GPa", "unknown property"),
        ("youngs_modulus", "is not KEY:UNIT"),
        ("youngs_modulus:GPa,youngs_modulus:MPa", "two units"),
        ("youngs_modulus:GPa^(9^9^9)", "youngs_modulus: unknown unit"),
        (",".join(["density:g/cm^3"] * 51), "at most 50"),
    ],
)
def test_bad_units_are_a_400_naming_the_parameter(
    client: TestClient, units: str, message: str
) -> None:
    for url in (
        f"/api/v1/materials?units={units}",
        f"/api/v1/materials/fx-mg?units={units}",
        f"/api/v1/compare?ids=fx-mg,fx-steel&units={units}",
        f"/api/v1/values?units={units}",
    ):
        problem = problem_of(client.get(url), 400)
        assert [e["path"] for e in problem["errors"]] == ["units"], url
        assert message in problem["errors"][0]["message"], url


def test_the_same_unit_twice_is_fine(client: TestClient) -> None:
    url = "/api/v1/materials?units=density:kg/m^3,density:kg/m^3&class=metal"
    assert client.get(url).status_code == 200


def test_an_accept_header_is_read_to_its_first_20_ranges() -> None:
    offered = {"json": "application/json", "csv": "text/csv"}
    many = ", ".join(["image/png"] * 20 + ["text/csv"])
    with pytest.raises(NotAcceptable):
        negotiation.choose(many, None, offered)
    huge = ", ".join(["image/png"] * 100_000)  # answered at once, whatever its length
    with pytest.raises(NotAcceptable):
        negotiation.choose(huge, None, offered)
    assert negotiation.choose("text/csv;q=0.9, application/json;q=0.8", None, offered) == "csv"
