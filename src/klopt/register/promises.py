"""The promise register: documents in, proposals out, people decide, YAML round trip.

The register is what the organisation promises; everything klopt measures is measured
against its *approved* promises. This module is the register's public face; the work is
done, one concept per module, in:

* :mod:`klopt.register.versions` -- source documents, their versions, and the diff of a new one;
* :mod:`klopt.register.proposals` -- proposals from the documents, one promise per thing promised;
* :mod:`klopt.register.duplicates` -- when two wordings state the same promise;
* :mod:`klopt.register.decisions` -- views, look-up and decisions (approve, edit, merge ...);
* :mod:`klopt.register.file` -- the register as a YAML file.
"""

from __future__ import annotations

from klopt.register.decisions import (
    DECISIONS,
    KINDS,
    STATUSES,
    PromiseView,
    SourceView,
    approved_specs,
    edit_promise,
    find_promise,
    get_promise,
    list_promises,
    merge_promises,
    register_order,
    review_queue,
    set_status,
)
from klopt.register.file import export_register, import_register
from klopt.register.proposals import extract_promises
from klopt.register.versions import (
    DocumentAdded,
    DocumentInfo,
    PromiseChange,
    VersionDiff,
    add_documents,
    list_documents,
    version_diff,
)

__all__ = [
    "STATUSES",
    "DECISIONS",
    "KINDS",
    "DocumentAdded",
    "DocumentInfo",
    "PromiseChange",
    "PromiseView",
    "SourceView",
    "VersionDiff",
    "add_documents",
    "extract_promises",
    "list_promises",
    "get_promise",
    "review_queue",
    "set_status",
    "edit_promise",
    "merge_promises",
    "import_register",
    "export_register",
    "approved_specs",
    "find_promise",
    "register_order",
    "list_documents",
    "version_diff",
]
