"""The ranking methods reproduce published materials-selection worked examples.

Source of every number below (inputs and expected scores):

    Petković D.L., Madić M.J., Mitković M.M. (2025). Development of a Decision Support
    System for Biomaterial Selection Based on MCDM Methods. Applied Sciences 15(16),
    9198. doi:10.3390/app15169198 (open access).

Two case studies of 15 metallic biomaterials (M1-M4 stainless steels, M5-M9 cobalt
alloys, M10-M15 titanium and its alloys) on 10 criteria, ranked with the target-based
("extended") TOPSIS of Jahan et al. 2012, the comprehensive VIKOR of Jahan et al. 2011
(v = 0.5) and an extended WASPAS (lambda = 0.5), the formulas of our contract
(API.md section 6). Scores are printed to 5 decimals from weights that are printed
(and were used) to 5 decimals; they are asserted to one unit of the last printed
digit (1e-5). 88 of the 90 agree to half a unit; two stem WASPAS scores (M2 0.5391156,
M13 0.6360568) are printed 0.53911 and 0.63605, as if cut rather than rounded.

- Case 1, bone fixation plate: decision matrix of the paper's Table A2 (weights of
  its Figure A4, confidence level eta = 1); printed scores of Table 1 (eta = 1).
- Case 2, femoral stem of a hip prosthesis: decision matrix of Table A3 (weights of
  Figure A6, eta = 1); printed scores of Table 3, ranks of Table 4 (eta = 1).
  Table A3 prints 0.41 for M1's biocompatibility (C9) but the authors' software input
  (Figure A6) and every printed score use 0.59, as used here.

The tables were transcribed from the paper by github.com/andremassuca/biomat-mcdm
(tests/test_reproduce_petkovic.py at f0767daab6662e8d20909efe37c3bbc57e55a2f1) and
checked here against that transcription.
"""

from __future__ import annotations

import numpy as np
import pytest

from biomatdb.selection import methods

# Case 1: bone fixation plate. C1 yield strength (MPa), C2 tensile strength (MPa),
# C3 elongation (%), C4 Young's modulus (GPa, target 18), C5 density (g/cm3, target
# 2.1), C6 relative toughness, C7 corrosion resistance, C8 biocompatibility,
# C9 machinability (ratings; target = the best rating), C10 relative cost (cost).
PLATE = [
    [250, 585, 57, 193, 7.95, 0.865, 0.41, 0.41, 0.865, 2.4],
    [450, 825, 45, 193, 7.86, 0.865, 0.5, 0.59, 0.865, 3.1],
    [580, 930, 52, 200, 7.64, 0.865, 0.5, 0.745, 0.865, 1],
    [450, 840, 39, 195, 7.75, 0.745, 0.5, 0.59, 0.865, 2.6],
    [585, 1035, 25, 241, 8.28, 0.59, 0.745, 0.745, 0.335, 21.9],
    [880, 1350, 22, 241, 8.28, 0.59, 0.745, 0.745, 0.41, 23.1],
    [1115, 1420, 28, 241, 8.29, 0.59, 0.745, 0.745, 0.335, 87],
    [1340, 1400, 21, 235, 8.43, 0.59, 0.665, 0.59, 0.255, 37.5],
    [415, 1035, 60, 243, 9.22, 0.59, 0.665, 0.665, 0.335, 36.2],
    [550, 670, 22, 103, 4.51, 0.335, 0.955, 0.955, 0.5, 13.1],
    [710, 880, 12, 105, 4.43, 0.335, 0.865, 0.865, 0.41, 18],
    [850, 950, 12, 105, 4.52, 0.335, 0.955, 0.955, 0.41, 15.5],
    [820, 900, 6, 112, 4.45, 0.335, 0.865, 0.955, 0.41, 16],
    [570, 690, 15, 103, 4.48, 0.335, 0.865, 0.865, 0.5, 16.5],
    [920, 960, 25, 78, 5.06, 0.335, 0.865, 0.865, 0.41, 19.4],
]
PLATE_GOALS: list[methods.Goal] = ["target"] * 9 + ["min"]
PLATE_TARGETS = [1340, 1420, 60, 18, 2.1, 0.865, 0.955, 0.955, 0.865, None]
# Figure A4, as printed and as the authors' software used them (their exact
# fractions k/180 reproduce the printed scores less well).
PLATE_WEIGHTS = [
    0.12778,
    0.13889,
    0.07222,
    0.10000,
    0.06111,
    0.09444,
    0.12778,
    0.13889,
    0.07778,
    0.06111,
]
# Table 1 (eta = 1), M1..M15.
PLATE_TOPSIS = [
    0.36091,
    0.43561,
    0.51072,
    0.41394,
    0.46863,
    0.56775,
    0.57665,
    0.54337,
    0.42652,
    0.52587,
    0.52614,
    0.58704,
    0.55505,
    0.48953,
    0.57799,
]
PLATE_WASPAS = [
    0.47867,
    0.54989,
    0.64050,
    0.53910,
    0.46466,
    0.51537,
    0.51996,
    0.50810,
    0.44765,
    0.56698,
    0.55239,
    0.59301,
    0.55713,
    0.53661,
    0.60526,
]
PLATE_VIKOR = [
    0.96259,
    0.53136,
    0.34875,
    0.61966,
    0.53465,
    0.28385,
    0.25942,
    0.36803,
    0.73832,
    0.50918,
    0.33352,
    0.00151,
    0.20215,
    0.65273,
    0.08705,
]

# Case 2: femoral stem. C1 yield, C2 tensile, C3 fatigue strength (MPa), C4
# elongation (%), C5 Young's modulus (GPa, target 14), C6 density (g/cm3, target
# 2.1), C7 toughness, C8 corrosion, C9 biocompatibility, C10 machinability; every
# criterion a target (the best value of the column where no other is given).
STEM = [
    [250, 585, 330, 57, 193, 7.95, 0.865, 0.41, 0.59, 0.865],
    [450, 825, 320, 45, 193, 7.86, 0.865, 0.5, 0.59, 0.865],
    [580, 930, 380, 52, 200, 7.64, 0.865, 0.5, 0.745, 0.865],
    [450, 840, 370, 39, 195, 7.75, 0.745, 0.5, 0.59, 0.865],
    [585, 1035, 300, 25, 241, 8.28, 0.59, 0.745, 0.745, 0.335],
    [880, 1350, 700, 22, 241, 8.28, 0.59, 0.745, 0.745, 0.41],
    [1115, 1420, 760, 28, 241, 8.29, 0.59, 0.745, 0.745, 0.335],
    [1340, 1400, 700, 21, 235, 8.43, 0.59, 0.665, 0.59, 0.255],
    [415, 1035, 440, 60, 243, 9.22, 0.59, 0.665, 0.665, 0.335],
    [550, 670, 430, 22, 103, 4.51, 0.335, 0.955, 0.955, 0.5],
    [710, 880, 550, 12, 105, 4.43, 0.335, 0.865, 0.865, 0.41],
    [850, 950, 540, 12, 105, 4.52, 0.335, 0.955, 0.955, 0.41],
    [820, 900, 580, 6, 112, 4.45, 0.335, 0.865, 0.955, 0.41],
    [570, 690, 320, 15, 103, 4.48, 0.335, 0.865, 0.865, 0.5],
    [920, 960, 600, 25, 78, 5.06, 0.335, 0.865, 0.865, 0.41],
]
STEM_GOALS: list[methods.Goal] = ["target"] * 10
STEM_TARGETS = [1340, 1420, 760, 60, 14, 2.1, 0.865, 0.955, 0.955, 0.865]
# Figure A6, as printed.
STEM_WEIGHTS = [
    0.11667,
    0.10000,
    0.13889,
    0.07222,
    0.08889,
    0.06111,
    0.09444,
    0.13333,
    0.14444,
    0.05000,
]
# Table 3 (eta = 1), M1..M15.
STEM_TOPSIS = [
    0.31059,
    0.32923,
    0.41753,
    0.30558,
    0.37383,
    0.56664,
    0.60806,
    0.51629,
    0.37006,
    0.52711,
    0.53481,
    0.59714,
    0.58041,
    0.44623,
    0.59240,
]
STEM_WASPAS = [
    0.49658,
    0.53911,
    0.59748,
    0.53317,
    0.49616,
    0.60560,
    0.63975,
    0.60614,
    0.50988,
    0.62369,
    0.63011,
    0.66704,
    0.63605,
    0.57241,
    0.69360,
]
STEM_VIKOR = [
    0.99262,
    0.94838,
    0.57740,
    1.00000,
    0.93330,
    0.20032,
    0.07027,
    0.64589,
    0.76120,
    0.30244,
    0.18257,
    0.00000,
    0.06465,
    0.72884,
    0.06339,
]
# Table 4 (eta = 1): the rank of M1..M15 by each method.
STEM_RANKS = {
    "topsis": [14, 13, 10, 15, 11, 5, 1, 8, 12, 7, 6, 2, 4, 9, 3],
    "waspas": [14, 11, 9, 12, 15, 8, 3, 7, 13, 6, 5, 2, 4, 10, 1],
    "vikor": [14, 13, 8, 15, 12, 6, 4, 9, 11, 7, 5, 1, 3, 10, 2],
}
PRINTED = 1e-5  # one unit of the 5th printed decimal
PLATE_PROBLEM = methods.Problem.of(PLATE, PLATE_GOALS, PLATE_WEIGHTS, PLATE_TARGETS)
STEM_PROBLEM = methods.Problem.of(STEM, STEM_GOALS, STEM_WEIGHTS, STEM_TARGETS)


def test_the_weights_are_those_printed() -> None:
    assert [round(w, 5) for w in PLATE_PROBLEM.weights] == [
        0.12778,
        0.13889,
        0.07222,
        0.1,
        0.06111,
        0.09444,
        0.12778,
        0.13889,
        0.07778,
        0.06111,
    ]
    assert [round(w, 5) for w in STEM_PROBLEM.weights] == [
        0.11667,
        0.1,
        0.13889,
        0.07222,
        0.08889,
        0.06111,
        0.09444,
        0.13333,
        0.14444,
        0.05,
    ]


@pytest.mark.parametrize(
    ("method", "problem", "printed"),
    [
        ("topsis", PLATE_PROBLEM, PLATE_TOPSIS),
        ("waspas", PLATE_PROBLEM, PLATE_WASPAS),
        ("vikor", PLATE_PROBLEM, PLATE_VIKOR),
        ("topsis", STEM_PROBLEM, STEM_TOPSIS),
        ("waspas", STEM_PROBLEM, STEM_WASPAS),
        ("vikor", STEM_PROBLEM, STEM_VIKOR),
    ],
    ids=["plate-topsis", "plate-waspas", "plate-vikor", "stem-topsis", "stem-waspas", "stem-vikor"],
)
def test_every_printed_score_is_reproduced(
    method: methods.Method, problem: methods.Problem, printed: list[float]
) -> None:
    scores = methods.rank(method, problem).scores
    assert np.abs(scores - np.array(printed)).max() <= PRINTED, scores.round(5).tolist()


@pytest.mark.parametrize("method", ["topsis", "waspas", "vikor"])
def test_the_printed_ranks_are_reproduced(method: methods.Method) -> None:
    names = [f"M{i:02d}" for i in range(1, 16)]
    best_first = methods.order(methods.rank(method, STEM_PROBLEM).scores, names, method)
    ranks = [0] * 15
    for position, index in enumerate(best_first, start=1):
        ranks[index] = position
    assert ranks == STEM_RANKS[method]


# --- weighted sum -------------------------------------------------------------------
#
# No published materials-selection example prints a weighted sum on this (linear
# max-min / target-based) normalisation. The closest published worked example is
# the first aggregate of CoCoSo, which is exactly it: S_i = sum_j w_j r_ij with
# r = (x - min)/(max - min) for benefit and (max - x)/(max - min) for cost criteria,
# the contract's r_ij for goals max and min.
#
#     Yazdani M., Zaraté P., Zavadskas E.K., Turskis Z. (2019). A combined compromise
#     solution (CoCoSo) method for multi-criteria decision-making problems.
#     Management Decision 57(9), 2501-2519. doi:10.1108/MD-05-2017-0458
#     (author version: HAL hal-02879091).
#
# Its example selects an industrial robot (7 alternatives, 5 criteria; C2 is a cost):
# the data and weights of its Table I, the S_i printed (4 decimals) in its Table IV,
# as transcribed by the scikit-criteria and pymcdm test suites.
ROBOTS = [
    [60, 0.4, 2540, 500, 990],
    [6.35, 0.15, 1016, 3000, 1041],
    [6.8, 0.1, 1727.2, 1500, 1676],
    [10, 0.2, 1000, 2000, 965],
    [2.5, 0.1, 560, 500, 915],
    [4.5, 0.08, 1016, 350, 508],
    [3, 0.1, 1778, 1000, 920],
]
ROBOT_GOALS: list[methods.Goal] = ["max", "min", "max", "max", "max"]
ROBOT_WEIGHTS = [0.036, 0.192, 0.326, 0.326, 0.12]
ROBOT_S = [0.4300, 0.6082, 0.6363, 0.4471, 0.2403, 0.2683, 0.5031]


def test_weighted_sum_reproduces_the_printed_cocoso_sums() -> None:
    problem = methods.Problem.of(ROBOTS, ROBOT_GOALS, ROBOT_WEIGHTS)
    scores = methods.rank("weighted_sum", problem).scores
    assert np.abs(scores - np.array(ROBOT_S)).max() <= 5e-5, scores.round(4).tolist()


def test_a_target_at_the_column_best_is_the_same_as_max_or_min() -> None:
    """The target-based r reduces to the max-min r when the target is the column's
    best value (Jahan et al. 2012), so the printed sums hold for targets too."""
    columns = list(zip(*ROBOTS, strict=True))
    targets = [max(c) if g == "max" else min(c) for c, g in zip(columns, ROBOT_GOALS, strict=True)]
    problem = methods.Problem.of(ROBOTS, ["target"] * 5, ROBOT_WEIGHTS, targets)
    scores = methods.rank("weighted_sum", problem).scores
    assert np.abs(scores - np.array(ROBOT_S)).max() <= 5e-5
