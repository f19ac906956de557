"""`klopt check`: a draft post against the house style and the promise register."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from klopt.checking import CheckReport
from klopt.cli import Context, cli, pass_ctx
from klopt.commands.output import console
from klopt.errors import InputError, KloptError
from klopt.findings import Draft, Finding, Severity, Span
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
        from klopt.checking import report_json

        click.echo(json.dumps(report_json(report), indent=2, ensure_ascii=False))
    elif format_ == "sarif":
        from klopt.checking import report_sarif

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
    is given and none is ``required``. An unreadable file is an error with exit code 2."""
    if text is not None and path is not None:
        raise click.UsageError(ctx.t("check.usage.both"))
    if path is not None:
        try:
            return path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            error = InputError.keyed("file.unreadable", path=path, detail=exc)
            error.exit_code = 2
            raise error from exc
    if text == "-":
        return sys.stdin.read()
    if text is None and required:
        raise click.UsageError(ctx.t("check.usage.none"))
    return text


def _check(
    ctx: Context, draft: Draft, rule_paths: Sequence[Path], embedder: str | None
) -> CheckReport:
    from klopt.checking import EmptyDraft, organization_checker
    from klopt.config import get_setting

    if not draft.text.strip():
        raise EmptyDraft.keyed("check.empty_draft")  # before the packs, store and models
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
        report: what :func:`klopt.checking.check_draft` returned.
        lang: the user's language.
        where: the draft's name in locations: the file, ``stdin`` or ``draft.txt``.
        out: a rich console.
    """
    from rich.text import Text

    for notice in report.notices:
        out.print(
            Text(t("check.notice", lang, message=notice.message), style="yellow"), soft_wrap=True
        )
    lines = report.draft.text.split("\n")
    gutter = len(str(len(lines)))
    for finding in report.findings:
        out.print()
        for line in _finding_lines(report, finding, lang, where, lines, gutter):
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
    lines: Sequence[str],
    gutter: int,
) -> list[Any]:
    from rich.text import Text

    style = _STYLES[finding.severity]
    severity = t(f"check.severity.{finding.severity.label}", lang)
    place = where
    if finding.span is not None:
        line, column = _line_column(report.draft.text, finding.span.start)
        place = f"{where}:{line}:{column}"
    head = Text(f"{place}: ")
    head.append(severity, style=style)
    head.append(f" [{finding.rule}]")
    result: list[Any] = [head, Text(f"  {finding.message}")]
    if finding.span is not None:
        result += _marked(report.draft.text, finding.span, lines, gutter, style)
    if finding.suggestion:
        result.append(Text("  " + t("check.suggestion", lang, suggestion=finding.suggestion)))
    if finding.promise is not None:
        statement = report.statement(finding) or ""
        result.append(
            Text("  " + t("check.promise", lang, promise=finding.promise, statement=statement))
        )
    return result


def _marked(text: str, span: Span, lines: Sequence[str], gutter: int, style: str) -> list[Any]:
    """The lines the span touches, the span styled, each with a caret line below it."""
    from rich.cells import cell_len
    from rich.text import Text

    first, _ = _line_column(text, span.start)
    last, _ = _line_column(text, max(span.start, span.end - 1))
    offset = sum(len(line) + 1 for line in lines[: first - 1])
    result: list[Any] = []
    for number in range(first, last + 1):
        raw = lines[number - 1]
        line = raw.rstrip("\r").replace("\t", " ")  # same offsets; a tab would shift carets
        start = max(span.start - offset, 0)
        end = min(span.end - offset, len(line))
        offset += len(raw) + 1
        source = Text(f"  {number:>{gutter}} | ")
        source.append(line[:start])
        source.append(line[start:end], style=f"underline {style}")
        source.append(line[end:])
        carets = " " * cell_len(line[:start]) + "^" * max(1, cell_len(line[start:end]))
        marks = Text(f"  {'':>{gutter}} | ")
        marks.append(carets, style=style)
        result += [source, marks]
    return result


def _line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column (in characters) of ``offset`` in ``text``."""
    before = text[:offset]
    return before.count("\n") + 1, offset - (before.rfind("\n") + 1) + 1
