"""The ranking methods of ``POST /api/v1/rank``: multi-criteria decision making on a
decision matrix, in numpy, exactly as the contract (API.md section 6) writes them.

``x`` is the m x n decision matrix (m candidates, n criteria, every value present),
``w`` the n weights summing to 1, ``goals`` per criterion ``max``, ``min`` or
``target`` and ``targets`` the target values (ignored for max / min). Every method
returns the candidates' scores, the normalised matrix it reports per item and its
own details per candidate. Nothing here knows about materials or the database: the
published worked examples in ``tests/test_rank_published.py`` call these directly.

References:
- target-based TOPSIS: Jahan, Bahraminasab & Edwards, Materials & Design 35 (2012)
  647-654 (the normalisation ``1 - |x - T| / A``).
- comprehensive VIKOR: Jahan, Mustapha, Ismail, Sapuan & Bahraminasab, Materials &
  Design 32 (2011) 1215-1221.
- WASPAS: Zavadskas, Turskis, Antucheviciene & Zakarevicius, Elektronika ir
  Elektrotechnika 122 (2012) 3-6, with the target ratios of the contract.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

Goal = Literal["max", "min", "target"]
Method = Literal["topsis", "vikor", "waspas", "weighted_sum"]
METHODS: tuple[Method, ...] = ("topsis", "vikor", "waspas", "weighted_sum")
#: Methods whose score is better when lower (VIKOR's Q); the others rank high first.
LOWER_IS_BETTER = frozenset({"vikor"})
Matrix = npt.NDArray[np.float64]


class MethodError(ValueError):
    """The method cannot rank this matrix: ``criterion`` is the index of the column."""

    def __init__(self, criterion: int, message: str) -> None:
        super().__init__(message)
        self.criterion = criterion
        self.message = message


@dataclass(frozen=True)
class Result:
    """Scores (m), the normalised values reported per item (m x n) and the method's
    own numbers per candidate (name -> m values)."""

    scores: npt.NDArray[np.float64]
    normalized: Matrix
    details: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)


@dataclass(frozen=True)
class Problem:
    """A decision matrix with its goals, targets and weights."""

    x: Matrix
    goals: Sequence[Goal]
    targets: npt.NDArray[np.float64]
    weights: npt.NDArray[np.float64]

    @classmethod
    def of(
        cls,
        x: Sequence[Sequence[float]] | Matrix,
        goals: Sequence[Goal],
        weights: Sequence[float] | npt.NDArray[np.float64],
        targets: Sequence[float | None] | None = None,
    ) -> Problem:
        """A problem from plain lists; weights are normalised to sum to 1."""
        matrix = np.asarray(x, dtype=np.float64).reshape(-1, len(goals))
        given = targets if targets is not None else [None] * len(goals)
        w = np.asarray(weights, dtype=np.float64)
        return cls(
            x=matrix,
            goals=tuple(goals),
            targets=np.array([np.nan if t is None else t for t in given], dtype=np.float64),
            weights=w / w.sum(),
        )

    @property
    def column_max(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.x.max(axis=0), dtype=np.float64)

    @property
    def column_min(self) -> npt.NDArray[np.float64]:
        return np.asarray(self.x.min(axis=0), dtype=np.float64)

    def reference(self) -> npt.NDArray[np.float64]:
        """T_j: the column maximum for ``max``, the minimum for ``min``, else the target."""
        top, bottom = self.column_max, self.column_min
        return np.array(
            [
                top[j] if goal == "max" else bottom[j] if goal == "min" else self.targets[j]
                for j, goal in enumerate(self.goals)
            ],
            dtype=np.float64,
        )

    def distance(self) -> Matrix:
        """|x_ij - T_j| / A_j, with A_j = max(M_j, T_j) - min(m_j, T_j); 0 where A_j = 0."""
        reference = self.reference()
        spread = np.maximum(self.column_max, reference) - np.minimum(self.column_min, reference)
        gap = np.abs(self.x - reference)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(spread > 0, gap / np.where(spread > 0, spread, 1.0), 0.0)


def rank(method: Method, problem: Problem, *, v: float = 0.5, lam: float = 0.5) -> Result:
    """Score every candidate of ``problem`` with ``method`` (see the module doc)."""
    if problem.x.shape[0] == 0:
        empty = np.zeros(0)
        return Result(scores=empty, normalized=np.zeros((0, len(problem.goals))))
    if method == "topsis":
        return topsis(problem)
    if method == "vikor":
        return vikor(problem, v=v)
    if method == "waspas":
        return waspas(problem, lam=lam)
    return weighted_sum(problem)


def topsis(problem: Problem) -> Result:
    """Target-based TOPSIS: r = 1 - |x - T| / A, v = w r, Euclidean distances to the
    column maxima (d+) and minima (d-) of v; score d- / (d+ + d-), 1 when both are 0."""
    r = 1.0 - problem.distance()
    weighted = r * problem.weights
    d_plus = np.sqrt(((weighted - weighted.max(axis=0)) ** 2).sum(axis=1))
    d_minus = np.sqrt(((weighted - weighted.min(axis=0)) ** 2).sum(axis=1))
    total = d_plus + d_minus
    with np.errstate(divide="ignore", invalid="ignore"):
        scores = np.where(total > 0, d_minus / np.where(total > 0, total, 1.0), 1.0)
    return Result(scores, r, {"d_plus": d_plus, "d_minus": d_minus})


def vikor(problem: Problem, *, v: float = 0.5) -> Result:
    """Comprehensive VIKOR: E = w (1 - exp(-|x - T| / A)), S = sum E, R = max E,
    Q = v (S - min S)/(max S - min S) + (1 - v)(R - min R)/(max R - min R); a term
    whose max equals its min is 0. Lower Q is better."""
    normalized = 1.0 - np.exp(-problem.distance())
    regret = problem.weights * normalized
    s = regret.sum(axis=1)
    r = regret.max(axis=1)
    q = v * _spread_share(s) + (1.0 - v) * _spread_share(r)
    return Result(q, normalized, {"S": s, "R": r})


def _spread_share(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    low, high = values.min(), values.max()
    if high == low:
        return np.zeros_like(values)
    return np.asarray((values - low) / (high - low), dtype=np.float64)


def waspas(problem: Problem, *, lam: float = 0.5) -> Result:
    """WASPAS: score = lam * sum_j w_j r_ij + (1 - lam) * prod_j r_ij ** w_j, with the
    ratios of :func:`waspas_ratios`."""
    r = waspas_ratios(problem)
    wsm = (r * problem.weights).sum(axis=1)
    wpm = np.prod(r**problem.weights, axis=1)
    return Result(lam * wsm + (1.0 - lam) * wpm, r, {"wsm": wsm, "wpm": wpm})


def waspas_ratios(problem: Problem) -> Matrix:
    """r_ij per column: x / M for max (and a target equal to M), m / x for min (and a
    target equal to m), 1 - (x - T)/M for a target below m, 1 - (T - x)/T for a
    target above M, otherwise 1 - |x - T| / (M - m). A negative or undefined ratio
    raises :class:`MethodError` naming the column."""
    top, bottom = problem.column_max, problem.column_min
    columns = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for j, goal in enumerate(problem.goals):
            x, high, low, target = problem.x[:, j], top[j], bottom[j], problem.targets[j]
            if goal == "max" or (goal == "target" and target == high):
                column = x / high
            elif goal == "min" or (goal == "target" and target == low):
                column = low / x
            elif target < low:
                column = 1.0 - (x - target) / high
            elif target > high:
                column = 1.0 - (target - x) / target
            else:
                column = 1.0 - np.abs(x - target) / (high - low)
            if not np.all(np.isfinite(column)) or np.any(column < 0):
                raise MethodError(
                    j,
                    "WASPAS ratios are negative or undefined for this criterion (values of "
                    "zero or of both signs, or a target far outside the values); rank with "
                    "topsis, vikor or weighted_sum instead",
                )
            columns.append(column)
    return np.column_stack(columns).astype(np.float64)


def weighted_sum(problem: Problem) -> Result:
    """Weighted sum of the target-based normalisation: score = sum_j w_j r_ij."""
    r = 1.0 - problem.distance()
    return Result((r * problem.weights).sum(axis=1), r)


def order(scores: npt.NDArray[np.float64], ids: Sequence[str], method: Method) -> list[int]:
    """Candidate indexes best first; equal scores (to 12 significant digits, so that
    float noise cannot decide) in id order."""
    rounded = [float(f"{s:.12g}") for s in scores.tolist()]
    sign = 1.0 if method in LOWER_IS_BETTER else -1.0
    return sorted(range(len(rounded)), key=lambda i: (sign * rounded[i], ids[i]))
