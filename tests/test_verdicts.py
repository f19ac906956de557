"""The model version that makes judging idempotent names everything judging depends on."""

from __future__ import annotations

from klopt.judging.judge import PromiseSpec
from klopt.judging.verdicts import _model_version


def test_a_theme_change_is_a_new_model_version() -> None:
    delivery = [(1, PromiseSpec("P1", "Wij leveren binnen 24 uur.", theme="delivery"))]
    other = [(1, PromiseSpec("P1", "Wij leveren binnen 24 uur.", theme="delays"))]
    none = [(1, PromiseSpec("P1", "Wij leveren binnen 24 uur."))]
    versions = {_model_version("e/1", specs, 0) for specs in (delivery, other, none)}
    assert len(versions) == 3
    assert _model_version("e/1", delivery, 0) == _model_version("e/1", list(delivery), 0)
    assert _model_version("e/1", delivery, 0) != _model_version("e/1", delivery, 1)
