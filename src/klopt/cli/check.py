"""`klopt check`: a draft post against the house style and the promise register."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from klopt.checking.check import MAX_DRAFT_LENGTH, CheckReport, LineIndex, line_index
from klopt.checking.findings import Draft, Finding, Severity, Span
from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console
from klopt.errors import InputError, KloptError
from klopt.i18n import t

__all__ = ["check", "render_text", "read_post_text"]

PLATFORM_CHOICES = ("x", "twitter", "linkedin", "instagram", "facebook", "mastodon", "bluesky")
_STYLES = {Severity.ERROR: "bold red", Severity.WARNING: "bold yellow", Severity.INFO: "cyan"}


@cli.command()
@click.argument("text", required=False)
@click.option(
    "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="PATH"
)
@click.option("--platform", type=click.Choice(PLATFORM_CHOICES))
@click.option("--format", "format_", type=click.Choice(["text", "json", "sarif"]), default="text")
@click.option("--fail-on", type=click.Choice(["error", "warning", "info"]), default="error")
@click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
)
@click.option("--draft-lang", type=click.Choice(["nl", "en"]))
@click.option("--embedder")
@pass_ctx
def check(
    ctx: Context,
    text: str | None,
    path: Path | None,
    platform: str | None,
    format_: str,
    fail_on: str,
    rule_paths: tuple[Path, ...],
    draft_lang: str | None,
    embedder: str | None,
) -> None:
    """Check a draft post: house-style rules, promise checks, a score; exit 1 on findings."""
    draft_text, uri = _read_draft(ctx, text, path)
    try:
        report = _check(
            ctx, Draft(draft_text, platform, draft_lang or "other"), rule_paths, embedder
        )
    except KloptError as exc:
        # Exit code 1 means "findings" to a CI job; anything that stops the check is 2.
        if exc.exit_code == 1:
            exc.exit_code = 2
        raise
    if format_ == "json":
        from klopt.checking.check import report_json

        click.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    elif format_ == "sarif":
        from klopt.checking.check import report_sarif

        sarif = report_sarif(report, uri=uri, lang=ctx.lang)
        click.echo(json.dumps(sarif, indent=2, ensure_ascii=False))
    else:
        render_text(report, lang=ctx.lang, where=uri, out=console())
    if report.fails(Severity.parse(fail_on)):
        click.get_current_context().exit(1)


def _read_draft(ctx: Context, text: str | None, path: Path | None) -> tuple[str, str]:
    """The draft's text and what to call it: the file, ``stdin`` or ``draft.txt``."""
    draft = read_post_text(ctx, text, path, required=True)
    assert draft is not None  # required
    uri = path.as_posix() if path is not None else "stdin" if text == "-" else "draft.txt"
    return draft, uri


def read_post_text(
    ctx: Context, text: str | None, path: Path | None, *, required: bool
) -> str | None:
    """A post's text from TEXT, ``-`` (standard input) or ``--file``; ``None`` when none
    is given and none is ``required``. An unreadable file is an error with exit code 2.

    A file or standard input is read up to one character past
    :data:`klopt.checking.check.MAX_DRAFT_LENGTH`: enough for the check to refuse it as too
    long, without reading all of a file that is no post."""
    if text is not None and path is not None:
        raise click.UsageError(ctx.t("check.usage.both"))
    if path is not None:
        try:
            with path.open(encoding="utf-8-sig") as handle:
                return handle.read(MAX_DRAFT_LENGTH + 1)
        except (OSError, UnicodeDecodeError) as exc:
            error = InputError.keyed("file.unreadable", path=path, detail=exc)
            error.exit_code = 2
            raise error from exc
    if text == "-":
        if ctx.password_stdin:
            ctx.authenticate()  # the password is the first line, the text the rest
        return sys.stdin.read(MAX_DRAFT_LENGTH + 1)
    if text is None and required:
        raise click.UsageError(ctx.t("check.usage.none"))
    return text


def _check(
    ctx: Context, draft: Draft, rule_paths: Sequence[Path], embedder: str | None
) -> CheckReport:
    from klopt.checking.check import checkable_text, organization_checker
    from klopt.config import get_setting

    checkable_text(draft.text)  # before the packs, store and models
    checker = organization_checker(
        ctx.store,
        ctx.org,
        rule_paths=rule_paths,
        embedder=get_setting("embedder", embedder),
        lang=ctx.lang,
    )
    return checker(draft)


# --- text output -------------------------------------------------------------------------


def render_text(report: CheckReport, *, lang: str, where: str, out: Any) -> None:
    """Print the report for a person: each finding with its span marked, then the score.

    The span is underlined and coloured on a terminal, and a caret line (``^^^``) below
    it marks it on a plain one or in a log.

    Args:
        report: what :func:`klopt.checking.check.check_draft` returned.
        lang: the user's language.
        where: the draft's name in locations: the file, ``stdin`` or ``draft.txt``.
        out: a rich console.
    """
    from rich.text import Text

    for notice in report.notices:
        out.print(
            Text(t("check.notice", lang, message=notice.message), style="yellow"), soft_wrap=True
        )
    index = line_index(report.draft.text)
    gutter = len(str(index.count))
    for finding in report.findings:
        out.print()
        for line in _finding_lines(report, finding, lang, where, index, gutter):
            out.print(line, soft_wrap=True)
    if not report.findings:
        out.print(t("check.no_findings", lang))
    out.print()
    out.print(
        t(
            "check.score",
            lang,
            score=report.score,
            errors=report.count(Severity.ERROR),
            warnings=report.count(Severity.WARNING),
            infos=report.count(Severity.INFO),
        )
    )


def _finding_lines(
    report: CheckReport,
    finding: Finding,
    lang: str,
    where: str,
    index: LineIndex,
    gutter: int,
) -> list[Any]:
    from rich.text import Text

    style = _STYLES[finding.severity]
    severity = t(f"check.severity.{finding.severity.label}", lang)
    place = where
    if finding.span is not None:
        start = finding.span.start
        place = f"{where}:{index.line(start)}:{index.column(start)}"
    head = Text(f"{place}: ")
    head.append(severity, style=style)
    head.append(f" [{finding.rule}]")
    result: list[Any] = [head, Text(f"  {finding.message}")]
    if finding.span is not None:
        result += _marked(index, finding.span, gutter, style)
    if finding.suggestion:
        result.append(Text("  " + t("check.suggestion", lang, suggestion=finding.suggestion)))
    if finding.promise is not None:
        statement = report.statement(finding) or ""
        result.append(
            Text("  " + t("check.promise", lang, promise=finding.promise, statement=statement))
        )
    return result


#: Characters of the line shown on either side of a span, and of a long span shown from
#: either end; "…" marks what is left out. A finding shows its window, not its whole line,
#: so a long one-line draft does not print that line once per finding.
WINDOW = 40
#: A span over more lines than this shows its first and last line only.
MAX_MARKED_LINES = 3


def _marked(index: LineIndex, span: Span, gutter: int, style: str) -> list[Any]:
    """The lines the span touches, each cut to a window around the span, the span
    styled, and a caret line below each."""
    from rich.text import Text

    first = index.line(span.start)
    last = index.line(max(span.start, span.end - 1))
    numbers: list[int | None] = list(range(first, last + 1))
    if len(numbers) > MAX_MARKED_LINES:
        numbers = [first, None, last]
    result: list[Any] = []
    for number in numbers:
        if number is None:
            result.append(Text(f"  {'…':>{gutter}} |"))
        else:
            result += _marked_line(index, number, span, gutter, style)
    return result


def _marked_line(index: LineIndex, number: int, span: Span, gutter: int, style: str) -> list[Any]:
    """Line ``number`` around its part of ``span``: only that window of the text is read."""
    from rich.cells import cell_len
    from rich.text import Text

    text = index.text
    line_start, line_end = index.bounds(number)
    if line_end > line_start and text[line_end - 1] == "\r":
        line_end -= 1
    start = min(max(span.start, line_start), line_end)
    end = max(min(span.end, line_end), start)
    low, high = max(line_start, start - WINDOW), min(line_end, end + WINDOW)
    before = ("…" if low > line_start else "") + text[low:start]
    marked = text[start:end]
    if end - start > 2 * WINDOW:
        marked = text[start : start + WINDOW] + "…" + text[end - WINDOW : end]
    after = text[end:high] + ("…" if high < line_end else "")
    # A tab would shift the carets; a space keeps them under the span.
    before, marked, after = (part.replace("\t", " ") for part in (before, marked, after))
    source = Text(f"  {number:>{gutter}} | ")
    source.append(before)
    source.append(marked, style=f"underline {style}")
    source.append(after)
    marks = Text(f"  {'':>{gutter}} | ")
    marks.append(" " * cell_len(before) + "^" * max(1, cell_len(marked)), style=style)
    return [source, marks]
