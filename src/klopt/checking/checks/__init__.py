"""Check types: the code behind house-style rules, found by name.

Rule packs (YAML, :mod:`klopt.checking.rules`) name a check type with ``check:``. The built-in
types register here the same way a plugin does, with :func:`register_check`.
"""

from __future__ import annotations

from klopt.checking.checks.base import PLATFORMS, Check, Hit, Params, RulePackError
from klopt.checking.checks.counting import Count, Length
from klopt.checking.checks.wording import Pattern, RequiredDisclaimer, Terms, Tone

__all__ = [
    "CHECK_TYPES",
    "PLATFORMS",
    "Check",
    "Hit",
    "Params",
    "RulePackError",
    "register_check",
]

CHECK_TYPES: dict[str, type[Check]] = {}


def register_check(check_type: type[Check]) -> type[Check]:
    """Make ``check_type`` available to rule packs under its ``name`` (usable as a decorator)."""
    CHECK_TYPES[check_type.name] = check_type
    return check_type


for _builtin in (Terms, Pattern, RequiredDisclaimer, Count, Length, Tone):
    register_check(_builtin)
