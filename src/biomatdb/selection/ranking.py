"""Rank: candidates from ids and / or a search filter, criteria on catalogue properties
or inline values, scored by one of the methods of :mod:`biomatdb.selection.methods`.

Validation collects every problem of the body (criteria, ids, inline value ids, the
filter) into one 422 whose paths point into the body. The candidates and their
typical values are one query (one outer join per property criterion); the scoring
is numpy on the m x n matrix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from pydantic import ValidationError
from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session, aliased

from biomatdb import catalogue, units
from biomatdb.errors import BiomatdbError, FieldProblem, InvalidBody
from biomatdb.kit.chunks import chunks
from biomatdb.kit.paths import from_validation_error, join
from biomatdb.models import Material, PropertySummary
from biomatdb.search.repository import conditions
from biomatdb.search.request import FILTER_PARAMETERS, query_from_json
from biomatdb.selection import methods
from biomatdb.selection.schemas import MAX_CANDIDATES, CriterionIn, RankIn
from biomatdb.vocab import MaterialStatus

#: Ids per query when checking that named materials exist (below every backend's
#: bind-parameter limit; up to 20 criteria x 10,000 inline values can name ids).
ID_CHUNK = 5_000
#: Significant digits of the scores, details and normalised values returned.
SCORE_DIGITS = 6


@dataclass(frozen=True)
class Criterion:
    """A checked criterion: values and target in the property's canonical unit."""

    label: str
    goal: methods.Goal
    property_key: str | None
    values: dict[str, float] | None
    #: The target in the canonical unit (None unless goal is target).
    target: float | None
    #: The unit the caller speaks (the target's and the values returned).
    unit: str | None
    convert: units.Conversion
    weight: float | None

    def shown(self, canonical: float, digits: int | None = None) -> float:
        """A canonical value in the caller's unit, rounded to ``digits`` (those of
        its sources) when given."""
        value = (canonical - self.convert.offset) / self.convert.scale
        return units.shown(value, digits)


@dataclass(frozen=True)
class Candidate:
    slug: str
    name: str
    material_class: str
    values: tuple[float | None, ...]
    #: Per criterion: the significant digits its value is shown with.
    digits: tuple[int | None, ...]


def parse(raw: object) -> RankIn:
    """The body as a :class:`RankIn`; a 422 naming every field to fix."""
    try:
        return RankIn.model_validate(raw)
    except ValidationError as exc:
        problems = [
            FieldProblem(p.path, "unknown field; remove it (see POST /api/v1/rank in /docs)")
            if p.message.startswith("unknown field")
            else p
            for p in from_validation_error("", exc)
        ]
        raise _invalid(problems) from None


def rank(session: Session, body: RankIn) -> dict[str, Any]:
    """Rank the candidates of ``body``: the response of ``POST /api/v1/rank``."""
    problems: list[FieldProblem] = []
    criteria = check_criteria(body.criteria, problems)
    where = _filter_clauses(session, body.filter, problems)
    if body.ids is not None:
        where.append(Material.slug.in_(body.ids))
    _check_ids(session, body, problems)
    if problems:
        raise _invalid(problems)
    candidates = load_candidates(session, criteria, where)
    ranked, excluded = _split(candidates, criteria)
    weights = _weights(criteria)
    problem = methods.Problem.of(
        np.array([c.values for c in ranked], dtype=np.float64).reshape(-1, len(criteria)),
        [c.goal for c in criteria],
        weights,
        [c.target for c in criteria],
    )
    params = body.params
    try:
        result = methods.rank(body.method, problem, v=params.v, lam=params.lambda_)
    except methods.MethodError as exc:
        raise _invalid([FieldProblem(f"criteria[{exc.criterion}]", exc.message)]) from None
    used = {"vikor": {"v": params.v}, "waspas": {"lambda": params.lambda_}}.get(body.method, {})
    return {
        "data": _items(body.method, ranked, criteria, result),
        "meta": {
            "method": body.method,
            "weights": [_round(float(w)) for w in problem.weights],
            "criteria": [
                {
                    "criterion": c.label,
                    "goal": c.goal,
                    "unit": c.unit,
                    "target": c.shown(c.target) if c.target is not None else None,
                    "weight": _round(float(w)),
                }
                for c, w in zip(criteria, problem.weights, strict=True)
            ],
            "params": used,
            "total": len(ranked),
            "excluded": excluded,
        },
    }


def check_criteria(given: Sequence[CriterionIn], problems: list[FieldProblem]) -> list[Criterion]:
    """Checked criteria; each problem appended with its path (``criteria[2].unit``)."""
    checked: list[Criterion] = []
    seen: dict[str, int] = {}
    weighted = [c.weight is not None for c in given]
    for index, criterion in enumerate(given):
        path = f"criteria[{index}]"
        found = _criterion(criterion, path, problems)
        if found is None:
            continue
        if found.label in seen:
            problems.append(
                FieldProblem(
                    path, f"repeats criterion {found.label!r} of criteria[{seen[found.label]}]"
                )
            )
        seen.setdefault(found.label, index)
        if any(weighted) and not weighted[index]:
            problems.append(
                FieldProblem(
                    join(path, "weight"),
                    "give a weight for every criterion or for none (equal weights)",
                )
            )
        checked.append(found)
    return checked


def _criterion(criterion: CriterionIn, path: str, problems: list[FieldProblem]) -> Criterion | None:
    before = len(problems)
    if (criterion.property is None) == (criterion.values is None):
        problems.append(
            FieldProblem(
                path,
                "give either a catalogue `property` or a `name` with inline `values`",
            )
        )
        return None
    if criterion.goal == "target" and criterion.target is None:
        problems.append(FieldProblem(join(path, "target"), "goal 'target' needs a `target` value"))
    if criterion.goal != "target" and criterion.target is not None:
        problems.append(
            FieldProblem(join(path, "target"), "a `target` is only for goal 'target'; remove it")
        )
    if criterion.property is not None:
        if criterion.name is not None:
            problems.append(FieldProblem(join(path, "name"), "a property criterion takes no name"))
        convert = _conversion(criterion, path, problems)
        label = criterion.property
    else:
        if criterion.name is None:
            problems.append(
                FieldProblem(join(path, "name"), "a criterion with `values` needs a name")
            )
        convert = units.Conversion(1.0, 0.0)
        label = criterion.name or ""
    if len(problems) > before or convert is None:
        return None
    target = convert.apply(criterion.target) if criterion.target is not None else None
    return Criterion(
        label=label,
        goal=criterion.goal,
        property_key=criterion.property,
        values=criterion.values,
        target=target,
        unit=criterion.unit
        or (catalogue.CANONICAL_UNITS.get(label) if criterion.property else None),
        convert=convert,
        weight=criterion.weight,
    )


def _conversion(
    criterion: CriterionIn, path: str, problems: list[FieldProblem]
) -> units.Conversion | None:
    key = criterion.property or ""
    if catalogue.get(key) is None:
        problems.append(
            FieldProblem(
                join(path, "property"),
                f"unknown property {key!r}; see /api/v1/properties for the catalogue",
            )
        )
        return None
    if criterion.unit is None:
        return units.Conversion(1.0, 0.0)
    try:
        return units.conversion(criterion.unit, key)
    except units.UnitError as exc:
        problems.append(FieldProblem(join(path, "unit"), str(exc)))
        return None


def _filter_clauses(
    session: Session, data: dict[str, Any] | None, problems: list[FieldProblem]
) -> list[ColumnElement[bool]]:
    if data is None:
        return [Material.status == MaterialStatus.published.value]
    try:
        query = query_from_json(data, allowed=FILTER_PARAMETERS, prefix="filter", error=InvalidBody)
    except BiomatdbError as exc:
        problems.extend(exc.errors)
        return []
    return conditions(session, query)


def _check_ids(session: Session, body: RankIn, problems: list[FieldProblem]) -> None:
    """Every id in ``ids`` and in inline ``values`` must be a published material."""
    named = set(body.ids or [])
    for criterion in body.criteria:
        named.update(criterion.values or {})
    if not named:
        return
    known: set[str] = set()
    for part in chunks(sorted(named), ID_CHUNK):
        known.update(
            session.scalars(
                select(Material.slug).where(
                    Material.slug.in_(part), Material.status == MaterialStatus.published.value
                )
            )
        )
    message = "unknown or unpublished material; search /api/v1/materials for the ids that exist"
    problems.extend(
        FieldProblem(f"ids[{i}]", message)
        for i, slug in enumerate(body.ids or [])
        if slug not in known
    )
    for index, criterion in enumerate(body.criteria):
        problems.extend(
            FieldProblem(join(f"criteria[{index}].values", slug), message)
            for slug in criterion.values or {}
            if slug not in known
        )


def load_candidates(
    session: Session, criteria: Sequence[Criterion], where: list[ColumnElement[bool]]
) -> list[Candidate]:
    """The matching materials (by id) with each criterion's value: one query."""
    keys = list(dict.fromkeys(c.property_key for c in criteria if c.property_key))
    summaries = {key: aliased(PropertySummary) for key in keys}
    stmt = select(
        Material.slug,
        Material.name,
        Material.material_class,
        *(summary.typical for summary in summaries.values()),
        *(summary.digits for summary in summaries.values()),
    ).where(*where)
    for key, summary in summaries.items():
        stmt = stmt.outerjoin(
            summary, and_(summary.material_id == Material.id, summary.property_key == key)
        )
    rows = session.execute(stmt.order_by(Material.slug).limit(MAX_CANDIDATES + 1)).all()
    if len(rows) > MAX_CANDIDATES:
        raise _invalid(
            [
                FieldProblem(
                    "filter",
                    f"more than {MAX_CANDIDATES} candidates match; narrow the filter or "
                    "give fewer ids",
                )
            ]
        )
    column = {key: 3 + i for i, key in enumerate(keys)}

    def value(row: Any, criterion: Criterion) -> float | None:
        if criterion.property_key:
            typical: float | None = row[column[criterion.property_key]]
            return typical
        return (criterion.values or {}).get(row[0])

    def digits(row: Any, criterion: Criterion) -> int | None:
        if criterion.property_key:
            found: int | None = row[column[criterion.property_key] + len(keys)]
            return found
        return None  # inline values are shown as given

    return [
        Candidate(
            slug=row[0],
            name=row[1],
            material_class=row[2],
            values=tuple(value(row, c) for c in criteria),
            digits=tuple(digits(row, c) for c in criteria),
        )
        for row in rows
    ]


def _split(
    candidates: list[Candidate], criteria: Sequence[Criterion]
) -> tuple[list[Candidate], list[dict[str, Any]]]:
    """Those with every value, and the others with the criteria they lack."""
    ranked, excluded = [], []
    for candidate in candidates:
        missing = [c.label for c, v in zip(criteria, candidate.values, strict=True) if v is None]
        if missing:
            excluded.append({"id": candidate.slug, "missing": missing})
        else:
            ranked.append(candidate)
    return ranked, excluded


def _weights(criteria: Sequence[Criterion]) -> list[float]:
    return [c.weight if c.weight is not None else 1.0 for c in criteria]


def _items(
    method: methods.Method,
    ranked: list[Candidate],
    criteria: Sequence[Criterion],
    result: methods.Result,
) -> list[dict[str, Any]]:
    slugs = [c.slug for c in ranked]
    best_first = methods.order(result.scores, slugs, method)
    scores = result.scores.tolist()
    normalized = result.normalized.tolist()
    details = {name: values.tolist() for name, values in result.details.items()}
    return [
        {
            "id": ranked[i].slug,
            "name": ranked[i].name,
            "class": ranked[i].material_class,
            "rank": position,
            "score": _round(scores[i]),
            "criteria": [
                {
                    "criterion": c.label,
                    "value": c.shown(float(value or 0.0), digits),  # never None once ranked
                    "unit": c.unit,
                    "normalized": _round(r),
                }
                for c, value, digits, r in zip(
                    criteria, ranked[i].values, ranked[i].digits, normalized[i], strict=True
                )
            ],
            "details": {name: _round(values[i]) for name, values in details.items()},
        }
        for position, i in enumerate(best_first, start=1)
    ]


def _round(value: float) -> float:
    return units.round_significant(value, SCORE_DIGITS)


def _invalid(problems: list[FieldProblem]) -> InvalidBody:
    detail = "; ".join(f"{p.path or 'body'}: {p.message}" for p in problems)
    return InvalidBody(detail, errors=problems)
