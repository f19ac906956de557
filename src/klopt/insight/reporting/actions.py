"""What state a promise is in, and what the report recommends for it.

The state follows from three numbers of the period: how many mentions are about the
promise, their net score (kept minus broken, per mention) with its change against the
previous period, and how much of the organisation's own content was about it. The
rules are tried in the order of :data:`RULES`; the first that holds names the state.
Each state's recommended action is a text in the locale files
(``report.action.<state>``), so the rules are the same in every language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = [
    "Signals",
    "Rule",
    "RULES",
    "classify",
    "ATTENTION",
    "WENT_WELL",
    "MIN_MENTIONS",
    "KEPT_NET",
    "BROKEN_NET",
    "SLIPPING",
    "IMPROVING",
    "LOW_COVERAGE",
]

#: Fewer mentions than this about a promise: too few to say whether it is kept.
MIN_MENTIONS = 5
#: Net score (kept minus broken, per mention) at or above which a promise is kept ...
KEPT_NET = 0.2
#: ... and at or below which it is broken; in between the verdict is mixed.
BROKEN_NET = -0.2
#: A change of the net score against the previous period this large is a trend.
SLIPPING = -0.15
IMPROVING = 0.15
#: Own coverage is low when a promise gets less than this part of an even share of the
#: own posts (with 12 promises an even share is 1/12; low is under 1/24 of them).
LOW_COVERAGE = 0.5


@dataclass(frozen=True)
class Signals:
    """The numbers the rules look at, for one promise and period."""

    mentions: int
    net: float | None
    change: float | None
    own_posts: int
    own_total: int
    promises: int

    @property
    def low_coverage(self) -> bool:
        """Own content said little about the promise (nothing, when there was no own post)."""
        if self.own_total == 0 or self.promises == 0:
            return True
        return self.own_posts / self.own_total < LOW_COVERAGE / self.promises

    @property
    def kept(self) -> bool:
        return self.net is not None and self.net >= KEPT_NET

    @property
    def broken(self) -> bool:
        return self.net is not None and self.net <= BROKEN_NET

    @property
    def slipping(self) -> bool:
        return self.change is not None and self.change <= SLIPPING

    @property
    def improving(self) -> bool:
        return self.change is not None and self.change >= IMPROVING


@dataclass(frozen=True)
class Rule:
    """A state and the condition under which a promise is in it."""

    state: str
    holds: Callable[[Signals], bool]


RULES: tuple[Rule, ...] = (
    # Too little to go on: keep listening, do not act on noise.
    Rule("too_few", lambda s: s.mentions < MIN_MENTIONS),
    # Customers say it is broken while own content keeps saying it: the say-do gap.
    Rule("broken_promoted", lambda s: s.broken and not s.low_coverage),
    # Broken, and own content is quiet about it: fix the operation before promoting it.
    Rule("broken", lambda s: s.broken),
    # Not (yet) broken, but moving that way fast.
    Rule("slipping", lambda s: not s.kept and s.slipping),
    # Kept, but hardly anyone hears it from the organisation: say it more.
    Rule("kept_quiet", lambda s: s.kept and s.low_coverage),
    # Kept and said: say and do match.
    Rule("kept", lambda s: s.kept),
    # Neither kept nor broken.
    Rule("mixed", lambda s: True),
)

#: States that get a section of their own under "needs attention".
ATTENTION = frozenset({"broken_promoted", "broken", "slipping", "mixed"})
#: States listed under "what went well" (as is any promise that improved clearly).
WENT_WELL = frozenset({"kept", "kept_quiet"})


def classify(signals: Signals) -> str:
    """The state of a promise: the first rule of :data:`RULES` that holds."""
    return next(rule.state for rule in RULES if rule.holds(signals))
