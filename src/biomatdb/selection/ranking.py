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
import numpy.typing as npt
from pydantic import ValidationError
from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from biomatdb import catalogue, packed, units
from biomatdb.errors import BiomatdbError, FieldProblem, InvalidBody
from biomatdb.kit.chunks import chunks
from biomatdb.kit.paths import from_validation_error, join
from biomatdb.models import Material
from biomatdb.search.repository import conditions, published_among
from biomatdb.search.request import FILTER_PARAMETERS, query_from_json
from biomatdb.selection import methods
from biomatdb.selection.schemas import MAX_CANDIDATES, CriterionIn, RankIn

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

    def shown(self, canonical: float) -> float:
        """A canonical value (a target) in the caller's unit."""
        return units.shown((canonical - self.convert.offset) / self.convert.scale, None)

    def shown_array(
        self, canonical: npt.NDArray[np.float64], digits: npt.NDArray[np.float64]
    ) -> npt.NDArray[np.float64]:
        """Canonical values in the caller's unit, each rounded to its ``digits`` (those
        of its sources; NaN: 12, float noise only)."""
        value = (canonical - self.convert.offset) / self.convert.scale
        return units.round_array(value, np.where(np.isnan(digits), 12.0, digits))


@dataclass(frozen=True)
class Candidates:
    """The candidates (by id) and their values, as columns: ``values`` is the m x n
    decision matrix in canonical units (NaN where a value is missing), ``digits`` the
    significant digits each value is shown with (NaN: as it is)."""

    slugs: list[str]
    names: list[str]
    classes: list[str]
    values: npt.NDArray[np.float64]
    digits: npt.NDArray[np.float64]

    def take(self, rows: npt.NDArray[np.intp]) -> Candidates:
        """Only these rows, in this order."""
        return Candidates(
            [self.slugs[i] for i in rows],
            [self.names[i] for i in rows],
            [self.classes[i] for i in rows],
            self.values[rows],
            self.digits[rows],
        )


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
    where = _filter_clauses(session, body.filter, body.ids, problems)
    candidates = None
    if not problems:
        candidates = load_candidates(session, criteria, where)
    # Without a filter the candidates are exactly the published ones among ids: the
    # query that found them answers which ids exist.
    found = set(candidates.slugs) if candidates is not None and body.filter is None else set()
    _check_ids(session, body, found, problems)
    if problems or candidates is None:
        raise _invalid(problems)
    ranked, excluded = _split(candidates, criteria)
    weights = _weights(criteria)
    problem = methods.Problem.of(
        ranked.values, [c.goal for c in criteria], weights, [c.target for c in criteria]
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
            "total": len(ranked.slugs),
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
                catalogue.unknown_key(key),
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
    session: Session,
    data: dict[str, Any] | None,
    ids: list[str] | None,
    problems: list[FieldProblem],
) -> list[ColumnElement[bool]]:
    """The candidates' WHERE clauses: the filter's conditions among ``ids`` (when
    given), or every published material."""
    try:
        query = query_from_json(
            data or {}, allowed=FILTER_PARAMETERS, prefix="filter", error=InvalidBody
        )
    except BiomatdbError as exc:
        problems.extend(exc.errors)
        return []
    return conditions(session, query, among=ids)


def _check_ids(
    session: Session, body: RankIn, known: set[str], problems: list[FieldProblem]
) -> None:
    """Every id in ``ids`` and in inline ``values`` must be a published material
    (``known``: ids already known to be; the others are looked up)."""
    named = set(body.ids or [])
    for criterion in body.criteria:
        named.update(criterion.values or {})
    named -= known
    if not named:
        return
    known = set(known)
    for part in chunks(sorted(named), ID_CHUNK):
        known.update(session.scalars(select(Material.slug).where(*published_among(session, part))))
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
) -> Candidates:
    """The matching materials (by id) with each criterion's value: one query, the
    typical values read from each material's packed ``summary`` column."""
    stmt = select(Material.slug, Material.name, Material.material_class, Material.summary)
    rows = (
        session.connection()
        .execute(stmt.where(*where).order_by(Material.slug).limit(MAX_CANDIDATES + 1))
        .all()
    )
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
    values = np.full((len(rows), len(criteria)), np.nan)
    digits = np.full((len(rows), len(criteria)), np.nan)
    slugs = [row[0] for row in rows]
    at, records = packed.batch([row[3] for row in rows])
    columns = packed.column(records[:, packed.KEY], [c.property_key or "" for c in criteria])
    for j, criterion in enumerate(criteria):
        if criterion.property_key:
            mine = columns == j
            values[at[mine], j] = records[mine, packed.TYPICAL]
            digits[at[mine], j] = records[mine, packed.DIGITS]
        else:  # inline values are shown as given
            given = criterion.values or {}
            values[:, j] = np.array([given.get(slug) for slug in slugs], dtype=np.float64)
    return Candidates(slugs, [r[1] for r in rows], [r[2] for r in rows], values, digits)


def _split(
    candidates: Candidates, criteria: Sequence[Criterion]
) -> tuple[Candidates, list[dict[str, Any]]]:
    """Those with every value, and the others with the criteria they lack."""
    lacking = np.isnan(candidates.values)
    excluded = [
        {
            "id": candidates.slugs[i],
            "missing": [c.label for c, gap in zip(criteria, lacking[i], strict=True) if gap],
        }
        for i in np.flatnonzero(lacking.any(axis=1))
    ]
    return candidates.take(np.flatnonzero(~lacking.any(axis=1))), excluded


def _weights(criteria: Sequence[Criterion]) -> list[float]:
    return [c.weight if c.weight is not None else 1.0 for c in criteria]


def _items(
    method: methods.Method,
    ranked: Candidates,
    criteria: Sequence[Criterion],
    result: methods.Result,
) -> list[dict[str, Any]]:
    """The ranked items, best first; numbers rounded all at once (numpy)."""
    best_first = methods.order(result.scores, ranked.slugs, method)
    shown = np.column_stack(
        [c.shown_array(ranked.values[:, j], ranked.digits[:, j]) for j, c in enumerate(criteria)]
    ).reshape(len(ranked.slugs), len(criteria))
    values = shown.tolist()
    scores = units.round_array(result.scores, SCORE_DIGITS).tolist()
    normalized = units.round_array(result.normalized, SCORE_DIGITS).tolist()
    details = {
        name: units.round_array(found, SCORE_DIGITS).tolist()
        for name, found in result.details.items()
    }
    labels = [(c.label, c.unit) for c in criteria]
    return [
        {
            "id": ranked.slugs[i],
            "name": ranked.names[i],
            "class": ranked.classes[i],
            "rank": position,
            "score": scores[i],
            "criteria": [
                {"criterion": label, "value": value, "unit": unit, "normalized": r}
                for (label, unit), value, r in zip(labels, values[i], normalized[i], strict=True)
            ],
            "details": {name: found[i] for name, found in details.items()},
        }
        for position, i in enumerate(best_first, start=1)
    ]


def _round(value: float) -> float:
    return units.round_significant(value, SCORE_DIGITS)


def _invalid(problems: list[FieldProblem]) -> InvalidBody:
    detail = "; ".join(f"{p.path or 'body'}: {p.message}" for p in problems)
    return InvalidBody(detail, errors=problems)
