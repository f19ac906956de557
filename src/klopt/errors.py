"""One exception tree for klopt.

Every error a user can cause (a bad file, a missing column, a database that does not
answer) is a :class:`KloptError`. Its message says what went wrong *and* what to do
next; the CLI prints it without a traceback and exits with ``exit_code``.
"""

from __future__ import annotations

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

    def __str__(self) -> str:
        return f"{self.message} {self.hint}" if self.hint else self.message


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
