"""The merging benchmark's pair scoring (benchmarks/merging.py), on synthetic inputs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from merging import Ref, baseline_groups, score_pairs  # noqa: E402


def _gold(n: int, document: str = "doc.md") -> list[tuple[Ref, Ref]]:
    return [(Ref(document, "nl", i * 10), Ref(document, "en", i * 11)) for i in range(n)]


def test_recall_counts_only_pairs_with_both_sides_proposed() -> None:
    gold = _gold(4)
    (a, a2), (b, b2), (c, c2), (d, d2) = gold
    owner = {a: "P1", a2: "P1", b: "P2", b2: "P3", c: "P4"}  # d: neither side proposed
    score = score_pairs(gold, owner)
    assert score.gold == 4
    assert score.both == [(a, a2), (b, b2)]
    assert score.hits == [(a, a2)] and score.missed == [(b, b2)]
    assert score.one_side == [(c, c2)]
    assert score.recall == 0.5
    assert (score.cross, score.correct, score.wrong) == (1, 1, [])
    assert score.precision == 1.0
    assert score.summary()["neither_proposed"] == 1


def test_precision_counts_every_cross_language_pair_in_a_promise() -> None:
    gold = _gold(3)
    (a, a2), (b, b2), (c, c2) = gold
    owner = {a: "P1", a2: "P1", b2: "P1", b: "P2", c: "P1", c2: "P3"}
    score = score_pairs(gold, owner)
    # P1 holds nl {a, c} and en {a2, b2}: four cross pairs, one gold; and the nl pair a-c.
    assert score.cross == 4 and score.correct == 1
    assert sorted(score.wrong) == sorted([(a, b2), (c, a2), (c, b2)])
    assert score.within == 2  # a-c and a2-b2
    assert score.precision == 0.25
    assert score.recall == 1 / 3


def test_a_repeated_sentence_merged_with_the_other_copys_translation_is_equivalent() -> None:
    gold = _gold(2)
    (a, a2), (b, b2) = gold
    texts = {a: "Wij leveren binnen 24 uur.", b: "Wij  leveren binnen 24 uur.", a2: "x", b2: "y"}
    owner = {a: "P1", a2: "P1", b: "P1", b2: "P1"}
    score = score_pairs(gold, owner, texts)
    assert (score.cross, score.correct, score.equivalent, score.wrong) == (4, 4, 2, [])
    assert score_pairs(gold, owner).correct == 2  # without texts: strict


def test_pairs_across_documents_are_not_cross_language_pairs() -> None:
    one, two = _gold(1, "one.md"), _gold(1, "two.md")
    owner = {one[0][0]: "P1", two[0][1]: "P1"}
    score = score_pairs(one + two, owner)
    assert (score.cross, score.within, score.precision) == (0, 1, None)
    assert score.recall is None and len(score.one_side) == 2


def test_scores_add_up() -> None:
    gold = _gold(2)
    (a, a2), (b, b2) = gold
    total = score_pairs(gold[:1], {a: "P1", a2: "P1"}).add(score_pairs(gold[1:], {b: "P", b2: "Q"}))
    assert (total.gold, len(total.both), len(total.hits), total.recall) == (2, 2, 1, 0.5)


def test_baseline_merges_mutual_best_matches_at_the_threshold() -> None:
    nl = [Ref("d", "nl", 0), Ref("d", "nl", 1), Ref("d", "nl", 2)]
    en = [Ref("d", "en", 0), Ref("d", "en", 1), Ref("d", "en", 2)]
    sims = np.array(
        [
            [0.90, 0.10, 0.10],  # mutual best: merged
            [0.10, 0.62, 0.10],  # mutual best but below 0.63: apart
            [0.70, 0.10, 0.20],  # best is en 0, whose best is nl 0: apart
        ]
    )
    owner = baseline_groups(nl, en, sims)
    assert owner[nl[0]] == owner[en[0]]
    assert len({owner[r] for r in [nl[1], en[1], nl[2], en[2]]}) == 4
    assert baseline_groups(nl, en, sims, threshold=0.6)[en[1]] == owner[nl[1]]
    assert score_pairs(list(zip(nl, en, strict=True)), owner).recall == pytest.approx(1 / 3)
