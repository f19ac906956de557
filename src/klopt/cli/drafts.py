"""`klopt drafts ...` and `klopt audit`: the editorial workflow and its record.

The CLI acts as the user named by ``--user`` / ``KLOPT_USER`` (else the login name); what
that user may do follows their role in the organisation (``klopt users``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.check import PLATFORM_CHOICES, read_post_text, render_text
from klopt.cli.output import console, table, when
from klopt.errors import InputError

if TYPE_CHECKING:
    from klopt.checking.check import CheckReport
    from klopt.editorial.drafts import DraftInfo

STATE_CHOICES = ("draft", "in_review", "changes_requested", "approved", "published", "withdrawn")
_STATE_STYLES = {
    "draft": "",
    "in_review": "yellow",
    "changes_requested": "red",
    "approved": "green",
    "published": "bold green",
    "withdrawn": "dim",
}

_rules = click.option(
    "--rules",
    "rule_paths",
    multiple=True,
    type=click.Path(exists=True, path_type=Path),
    metavar="PATH",
)


@cli.group()
def drafts() -> None:
    """Draft posts: versions, comments, review and approval, publishing."""


class _Checks:
    """The organisation's check, keeping the reports it made so that they can be shown."""

    def __init__(self, ctx: Context, rule_paths: Sequence[Path]) -> None:
        from klopt.checking.check import organization_checker
        from klopt.config import get_setting

        self.reports: list[CheckReport] = []
        self._check = organization_checker(
            ctx.store,
            ctx.org,
            rule_paths=rule_paths,
            embedder=get_setting("embedder"),
            lang=ctx.lang,
        )

    def __call__(self, draft: Any) -> CheckReport:
        report = self._check(draft)
        self.reports.append(report)
        return report


def _checker(ctx: Context, rule_paths: Sequence[Path], enabled: bool = True) -> _Checks | None:
    return _Checks(ctx, rule_paths) if enabled else None


def _show_check(ctx: Context, checks: _Checks | None, where: str) -> None:
    if checks is not None and checks.reports:
        render_text(checks.reports[-1], lang=ctx.lang, where=where, out=console())


def _time(value: str | None) -> datetime | None:
    from klopt.editorial.drafts import parse_time

    return parse_time(value) if value else None


def _since(value: str | None) -> datetime | None:
    """A ``--since`` as every command reads it (a time without a zone is UTC)."""
    from klopt.insight.periods import parse_time

    return parse_time(value) if value else None


def _state(ctx: Context, state: str) -> str:
    return ctx.t(f"drafts.state.{state}")


_file = click.option(
    "--file", "path", type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="PATH"
)
_platform = click.option("--platform", type=click.Choice(PLATFORM_CHOICES))
_image = click.option(
    "--image", "image_paths", multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path), metavar="PATH",
)  # fmt: skip
_alt = click.option("--alt", "alts", multiple=True, metavar="TEXT")
_visibility = click.option("--visibility", metavar="public|unlisted|private|direct")
_account = click.option("--account", metavar="NAME")


def _images(paths: Sequence[Path], alts: Sequence[str]) -> list[Any]:
    """The images of ``--image``, each with the ``--alt`` in the same place."""
    from klopt.editorial.images import MAX_BYTES, new_image

    if len(paths) != len(alts):
        raise InputError.keyed("images.alt_count", images=len(paths), alts=len(alts))
    found = []
    for path, alt in zip(paths, alts, strict=True):
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
        found.append(new_image(data, alt, name=path.name))
    return found


_at = click.option("--at", "planned", metavar="TIME")
_no_check = click.option("--no-check", is_flag=True)


@drafts.command("new")
@click.argument("text", required=False)
@_file
@_platform
@_at
@_image
@_alt
@_visibility
@_account
@_no_check
@_rules
@pass_ctx
def drafts_new(
    ctx: Context,
    text: str | None,
    path: Path | None,
    platform: str | None,
    planned: str | None,
    image_paths: tuple[Path, ...],
    alts: tuple[str, ...],
    visibility: str | None,
    account: str | None,
    no_check: bool,
    rule_paths: tuple[Path, ...],
) -> None:
    """Write a new draft (version 1) and check it."""
    from klopt.editorial.drafts import create_draft

    body = read_post_text(ctx, text, path, required=True) or ""
    when = _time(planned)
    images = _images(image_paths, alts)
    checks = _checker(ctx, rule_paths, not no_check)
    info = create_draft(
        ctx.store, ctx.org, body, actor=ctx.actor, platform=platform, planned_at=when,
        check=checks, images=images, visibility=visibility, account=account,
    )  # fmt: skip
    console().print(ctx.t("drafts.created", draft=info.key, state=_state(ctx, info.state)))
    _show_check(ctx, checks, f"{info.key}v{info.version}")


@drafts.command("edit")
@click.argument("ref", metavar="DRAFT")
@click.argument("text", required=False)
@_file
@_platform
@_at
@_image
@_alt
@click.option("--no-images", is_flag=True)
@_visibility
@_account
@_no_check
@_rules
@pass_ctx
def drafts_edit(
    ctx: Context,
    ref: str,
    text: str | None,
    path: Path | None,
    platform: str | None,
    planned: str | None,
    image_paths: tuple[Path, ...],
    alts: tuple[str, ...],
    no_images: bool,
    visibility: str | None,
    account: str | None,
    no_check: bool,
    rule_paths: tuple[Path, ...],
) -> None:
    """Store a new version of a draft (text or images), or change its details."""
    from klopt.editorial.drafts import edit_draft

    body = read_post_text(ctx, text, path, required=False)
    when = _time(planned)
    images = [] if no_images else _images(image_paths, alts) if image_paths or alts else None
    checks = _checker(ctx, rule_paths, not no_check and (body, images) != (None, None))
    info = edit_draft(
        ctx.store, ctx.org, ref, body, actor=ctx.actor, platform=platform, planned_at=when,
        check=checks, images=images, visibility=visibility, account=account,
    )  # fmt: skip
    if body is None and images is None:
        console().print(ctx.t("drafts.details_changed", draft=info.key))
        return
    console().print(
        ctx.t("drafts.edited", draft=info.key, version=info.version, state=_state(ctx, info.state))
    )
    _show_check(ctx, checks, f"{info.key}v{info.version}")


def _moved(ctx: Context, info: DraftInfo) -> None:
    console().print(ctx.t("drafts.moved", draft=info.key, state=_state(ctx, info.state)))


@drafts.command("submit")
@click.argument("ref", metavar="DRAFT")
@pass_ctx
def drafts_submit(ctx: Context, ref: str) -> None:
    """Ask for review."""
    from klopt.editorial.drafts import submit_draft

    _moved(ctx, submit_draft(ctx.store, ctx.org, ref, actor=ctx.actor))


@drafts.command("approve")
@click.argument("ref", metavar="DRAFT")
@click.option("--version", "version", type=click.IntRange(min=1))
@click.option("--note", default="")
@click.option("--override", is_flag=True)
@_rules
@pass_ctx
def drafts_approve(
    ctx: Context,
    ref: str,
    version: int | None,
    note: str,
    override: bool,
    rule_paths: tuple[Path, ...],
) -> None:
    """Approve the newest version of a draft in review; it is checked once more."""
    from klopt.editorial.drafts import approve_draft, draft_number

    checks = _Checks(ctx, rule_paths)
    key = f"D{draft_number(ref)}"
    try:
        review = approve_draft(
            ctx.store,
            ctx.org,
            ref,
            actor=ctx.actor,
            check=checks,
            version=version,
            note=note,
            override=override,
        )
    except InputError as exc:
        if exc.key == "drafts.has_errors":  # show what was found, then the refusal
            _show_check(ctx, checks, key)
            console().print()
        raise
    message = "drafts.approved.override" if review.overridden else "drafts.approved"
    console().print(
        ctx.t(message, draft=key, version=review.version, user=review.reviewer, score=review.score)
    )


@drafts.command("request-changes")
@click.argument("ref", metavar="DRAFT")
@click.option("--note", required=True)
@click.option("--version", "version", type=click.IntRange(min=1))
@pass_ctx
def drafts_request_changes(ctx: Context, ref: str, note: str, version: int | None) -> None:
    """Send a draft in review back to its editors, saying why."""
    from klopt.editorial.drafts import draft_number, request_changes

    review = request_changes(ctx.store, ctx.org, ref, actor=ctx.actor, note=note, version=version)
    console().print(
        ctx.t("drafts.changes_requested", draft=f"D{draft_number(ref)}", version=review.version)
    )


@drafts.command("publish")
@click.argument("ref", metavar="DRAFT")
@click.option("--url", metavar="URL")
@click.option("--at", "published", metavar="TIME")
@_platform
@pass_ctx
def drafts_publish(
    ctx: Context, ref: str, url: str | None, published: str | None, platform: str | None
) -> None:
    """Mark an approved draft as published; it becomes an own post."""
    from klopt.editorial.drafts import publish_draft

    info = publish_draft(
        ctx.store,
        ctx.org,
        ref,
        actor=ctx.actor,
        url=url,
        published_at=_time(published),
        platform=platform,
    )
    console().print(ctx.t("drafts.published", draft=info.key, platform=info.platform or ""))


@drafts.command("withdraw")
@click.argument("ref", metavar="DRAFT")
@click.option("--note", default="")
@pass_ctx
def drafts_withdraw(ctx: Context, ref: str, note: str) -> None:
    """Withdraw a draft; it stays, with its history."""
    from klopt.editorial.drafts import withdraw_draft

    _moved(ctx, withdraw_draft(ctx.store, ctx.org, ref, actor=ctx.actor, note=note))


@drafts.command("comment")
@click.argument("ref", metavar="DRAFT")
@click.argument("text")
@click.option("--version", "version", type=click.IntRange(min=1))
@pass_ctx
def drafts_comment(ctx: Context, ref: str, text: str, version: int | None) -> None:
    """Add a comment to a version of a draft (the newest by default)."""
    from klopt.editorial.drafts import comment_draft, draft_number

    comment = comment_draft(ctx.store, ctx.org, ref, text, actor=ctx.actor, version=version)
    console().print(
        ctx.t("drafts.commented", draft=f"D{draft_number(ref)}", version=comment.version)
    )


@drafts.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice(STATE_CHOICES))
@_platform
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def drafts_list(ctx: Context, states: tuple[str, ...], platform: str | None, as_json: bool) -> None:
    """List the organisation's drafts."""
    from klopt.cli.output import print_json
    from klopt.editorial.drafts import list_drafts

    found = list_drafts(ctx.store, ctx.org, actor=ctx.actor, states=states, platform=platform)
    if as_json:
        from klopt.editorial.drafts_json import draft_json

        print_json([draft_json(d) for d in found])
        return
    if not found:
        console().print(ctx.t("drafts.none"))
        return
    table(
        ctx.t("drafts.title"),
        [
            ctx.t("col.draft"),
            ctx.t("col.text"),
            ctx.t("col.state"),
            ctx.t("col.version"),
            ctx.t("col.platform"),
            ctx.t("col.planned"),
            ctx.t("col.author"),
            ctx.t("col.score"),
        ],
        [
            (
                d.key,
                d.text.replace("\n", " "),
                _state(ctx, d.state),
                d.version,
                d.platform or "",
                when(d.planned_at),
                d.author,
                "" if d.score is None else d.score,
            )
            for d in found
        ],
        shorten=40,
    )


@drafts.command("show")
@click.argument("ref", metavar="DRAFT")
@pass_ctx
def drafts_show(ctx: Context, ref: str) -> None:
    """Show a draft: its newest text, state, versions, reviews and comments."""
    from rich.text import Text

    from klopt.editorial.drafts import show_draft

    detail = show_draft(ctx.store, ctx.org, ref, actor=ctx.actor)
    d = detail.draft
    out = console()
    head = Text(f"{d.key}  ", style="bold")
    head.append(_state(ctx, d.state), style=_STATE_STYLES[d.state])
    out.print(head)
    fields = [
        ("col.version", d.version),
        ("col.platform", d.platform),
        ("col.planned", when(d.planned_at, offset=True)),
        ("col.author", d.author),
        ("col.score", d.score),
        ("col.published", when(d.published_at, offset=True)),
        ("col.url", d.url),
        ("col.reply_to", f"#{d.reply_to}" if d.reply_to is not None else None),
        ("col.visibility", d.visibility if d.visibility != "public" else None),
        ("col.account", d.account),
    ]
    for key, value in fields:
        if value not in (None, ""):
            out.print(f"  {ctx.t(key)}: {value}")
    out.print()
    out.print(Text(d.text))
    for image in detail.versions[-1].images:
        out.print(ctx.t("drafts.image_line", position=image.position, mime=image.mime,
                        kb=max(1, image.size // 1000), alt=image.alt))  # fmt: skip
    out.print()
    for version in detail.versions:
        line = ctx.t(
            "drafts.version_line",
            version=version.number,
            author=version.author,
            time=when(version.created_at, offset=True),
        )
        if version.score is not None:
            line += "  " + ctx.t("drafts.version_score", score=version.score)
        out.print(line)
    for review in detail.reviews:
        key = "drafts.review.policy" if review.policy else f"drafts.review.{review.decision}"
        out.print(
            ctx.t(
                key,
                version=review.version,
                user=review.reviewer,
                time=when(review.created_at, offset=True),
                policy=review.policy,
            )
        )
        if review.note:
            out.print(f"    “{review.note}”")
    from klopt.editorial.outbox import list_publications

    for p in list_publications(ctx.store, ctx.org, draft=d.number):
        out.print(ctx.t("drafts.publication_line", version=p.version, account=p.account,
                        state=ctx.t(f"publish.state.{p.state}"), url=p.url or ""))  # fmt: skip
        if p.problem is not None:
            out.print(f"    {p.problem.localized(ctx.lang)}")
    for comment in detail.comments:
        out.print(
            ctx.t(
                "drafts.comment_line",
                version=comment.version,
                user=comment.author,
                time=when(comment.created_at, offset=True),
            )
        )
        out.print(f"    “{comment.text}”")


@drafts.command("diff")
@click.argument("ref", metavar="DRAFT")
@click.option("--from", "old", type=click.IntRange(min=1))
@click.option("--to", "new", type=click.IntRange(min=1))
@pass_ctx
def drafts_diff(ctx: Context, ref: str, old: int | None, new: int | None) -> None:
    """Show what changed between two versions, word by word."""
    from rich.text import Text

    from klopt.editorial.drafts import diff_versions, draft_number

    first, second, parts = diff_versions(ctx.store, ctx.org, ref, actor=ctx.actor, old=old, new=new)
    out = console()
    out.print(ctx.t("drafts.diff.title", draft=f"D{draft_number(ref)}", old=first, new=second))
    if all(part.op == "=" for part in parts):
        out.print(ctx.t("drafts.diff.same"))
        return
    # Marked so that it reads on a plain terminal and in a log: [-went-]{+came+}.
    line = Text()
    for part in parts:
        if part.op == "-":
            line.append(f"[-{part.text}-]", style="red strike")
        elif part.op == "+":
            line.append(f"{{+{part.text}+}}", style="green")
        else:
            line.append(part.text)
    out.print(line)


@drafts.command("history")
@click.argument("ref", metavar="DRAFT")
@click.option("--format", "format_", type=click.Choice(["text", "csv", "json"]), default="text")
@pass_ctx
def drafts_history(ctx: Context, ref: str, format_: str) -> None:
    """The audit trail of one draft: who did what, when, on which version."""
    from klopt.accounts.trail import trail
    from klopt.editorial.drafts import draft_number

    key = f"D{draft_number(ref)}"
    entries = trail(ctx.store, ctx.org, actor=ctx.actor, subject_type="draft", subject_id=key)
    if not entries:
        from klopt.editorial.drafts import show_draft

        show_draft(ctx.store, ctx.org, ref, actor=ctx.actor)  # says the draft is not there
    _print_trail(ctx, entries, format_, ctx.t("drafts.history.title", draft=key))


@cli.command("audit")
@click.option("--subject", "subject_type", metavar="TYPE")
@click.option("--id", "subject_id", metavar="ID")
@click.option("--since", metavar="DATE")
@click.option("--format", "format_", type=click.Choice(["text", "csv", "json"]), default="text")
@click.option(
    "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), metavar="PATH"
)
@pass_ctx
def audit_command(
    ctx: Context,
    subject_type: str | None,
    subject_id: str | None,
    since: str | None,
    format_: str,
    output: Path | None,
) -> None:
    """Export the audit trail: every decision, who made it, when, on what."""
    from klopt.accounts.trail import trail

    entries = trail(
        ctx.store,
        ctx.org,
        actor=ctx.actor,
        subject_type=subject_type,
        subject_id=subject_id,
        since=_since(since),
    )
    if output is None:
        _print_trail(ctx, entries, format_, ctx.t("audit.title"))
        return
    try:
        with output.open("w", encoding="utf-8", newline="") as stream:
            _write_trail(entries, "json" if format_ == "json" else "csv", stream)
    except OSError as exc:
        raise InputError.keyed("file.unwritable", path=output, detail=exc) from exc
    console().print(ctx.t("audit.written", count=len(entries), path=output))


def _print_trail(ctx: Context, entries: Sequence[Any], format_: str, title: str) -> None:
    if format_ != "text":
        _write_trail(entries, format_, sys.stdout)
        return
    if not entries:
        console().print(ctx.t("audit.none"))
        return
    table(
        title,
        [
            ctx.t("col.time"),
            ctx.t("col.actor"),
            ctx.t("col.action"),
            ctx.t("col.subject"),
            ctx.t("col.details"),
        ],
        [
            (
                when(e.at, offset=True),
                e.actor,
                e.action,
                f"{e.subject_type} {e.subject_id}",
                _details(e.details),
            )
            for e in entries
        ],
    )


def _details(details: dict[str, Any]) -> str:
    parts = []
    for name, value in details.items():
        if value in (None, "", [], {}) or value is False:
            continue
        if isinstance(value, list) and len(value) == 2:
            value = f"{value[0]} → {value[1]}"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


def _write_trail(entries: Sequence[Any], format_: str, stream: Any) -> None:
    # Shared with the web app's export; CSV cells that a spreadsheet would run as a
    # formula get a leading apostrophe (see klopt.accounts.trail_export).
    from klopt.accounts.trail_export import write_trail

    write_trail(entries, format_, stream)
