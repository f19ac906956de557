"""klopt: hold an organisation's social media to the promises in its corporate documents.

The public API is re-exported here and loaded on first use, so ``import klopt`` (and
``klopt --help``) stays fast and never loads a model.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "KloptError": "klopt.errors",
    "open_store": "klopt.store",
    "Store": "klopt.store",
    "create_organization": "klopt.accounts.organizations",
    "add_documents": "klopt.register.promises",
    "extract_promises": "klopt.register.promises",
    "list_promises": "klopt.register.promises",
    "import_register": "klopt.register.promises",
    "export_register": "klopt.register.promises",
    "import_mentions": "klopt.listening.mentions",
    "ColumnMapping": "klopt.listening",
    "judge_posts": "klopt.judging.verdicts",
    "correct": "klopt.judging.verdicts",
    "review_queue": "klopt.judging.inbox",
    "build_scorecard": "klopt.insight.scorecard",
    "Judge": "klopt.judging.judge",
    "PromiseSpec": "klopt.judging.judge",
    "evaluate": "klopt.judging.evaluation",
    "read_document": "klopt.register.documents",
    "propose_promises": "klopt.register.extraction",
    "Draft": "klopt.checking.findings",
    "Finding": "klopt.checking.findings",
    "check_draft": "klopt.checking.check",
    "load_packs": "klopt.checking.rules",
    "check_promises": "klopt.checking.claims",
    "parse_period": "klopt.insight.periods",
    "create_draft": "klopt.editorial.drafts",
    "approve_draft": "klopt.editorial.drafts",
    "publish_draft": "klopt.editorial.drafts",
    "add_user": "klopt.accounts.users",
    "grant": "klopt.accounts.users",
    "add_source": "klopt.listening.sync",
    "sync_source": "klopt.listening.sync",
    "sync_sources": "klopt.listening.sync",
    "register_source": "klopt.listening.source",
    "check_alerts": "klopt.insight.alerting",
    "build_report": "klopt.insight.reporting",
    "make_report": "klopt.insight.reporting",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'klopt' has no attribute {name!r}")
    return getattr(import_module(module), name)
