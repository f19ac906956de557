"""Export files as a source: one file, or a folder where exports are dropped.

Each sync reads the files that are new or changed since the last one (in name order),
in pages of :data:`PAGE` rows. The cursor says per file how many rows are stored, so a
sync killed half-way through a million-row export goes on at the next committed page.
The rows go through the same readers and column mapping as ``klopt mentions import``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar

from klopt.errors import InputError
from klopt.listening.base import (
    BadRow,
    ColumnMapping,
    MentionRecord,
    RawRow,
    Reader,
    RowProblem,
    reader_for,
    time_zone,
)
from klopt.listening.source import Page, Setting, SourceContext, register_source, required

__all__ = ["FileSource", "PAGE"]

#: Rows per page (one transaction each).
PAGE = 1000

_COLUMNS = ("text_column", "time_column", "id_column", "author_column", "url_column")


@register_source
class FileSource:
    """A CSV / JSON / NDJSON export, or a folder of them."""

    kind: ClassVar[str] = "file"
    network: ClassVar[bool] = False
    default_interval: ClassVar[int] = 3600
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("path", required=True, argument=True),
        Setting("preset"),
        Setting("format"),
        Setting("encoding"),
        Setting("timezone"),
        *(Setting(name) for name in _COLUMNS),
        Setting("platform"),
    )

    @classmethod
    def configure(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """``path`` (an existing file or folder, stored absolute) and the column mapping."""
        path = Path(required(options, "path", cls.kind)).expanduser().resolve()
        if not path.exists():
            raise InputError.keyed("file.missing", path=path)
        config: dict[str, Any] = {"path": str(path)}
        for name in ("preset", "format", "encoding", "timezone", *_COLUMNS, "platform"):
            if options.get(name):
                config[name] = str(options[name]).strip()
        if "timezone" in config:
            time_zone(config["timezone"])
        if "preset" in config:
            from klopt.listening.presets import preset

            if preset(config["preset"]).own:
                config["own"] = True  # an archive of the organisation's own account
        return config

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.path = Path(str(config["path"]))
        self.format = config.get("format")
        self.encoding = str(config.get("encoding") or "utf-8-sig")
        self.mapping = ColumnMapping(
            text=str(config.get("text_column") or "text"),
            time=config.get("time_column"),
            id=config.get("id_column"),
            author=config.get("author_column"),
            url=config.get("url_column"),
            default_platform=str(config.get("platform") or "import"),
        )
        self.preset = config.get("preset")
        self.timezone = time_zone(str(config.get("timezone") or "UTC"))
        self.columns = {
            name.removesuffix("_column"): str(config[name]) for name in _COLUMNS if name in config
        }
        self.platform = config.get("platform")
        self.context = context

    def pages(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        """Pages of the files that are new or changed, each with the rows done so far."""
        if not self.path.exists():
            raise InputError.keyed("file.missing", path=self.path)
        files = dict((cursor or {}).get("files", {}))
        paths = (
            sorted(p for p in self.path.iterdir() if p.is_file())
            if self.path.is_dir()
            else [self.path]
        )
        for path in paths:
            if self.path.is_dir() and path.name.startswith("."):
                continue
            stat = path.stat()
            stamp = {"size": stat.st_size, "mtime": stat.st_mtime_ns}
            done = files.get(path.name, {})
            if done.get("size") == stamp["size"] and done.get("mtime") == stamp["mtime"]:
                if done.get("complete"):
                    continue
                skip = int(done.get("rows", 0))
            else:
                skip = 0
            yield from self._file_pages(path, stamp, skip, files)

    def _file_pages(
        self, path: Path, stamp: dict[str, Any], skip: int, files: dict[str, Any]
    ) -> Iterator[Page]:
        reader, mapping = self._reading(path)
        records: list[MentionRecord] = []
        problems: list[RowProblem] = []
        from klopt.listening.mentions import check_columns

        rows = 0
        for row in reader(path, self.encoding):
            if isinstance(row, RawRow) and "__header__" in row.fields:
                check_columns(list(row.fields["__header__"]), mapping)
                continue
            rows += 1
            if rows == 1 and isinstance(row, RawRow):
                check_columns(list(row.fields), mapping, first_record=True)
            if rows <= skip:
                continue
            try:
                if isinstance(row, BadRow):
                    raise row
                records.append(mapping.to_record(row))
            except ValueError as exc:
                problems.append(RowProblem.of(row.line, exc))
            if len(records) + len(problems) >= PAGE:
                files[path.name] = {**stamp, "rows": rows, "complete": False}
                yield Page(records, {"files": dict(files)}, problems)
                records, problems = [], []
        files[path.name] = {**stamp, "rows": rows, "complete": True}
        yield Page(records, {"files": dict(files)}, problems)

    def _reading(self, path: Path) -> tuple[Reader, ColumnMapping]:
        """The reader and column mapping for one file: the preset's, or the settings'."""
        if self.preset:
            from klopt.listening.presets import plan_import

            plan = plan_import(
                self.preset,
                path,
                encoding=self.encoding,
                columns=self.columns,
                platform=self.platform,
                format=self.format,
                timezone=self.timezone,
            )
            return plan.reader, plan.mapping
        _, reader = reader_for(path, self.format)
        return reader, replace(self.mapping, timezone=self.timezone)
