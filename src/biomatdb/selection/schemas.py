"""Wire types of compare."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from biomatdb.api.wire import WireModel


class ComparedMaterial(WireModel):
    id: str
    name: str
    material_class: str = Field(alias="class")


class ComparedValue(WireModel):
    """A material's values of one property, in the canonical unit."""

    min: float
    max: float
    typical: float = Field(description="Mean of the midpoints of its values.")
    count: int = Field(description="How many values it has.")


class ComparedProperty(WireModel):
    key: str
    name: str
    unit: str = Field(
        description="The unit every value of the row is in: canonical, or the one asked "
        "for in `units`."
    )
    values: dict[str, ComparedValue | None] = Field(
        description="Per material id (every compared one): its values, or null when it has none."
    )


class Comparison(WireModel):
    materials: list[ComparedMaterial]
    properties: list[ComparedProperty]


class ComparisonOut(WireModel):
    data: Comparison

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "data": {
                        "materials": [
                            {"id": "ti-6al-4v-eli", "name": "Ti-6Al-4V ELI", "class": "metal"},
                            {
                                "id": "peek",
                                "name": "Polyether ether ketone (PEEK)",
                                "class": "polymer",
                            },
                        ],
                        "properties": [
                            {
                                "key": "youngs_modulus",
                                "name": "Young's modulus",
                                "unit": "GPa",
                                "values": {
                                    "ti-6al-4v-eli": {
                                        "min": 100.0,
                                        "max": 125.0,
                                        "typical": 114.0,
                                        "count": 2,
                                    },
                                    "peek": {"min": 3.5, "max": 4.0, "typical": 3.68, "count": 2},
                                },
                            },
                            {
                                "key": "density",
                                "name": "Density",
                                "unit": "g/cm^3",
                                "values": {
                                    "ti-6al-4v-eli": {
                                        "min": 4.4,
                                        "max": 4.4,
                                        "typical": 4.4,
                                        "count": 1,
                                    },
                                    "peek": None,
                                },
                            },
                        ],
                    }
                }
            ]
        },
    )


# --- rank -------------------------------------------------------------------------

#: At most this many candidates are ranked at once (a 422 asks to narrow the filter).
MAX_CANDIDATES = 10_000
#: At most this many criteria per ranking.
MAX_CRITERIA = 20

_STRICT = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


class CriterionIn(BaseModel):
    """One criterion: a catalogue ``property`` (its typical value) or a ``name`` with
    inline ``values`` by material id."""

    model_config = _STRICT

    property: str | None = Field(
        None, max_length=64, description="A catalogue property key (see /api/v1/properties)."
    )
    name: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="The name of a criterion the database does not hold (with `values`).",
    )
    values: dict[str, float] | None = Field(
        None,
        max_length=MAX_CANDIDATES,
        description="Per material id: its value of a named criterion (ratings, cost ...).",
    )
    goal: Literal["max", "min", "target"] = Field(
        description="max: higher is better; min: lower is better; target: closest to `target`."
    )
    target: float | None = Field(None, description="The target value (goal `target` only).")
    unit: str | None = Field(
        None,
        max_length=64,
        description="The unit of `target` and of the values returned (default: the "
        "property's canonical unit); for a named criterion, a label only.",
    )
    weight: float | None = Field(
        None,
        gt=0,
        description="A positive weight; weights are normalised to sum to 1. Give one for "
        "every criterion or for none (equal weights).",
    )


class RankParams(BaseModel):
    model_config = _STRICT

    v: float = Field(0.5, ge=0, le=1, description="VIKOR: the weight of group utility S.")
    lambda_: float = Field(
        0.5, ge=0, le=1, alias="lambda", description="WASPAS: the weight of the sum model."
    )


class RankIn(BaseModel):
    """``POST /api/v1/rank``: candidates (``ids`` and / or ``filter``), criteria, method."""

    ids: list[Annotated[str, Field(max_length=128)]] | None = Field(
        None,
        max_length=MAX_CANDIDATES,
        description="Published material ids to rank ([] ranks nothing).",
    )
    filter: dict[str, Any] | None = Field(
        None,
        description="Search filters as a JSON object (the filter parameters of GET "
        "/api/v1/materials, repeatable ones as lists). With `ids`: the intersection.",
    )
    method: Literal["topsis", "vikor", "waspas", "weighted_sum"] = "topsis"
    criteria: list[CriterionIn] = Field(min_length=1, max_length=MAX_CRITERIA)
    params: RankParams = Field(default_factory=RankParams)

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "filter": {"class": ["metal"]},
                    "method": "topsis",
                    "criteria": [
                        {
                            "property": "youngs_modulus",
                            "goal": "target",
                            "target": 18,
                            "unit": "GPa",
                            "weight": 3,
                        },
                        {"property": "tensile_strength", "goal": "max", "weight": 2},
                        {"property": "density", "goal": "min", "weight": 1},
                    ],
                }
            ]
        },
    )


class RankedCriterion(WireModel):
    criterion: str = Field(description="The property key, or the criterion's name.")
    value: float = Field(description="The candidate's value, in `unit`.")
    unit: str | None
    normalized: float = Field(
        description="r_ij (topsis, weighted_sum, waspas: higher is better), or "
        "1 - exp(-|x - T| / A) (vikor: lower is better)."
    )


class RankedItem(WireModel):
    id: str
    name: str
    material_class: str = Field(alias="class")
    rank: int
    score: float
    criteria: list[RankedCriterion]
    details: dict[str, float] = Field(
        description="topsis: d_plus, d_minus; vikor: S, R; waspas: wsm, wpm; weighted_sum: none."
    )


class Excluded(WireModel):
    id: str
    missing: list[str] = Field(description="The criteria it has no value for.")


class CriterionUsed(WireModel):
    criterion: str
    goal: str
    unit: str | None
    target: float | None = Field(description="The target in `unit` (goal target only).")
    weight: float = Field(description="The normalised weight.")


class RankMeta(WireModel):
    method: str
    weights: list[float] = Field(description="The normalised weights, in criteria order.")
    criteria: list[CriterionUsed]
    params: dict[str, float] = Field(description="The method's parameters used (v, lambda).")
    total: int = Field(description="How many candidates were ranked.")
    excluded: list[Excluded] = Field(
        description="Candidates left out for lacking a value, in id order."
    )


class RankOut(WireModel):
    data: list[RankedItem]
    meta: RankMeta

    model_config = ConfigDict(
        populate_by_name=True,
        json_schema_extra={
            "examples": [
                {
                    "data": [
                        {
                            "id": "cfr-peek",
                            "name": "Carbon-fibre-reinforced PEEK (CFR-PEEK)",
                            "class": "composite",
                            "rank": 1,
                            "score": 0.661645,
                            "criteria": [
                                {
                                    "criterion": "youngs_modulus",
                                    "value": 12.4,
                                    "unit": "GPa",
                                    "normalized": 0.985333,
                                },
                                {
                                    "criterion": "compressive_strength",
                                    "value": 200.0,
                                    "unit": "MPa",
                                    "normalized": 0.0426714,
                                },
                            ],
                            "details": {"d_plus": 0.31911, "d_minus": 0.624011},
                        }
                    ],
                    "meta": {
                        "method": "topsis",
                        "weights": [0.666667, 0.333333],
                        "criteria": [
                            {
                                "criterion": "youngs_modulus",
                                "goal": "target",
                                "unit": "GPa",
                                "target": 17.2,
                                "weight": 0.666667,
                            },
                            {
                                "criterion": "compressive_strength",
                                "goal": "max",
                                "unit": "MPa",
                                "target": None,
                                "weight": 0.333333,
                            },
                        ],
                        "params": {},
                        "total": 11,
                        "excluded": [
                            {"id": "beta-tricalcium-phosphate", "missing": ["youngs_modulus"]}
                        ],
                    },
                }
            ]
        },
    )
