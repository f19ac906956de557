"""Sources of posts: file imports now, feeds and platform connectors later.

Every source yields :class:`~klopt.listening.base.RawRow` items; built-in readers are
registered by name in the same registry that plug-ins use.
"""

from klopt.listening.base import (
    READERS,
    ColumnMapping,
    MentionRecord,
    RawRow,
    RowProblem,
    reader_for,
)

__all__ = ["READERS", "ColumnMapping", "MentionRecord", "RawRow", "RowProblem", "reader_for"]
