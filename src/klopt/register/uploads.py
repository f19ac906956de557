"""A document given as bytes (uploaded in the web app) into the store, as ``klopt docs add``.

The file is read from memory by the same readers ``klopt docs add`` uses; nothing is
written anywhere but the store. Its name is only a label: the suffix picks the reader and
the rest names the document; it is never opened or created as a path.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import select

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import NotFound
from klopt.register.versions import DocumentAdded, Progress, store_documents
from klopt.store import Store
from klopt.store.models import SourceDocument

__all__ = ["Upload", "upload_label", "add_upload"]

_LABEL_LIMIT = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Upload:
    """What became of an uploaded document: its id, and what ``docs add`` would say."""

    document_id: int
    added: DocumentAdded


def upload_label(file_name: str) -> str:
    """The label an uploaded file is known by: the last part of the name the browser
    sent (some send a whole path), without control characters, at most 200 characters,
    its suffix kept."""
    name = unicodedata.normalize("NFC", file_name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _CONTROL.sub("", name).strip() or "document"
    if len(name) > _LABEL_LIMIT:
        stem, dot, suffix = name.rpartition(".")
        keep = _LABEL_LIMIT - len(suffix) - 1
        name = f"{stem[:keep]}.{suffix}" if dot and 0 < len(suffix) < 12 else name[:_LABEL_LIMIT]
    return name


def add_upload(
    store: Store,
    org_ref: str | None,
    file_name: str,
    data: bytes,
    *,
    actor: str,
    document_id: int | None = None,
    progress: Progress | None = None,
) -> Upload:
    """Read an uploaded file and store it: a new document, or a new version of one.

    Args:
        file_name: the name the browser sent; only a label (see :func:`upload_label`).
        data: the file's bytes.
        document_id: the document it is a new version of; by default the document of
            the same name (a new one if there is none).

    Raises:
        NotAllowed: the actor may not add documents (checked before the file is read).
        NotFound: ``document_id`` is no document of the organisation.
        InputError: the errors of :func:`klopt.register.documents.read_document_data`:
            no reader for the suffix, an encrypted or damaged PDF, no sentences ...
    """
    from klopt.register.documents import read_document_data

    label = upload_label(file_name)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "register.propose")
        name = label
        if document_id is not None:
            found = session.scalar(
                select(SourceDocument.name).where(
                    SourceDocument.organization_id == org.id, SourceDocument.id == document_id
                )
            )
            if found is None:
                raise NotFound.keyed("document.unknown_id", id=document_id)
            name = found
    doc = dataclasses.replace(read_document_data(data, label, progress=progress), name=name)
    added = store_documents(store, org_ref, [doc], actor=actor)[0]
    with store.session() as session:
        org = find_organization(session, org_ref)
        stored = session.scalar(
            select(SourceDocument.id).where(
                SourceDocument.organization_id == org.id, SourceDocument.name == added.name
            )
        )
    assert stored is not None  # it was stored a moment ago
    return Upload(stored, added)
