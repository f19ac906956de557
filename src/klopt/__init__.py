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
    "create_organization": "klopt.organizations",
    "add_documents": "klopt.promises",
    "extract_promises": "klopt.promises",
    "list_promises": "klopt.promises",
    "import_register": "klopt.promises",
    "export_register": "klopt.promises",
    "import_mentions": "klopt.mentions",
    "ColumnMapping": "klopt.sources",
    "judge_posts": "klopt.verdicts",
    "correct": "klopt.verdicts",
    "build_scorecard": "klopt.scorecard",
    "Judge": "klopt.judge",
    "PromiseSpec": "klopt.judge",
    "evaluate": "klopt.evaluation",
    "read_document": "klopt.documents",
    "propose_promises": "klopt.extraction",
    "Draft": "klopt.findings",
    "Finding": "klopt.findings",
    "check_draft": "klopt.checking",
    "load_packs": "klopt.rules",
    "check_promises": "klopt.claims",
    "parse_period": "klopt.periods",
    "create_draft": "klopt.drafts",
    "approve_draft": "klopt.drafts",
    "publish_draft": "klopt.drafts",
    "add_user": "klopt.users",
    "grant": "klopt.users",
    "add_source": "klopt.sources.sync",
    "sync_source": "klopt.sources.sync",
    "sync_sources": "klopt.sources.sync",
    "register_source": "klopt.sources.source",
    "check_alerts": "klopt.alerting",
    "build_report": "klopt.reporting",
    "make_report": "klopt.reporting",
}

__all__ = ["__version__", *sorted(_EXPORTS)]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'klopt' has no attribute {name!r}")
    return getattr(import_module(module), name)
