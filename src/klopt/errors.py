"""One exception tree for klopt.

Every error a user can cause (a bad file, a missing column, a database that does not
answer) is a :class:`KloptError`. Its message says what went wrong *and* what to do
next; the CLI prints it without a traceback and exits with ``exit_code``.

klopt raises its errors by message key, so their text lives in the locale files with all
other text (``error.<key>`` and, where there is one, ``error.<key>.hint``)::

    raise EncryptedDocument.keyed("document.encrypted", name=name)

``str(exc)``, ``exc.message`` and ``exc.hint`` are English (for logs and library users);
``exc.localized("nl")`` is the text a Dutch user sees. A plugin may still raise
``KloptError("message", hint="...")``: a plain message is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self

from klopt.i18n import Localized, messages, t

__all__ = [
    "KloptError",
    "ConfigError",
    "StoreError",
    "DatabaseUnavailable",
    "InputError",
    "UnsupportedFileType",
    "UnreadableDocument",
    "MissingColumn",
    "EmptyInput",
    "BadEncoding",
    "NotFound",
    "UnknownPromise",
    "ModelError",
    "ImportInterrupted",
]


class KloptError(Exception):
    """Base of every error klopt raises on purpose."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.key: str | None = None
        self.values: dict[str, Any] = {}

    @classmethod
    def keyed(cls, key: str, /, **values: Any) -> Self:
        """The error whose text is ``error.<key>`` (and ``error.<key>.hint``) in the locale files.

        Args:
            key: The message key without its ``error.`` prefix, e.g. ``"document.encrypted"``.
            **values: The ``{name}`` fields of the message and hint: file names, ids, details.
        """
        message, hint = _texts(key, "en", values)
        error = cls(message, hint=hint)
        error.key = key
        error.values = values
        return error

    @classmethod
    def stored(cls, key: str, values: dict[str, Any]) -> KloptError:
        """An error kept in the store by its key and values (a source's last error), to be
        shown again in any language; a key no longer known is shown as it is."""
        if f"error.{key}" not in messages("en"):
            return KloptError(key)
        try:
            message, hint = _texts(key, "en", values)
        except (KeyError, IndexError):  # its fields changed since it was stored
            return KloptError(key)
        error = cls(message, hint=hint)
        error.key, error.values = key, dict(values)
        return error

    def localized(self, lang: str) -> str:
        """The message and hint in ``lang`` (English where klopt does not speak it)."""
        if self.key is None:
            return str(self)
        message, hint = _texts(self.key, lang, self.values)
        return f"{message} {hint}" if hint else message

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


def _texts(key: str, lang: str, values: dict[str, Any]) -> tuple[str, str | None]:
    # Always format, even without values, so that ``{{`` in a text is one literal brace.
    # A value that speaks several languages (a row problem) is shown in ``lang`` too.
    values = {k: v.text(lang) if isinstance(v, Localized) else v for k, v in values.items()}
    hint_key = f"error.{key}.hint"
    hint = t(hint_key, lang).format(**values) if hint_key in messages("en") else None
    return t(f"error.{key}", lang).format(**values), hint


class ConfigError(KloptError):
    """A setting has a value klopt cannot use."""

    exit_code = 2


class StoreError(KloptError):
    """The store refused an operation."""


class DatabaseUnavailable(StoreError):
    """The database URL does not answer or cannot be opened."""

    exit_code = 3


class InputError(KloptError):
    """A file or argument given by the user cannot be used."""


class UnsupportedFileType(InputError):
    """klopt has no reader for this kind of file."""


class UnreadableDocument(InputError):
    """A document exists but its text cannot be read."""


class MissingColumn(InputError):
    """A mapped column is not in the file."""


class EmptyInput(InputError):
    """A file holds nothing to work with."""


class BadEncoding(InputError):
    """A text file is not in the expected encoding."""


class ImportInterrupted(InputError):
    """An import stopped on a bad row in strict mode; nothing of the batch was kept."""


class NotFound(KloptError):
    """Something named by the user does not exist."""


class UnknownPromise(NotFound):
    """A promise id that is not in the register."""


class ModelError(KloptError):
    """A bundled model could not be loaded or used."""


# --- reading documents (issue 3) ---------------------------------------------------------


class EncryptedDocument(UnreadableDocument):
    """A document is protected with a password."""


class NoTextLayer(UnreadableDocument):
    """A PDF holds only images of pages (a scan): there is no text to read."""


class NotAWordDocument(UnreadableDocument):
    """A ``.docx`` file is not a Word document (not a ZIP, or a ZIP of something else)."""


class NoMainText(EmptyInput):
    """A saved web page holds no main text: only menus, banners or a cookie notice."""


class CookieWall(NoMainText):
    """A saved web page holds only a cookie notice: it was saved before accepting cookies."""


class InvalidUrlList(InputError):
    """A line of a URL list file is not ``URL saved-file``."""


__all__ += [
    "EncryptedDocument",
    "NoTextLayer",
    "NotAWordDocument",
    "NoMainText",
    "CookieWall",
    "InvalidUrlList",
]


# --- users and roles (issue 4) -----------------------------------------------------------


class UnknownUser(NotFound):
    """A user name that is not in the store."""


class UserExists(InputError):
    """A user with this name is already in the store."""


class NotAllowed(KloptError):
    """The user's role in the organisation does not allow what they asked for."""


__all__ += ["UnknownUser", "UserExists", "NotAllowed"]


# --- sources (issue 5) -------------------------------------------------------------------


class SourceError(KloptError):
    """A source could not be read this time; what was committed before stays."""


class RateLimited(SourceError):
    """The platform asks to wait longer than klopt waits in one run."""

    until: Any = None

    def until_time(self, until: Any) -> Self:
        """The same error, knowing until when the platform asked to wait."""
        self.until = until
        return self


class SourceUnavailable(SourceError):
    """The source does not answer, or keeps answering with server errors."""


class BadCredentials(SourceError):
    """The platform refused the credentials (HTTP 401 or 403)."""


class MalformedResponse(SourceError):
    """The platform answered with something that is not what its API returns."""


class NotAFeed(SourceError):
    """A feed URL returned a web page (HTML) or something else that is not RSS or Atom."""


class UnknownSource(NotFound):
    """A source name that the organisation does not have."""


class SourceExists(InputError):
    """The organisation already has a source with this name."""


__all__ += [
    "SourceError",
    "RateLimited",
    "SourceUnavailable",
    "BadCredentials",
    "MalformedResponse",
    "NotAFeed",
    "UnknownSource",
    "SourceExists",
]


# --- robustness and who acts (issue 11) --------------------------------------------------


class ValueTooLong(InputError):
    """A value is longer than its column holds (the same on every backend)."""


class ReadOnlyStore(StoreError):
    """The database can be read but not written by this user or process."""

    exit_code = 3


class Busy(StoreError):
    """Another process is doing the same work on this store (it holds its lock)."""

    exit_code = 4


class NotAuthenticated(NotAllowed):
    """The user who acts has a password or token, and it was not given or is wrong."""


class DraftTooLong(InputError):
    """A draft is longer than klopt checks or keeps; a usage mistake, so exit code 2."""

    exit_code = 2


__all__ += ["ValueTooLong", "ReadOnlyStore", "Busy", "NotAuthenticated", "DraftTooLong"]


# --- the web app (issue 13) --------------------------------------------------------------


class Throttled(NotAuthenticated):
    """Too many failed sign-ins for this name or from this address: wait, then try again."""


__all__ += ["Throttled"]


# --- publishing (issue 16) ---------------------------------------------------------------


class PostRefused(SourceError):
    """The platform refused the post itself (too long, a bad image, a reply to a post that
    is gone): sending it again as it is will not help."""


__all__ += ["PostRefused"]


# --- the cluster (issue 17) --------------------------------------------------------------


class ClusterError(KloptError):
    """Work on the Ray cluster failed: a worker died more often than Ray starts it again,
    or the cluster went away. What was stored before stays."""


__all__ += ["ClusterError"]


def error_json(error: KloptError) -> dict[str, Any]:
    """An error as the store keeps it: its key and values (shown later in any language)."""
    return {
        "key": error.key,
        "values": {k: str(v) for k, v in error.values.items()},
        "message": str(error),
    }


def error_from_json(data: Mapping[str, Any] | None) -> KloptError | None:
    """The error :func:`error_json` kept; a key no longer known is shown as its message."""
    if not data:
        return None
    if data.get("key"):
        return KloptError.stored(str(data["key"]), dict(data.get("values") or {}))
    return KloptError(str(data.get("message", "")))
