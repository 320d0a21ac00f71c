"""Rank (contract section 6): candidates, criteria, the four methods, and every 422."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fastapi.testclient import TestClient

from biomatdb.selection import ranking
from tests.helpers import problem_of

URL = "/api/v1/rank"
METALS = ["fx-alumina", "fx-mg", "fx-steel", "fx-ti-alloy"]  # with modulus and density
E = {"property": "youngs_modulus", "goal": "target", "target": 18, "unit": "GPa"}
DENSITY = {"property": "density", "goal": "min"}


def rank(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(URL, json=body)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    result: dict[str, Any] = response.json()
    return result


def paths(client: TestClient, body: Any) -> list[str]:
    return [e["path"] for e in problem_of(client.post(URL, json=body), 422)["errors"]]


def typical(client: TestClient, slug: str, key: str) -> float:
    value: float = client.get(f"/api/v1/materials/{slug}").json()["summary"][key]["typical"]
    return value


def reference_topsis(
    rows: dict[str, list[float]], goals: list[tuple[str, float | None]], weights: list[float]
) -> dict[str, float]:
    """The contract's target-based TOPSIS, written out plainly for the test."""
    total = sum(weights)
    w = [x / total for x in weights]
    columns = list(zip(*rows.values(), strict=True))
    r: dict[str, list[float]] = {slug: [] for slug in rows}
    for j, (goal, target) in enumerate(goals):
        top, bottom = max(columns[j]), min(columns[j])
        t = top if goal == "max" else bottom if goal == "min" else target
        assert t is not None
        spread = max(top, t) - min(bottom, t)
        for slug, values in rows.items():
            r[slug].append(1 - abs(values[j] - t) / spread if spread else 1.0)
    v = {slug: [w[j] * x for j, x in enumerate(values)] for slug, values in r.items()}
    best = [max(col) for col in zip(*v.values(), strict=True)]
    worst = [min(col) for col in zip(*v.values(), strict=True)]
    scores = {}
    for slug, values in v.items():
        d_plus = math.dist(values, best)
        d_minus = math.dist(values, worst)
        scores[slug] = d_minus / (d_plus + d_minus)
    return scores


def test_topsis_ranks_by_the_contract_formula_with_values_and_details(
    client: TestClient,
) -> None:
    body = {"ids": METALS, "criteria": [{**E, "weight": 3}, {**DENSITY, "weight": 1}]}
    result = rank(client, body)
    rows = {
        slug: [typical(client, slug, "youngs_modulus"), typical(client, slug, "density")]
        for slug in METALS
    }
    expected = reference_topsis(rows, [("target", 18.0), ("min", None)], [3, 1])
    order = sorted(expected, key=lambda s: (-expected[s], s))
    assert [item["id"] for item in result["data"]] == order
    assert [item["rank"] for item in result["data"]] == [1, 2, 3, 4]
    for item in result["data"]:
        # Rank computes on the stored values; the summary shows them to their sources'
        # digits (16,000 ksi: 110.316 GPa stored, 110 shown), hence the tolerance.
        assert item["score"] == pytest.approx(expected[item["id"]], rel=1e-3)
        assert [(c["criterion"], c["unit"]) for c in item["criteria"]] == [
            ("youngs_modulus", "GPa"),
            ("density", "g/cm^3"),
        ]
        assert [c["value"] for c in item["criteria"]] == pytest.approx(rows[item["id"]])
        assert set(item["details"]) == {"d_plus", "d_minus"}
        assert item["score"] == pytest.approx(
            item["details"]["d_minus"] / (item["details"]["d_plus"] + item["details"]["d_minus"]),
            rel=1e-4,
        )
    assert result["meta"] == {
        "method": "topsis",
        "weights": [0.75, 0.25],
        "criteria": [
            {
                "criterion": "youngs_modulus",
                "goal": "target",
                "unit": "GPa",
                "target": 18.0,
                "weight": 0.75,
            },
            {
                "criterion": "density",
                "goal": "min",
                "unit": "g/cm^3",
                "target": None,
                "weight": 0.25,
            },
        ],
        "params": {},
        "total": 4,
        "excluded": [],
    }
    # Magnesium (45 GPa, 1.78 g/cm3) is closest to 18 GPa and lightest: best on both.
    assert result["data"][0]["id"] == "fx-mg"
    assert result["data"][0]["criteria"][0]["normalized"] == pytest.approx(
        1 - (rows["fx-mg"][0] - 18) / (rows["fx-alumina"][0] - 18), rel=1e-5
    )


def test_a_target_in_psi_ranks_exactly_as_the_same_target_in_gpa(client: TestClient) -> None:
    def scores(target: float, unit: str) -> list[tuple[str, float]]:
        criterion = {**E, "target": target, "unit": unit}
        result = rank(client, {"ids": METALS, "criteria": [criterion, DENSITY]})
        return [(item["id"], item["score"]) for item in result["data"]]

    in_gpa = scores(18, "GPa")
    assert scores(18 / 6.894757293168361e-06, "psi") == in_gpa
    assert scores(18_000, "MPa") == in_gpa
    assert scores(18e9, "Pa") == in_gpa


def test_values_and_target_come_back_in_the_unit_the_criterion_speaks(
    client: TestClient,
) -> None:
    result = rank(
        client, {"ids": ["fx-mg", "fx-steel"], "criteria": [{**E, "target": 18000, "unit": "MPa"}]}
    )
    by_id = {item["id"]: item["criteria"][0] for item in result["data"]}
    steel = 28000 * 6.894757293168361 / 1000  # 28,000 ksi in GPa, as stored
    assert by_id["fx-mg"] == {
        "criterion": "youngs_modulus",
        "value": 45000.0,
        "unit": "MPa",
        "normalized": pytest.approx(1 - (45 - 18) / (steel - 18), rel=1e-5),
    }
    assert by_id["fx-steel"]["unit"] == "MPa"
    assert by_id["fx-steel"]["value"] == 193000  # shown to its source's 3 digits
    assert result["meta"]["criteria"][0]["target"] == 18000


def test_candidates_lacking_a_value_are_excluded_and_listed(client: TestClient) -> None:
    ids = [*METALS, "fx-plga", "fx-hydrogel"]
    result = rank(client, {"ids": ids, "criteria": [E, DENSITY]})
    assert [item["id"] for item in result["data"]] == [
        item["id"] for item in rank(client, {"ids": METALS, "criteria": [E, DENSITY]})["data"]
    ]
    assert result["meta"]["total"] == 4
    assert result["meta"]["excluded"] == [
        {"id": "fx-hydrogel", "missing": ["youngs_modulus", "density"]},
        {"id": "fx-plga", "missing": ["density"]},
    ]
    # The column maxima and minima are those of the ranked: the scores do not move.
    alone = rank(client, {"ids": METALS, "criteria": [E, DENSITY]})
    assert [i["score"] for i in result["data"]] == [i["score"] for i in alone["data"]]


def test_ids_and_filter_rank_their_intersection(client: TestClient) -> None:
    body = {
        "ids": ["fx-ti-alloy", "fx-peek", "fx-mg", "fx-alumina"],
        "filter": {"class": ["metal"]},
        "criteria": [E],
    }
    assert sorted(item["id"] for item in rank(client, body)["data"]) == ["fx-mg", "fx-ti-alloy"]


def test_a_filter_alone_takes_every_match(client: TestClient) -> None:
    body = {"filter": {"prop": ["youngs_modulus:100..:GPa"]}, "criteria": [E]}
    assert sorted(item["id"] for item in rank(client, body)["data"]) == [
        "fx-alumina",
        "fx-ha",
        "fx-steel",
        "fx-ti-alloy",
    ]


def test_neither_ids_nor_filter_ranks_every_published_material(client: TestClient) -> None:
    result = rank(client, {"criteria": [{"property": "youngs_modulus", "goal": "max"}]})
    ranked = {item["id"] for item in result["data"]}
    excluded = {item["id"] for item in result["meta"]["excluded"]}
    assert excluded == {"fx-hydrogel"}
    assert "fx-draft" not in ranked | excluded
    assert len(ranked) == 11
    assert result["data"][0]["id"] == "fx-alumina"


def test_an_empty_candidate_set_is_an_empty_answer(client: TestClient) -> None:
    result = rank(client, {"ids": [], "criteria": [E]})
    assert result["data"] == []
    assert result["meta"]["total"] == 0
    result = rank(client, {"filter": {"class": ["natural"], "q": "titanium"}, "criteria": [E]})
    assert result["data"] == []


def test_inline_criteria_rank_by_values_the_database_does_not_hold(client: TestClient) -> None:
    cost = {
        "name": "relative cost",
        "goal": "min",
        "values": {"fx-mg": 3, "fx-ti-alloy": 9, "fx-peek": 1},
    }
    result = rank(client, {"ids": ["fx-mg", "fx-ti-alloy", "fx-steel"], "criteria": [cost]})
    assert [(i["id"], i["rank"], i["score"]) for i in result["data"]] == [
        ("fx-mg", 1, 1.0),
        ("fx-ti-alloy", 2, 0.0),
    ]
    assert result["data"][0]["criteria"] == [
        {"criterion": "relative cost", "value": 3.0, "unit": None, "normalized": 1.0}
    ]
    assert result["meta"]["excluded"] == [{"id": "fx-steel", "missing": ["relative cost"]}]


def test_equal_scores_are_ranked_by_id(client: TestClient) -> None:
    rating = {
        "name": "rating",
        "goal": "max",
        "values": {"fx-steel": 2, "fx-mg": 2, "fx-alumina": 2, "fx-ti-alloy": 5},
    }
    for method in ("topsis", "vikor", "waspas", "weighted_sum"):
        result = rank(client, {"ids": METALS, "criteria": [rating], "method": method})
        assert [i["id"] for i in result["data"]] == [
            "fx-ti-alloy",
            "fx-alumina",
            "fx-mg",
            "fx-steel",
        ], method
        assert [i["rank"] for i in result["data"]] == [1, 2, 3, 4]


def test_each_method_reports_its_own_details_and_direction(client: TestClient) -> None:
    body = {"ids": METALS, "criteria": [E, DENSITY], "params": {"v": 0.3, "lambda": 0.6}}
    vikor = rank(client, {**body, "method": "vikor"})
    scores = [i["score"] for i in vikor["data"]]
    assert scores == sorted(scores)  # lower is better
    assert set(vikor["data"][0]["details"]) == {"S", "R"}
    assert vikor["meta"]["params"] == {"v": 0.3}
    waspas = rank(client, {**body, "method": "waspas"})
    scores = [i["score"] for i in waspas["data"]]
    assert scores == sorted(scores, reverse=True)
    for item in waspas["data"]:
        d = item["details"]
        assert item["score"] == pytest.approx(0.6 * d["wsm"] + 0.4 * d["wpm"], rel=1e-5)
    assert waspas["meta"]["params"] == {"lambda": 0.6}
    plain = rank(client, {**body, "method": "weighted_sum"})
    assert all(item["details"] == {} for item in plain["data"])
    for item in plain["data"]:
        assert item["score"] == pytest.approx(
            sum(0.5 * c["normalized"] for c in item["criteria"]), rel=1e-5
        )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"criteria": []}, ["criteria"]),
        ({}, ["criteria"]),
        ({"criteria": [{"property": "stiffness", "goal": "max"}]}, ["criteria[0].property"]),
        ({"criteria": [{**E, "unit": "g/cm^3"}]}, ["criteria[0].unit"]),
        ({"criteria": [{**E, "unit": "GPa^(9^9^9)"}]}, ["criteria[0].unit"]),
        ({"criteria": [{"property": "density", "goal": "target"}]}, ["criteria[0].target"]),
        ({"criteria": [{**DENSITY, "target": 2}]}, ["criteria[0].target"]),
        ({"criteria": [{**E, "goal": "best"}]}, ["criteria[0].goal"]),
        ({"criteria": [{**E, "weight": 0}]}, ["criteria[0].weight"]),
        ({"criteria": [{**E, "weight": -2}]}, ["criteria[0].weight"]),
        ({"criteria": [{**E, "weight": 1}, DENSITY]}, ["criteria[1].weight"]),
        ({"criteria": [E, {**E, "goal": "max", "target": None}]}, ["criteria[1]"]),
        ({"criteria": [{"goal": "max"}]}, ["criteria[0]"]),
        ({"criteria": [{**DENSITY, "name": "x", "values": {"fx-mg": 1}}]}, ["criteria[0]"]),
        ({"criteria": [{"goal": "max", "values": {"fx-mg": 1}}]}, ["criteria[0].name"]),
        (
            {"criteria": [{"name": "cost", "goal": "min", "values": {"fx-mg": 1, "nope": 2}}]},
            ["criteria[0].values.nope"],
        ),
        (
            {"criteria": [{"name": "cost", "goal": "min", "values": {"fx-draft": 1}}]},
            ["criteria[0].values.fx-draft"],
        ),
        ({"ids": ["fx-mg", "nope", "fx-draft"], "criteria": [E]}, ["ids[1]", "ids[2]"]),
        ({"filter": {"prop": ["youngs_modulus:..x:GPa"]}, "criteria": [E]}, ["filter.prop[0]"]),
        ({"filter": {"sort": "name"}, "criteria": [E]}, ["filter.sort"]),
        ({"filter": {"limit": 5}, "criteria": [E]}, ["filter.limit"]),
        ({"filter": ["metal"], "criteria": [E]}, ["filter"]),
        ({"method": "ahp", "criteria": [E]}, ["method"]),
        ({"params": {"v": 1.5}, "criteria": [E]}, ["params.v"]),
        ({"params": {"gamma": 1}, "criteria": [E]}, ["params.gamma"]),
        ({"criteria": [E], "sort": "score"}, ["sort"]),
        ({"criteria": [E] * 21}, ["criteria"]),
        (
            {
                "ids": ["nope"],
                "filter": {"class": ["alloy"]},
                "criteria": [{"property": "x", "goal": "max"}],
            },
            ["criteria[0].property", "filter.class[0]", "ids[0]"],
        ),
    ],
)
def test_every_bad_body_is_a_422_naming_each_problem(
    client: TestClient, body: dict[str, Any], expected: list[str]
) -> None:
    assert sorted(paths(client, body)) == sorted(expected)


def test_a_body_that_is_not_a_json_object_is_a_422(client: TestClient) -> None:
    assert paths(client, [1, 2]) == [""]
    response = client.post(URL, content=b"{", headers={"content-type": "application/json"})
    problem_of(response, 400 if response.status_code == 400 else 422)
    response = client.post(URL, content=b"{}", headers={"content-type": "text/plain"})
    problem_of(response, 415)


def test_a_target_that_is_not_a_finite_number_is_a_422(client: TestClient) -> None:
    body = b'{"criteria": [{"property": "density", "goal": "target", "target": NaN}]}'
    response = client.post(URL, content=body, headers={"content-type": "application/json"})
    assert [e["path"] for e in problem_of(response, 422)["errors"]] == ["criteria[0].target"]


def test_waspas_refuses_a_column_it_cannot_divide_and_suggests_another_method(
    client: TestClient,
) -> None:
    zero = {"name": "score", "goal": "min", "values": {"fx-mg": 0, "fx-steel": 1}}
    body = {"ids": ["fx-mg", "fx-steel"], "method": "waspas", "criteria": [E, zero]}
    problem = problem_of(client.post(URL, json=body), 422)
    assert [e["path"] for e in problem["errors"]] == ["criteria[1]"]
    assert "topsis" in problem["errors"][0]["message"]
    body["method"] = "topsis"
    assert [i["id"] for i in rank(client, body)["data"]] == ["fx-mg", "fx-steel"]


def test_more_candidates_than_the_cap_is_a_422_asking_to_narrow(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ranking, "MAX_CANDIDATES", 3)
    problem = problem_of(client.post(URL, json={"criteria": [E]}), 422)
    assert [e["path"] for e in problem["errors"]] == ["filter"]
    assert "narrow" in problem["detail"]
    assert rank(client, {"ids": METALS[:3], "criteria": [E]})["meta"]["total"] == 3


def test_at_most_10000_ids_are_taken(client: TestClient) -> None:
    ids = [f"m-{i}" for i in range(10_001)]
    assert paths(client, {"ids": ids, "criteria": [E]}) == ["ids"]


def test_long_id_lists_travel_as_one_parameter(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beyond SHORT_ID_LIST ids the query takes them as one array (PostgreSQL) or JSON
    (SQLite) parameter: the same answers as an IN list."""
    from biomatdb.search import repository

    body = {"ids": [*METALS, "fx-plga"], "criteria": [E, DENSITY]}
    short = rank(client, body)
    monkeypatch.setattr(repository, "SHORT_ID_LIST", 2)
    assert rank(client, body) == short
    assert paths(client, {"ids": [*METALS, "nope", "fx-draft"], "criteria": [E]}) == [
        "ids[4]",
        "ids[5]",
    ]
    compared = client.get("/api/v1/compare?ids=fx-mg,fx-steel,fx-peek").json()["data"]
    assert [m["id"] for m in compared["materials"]] == ["fx-mg", "fx-steel", "fx-peek"]
