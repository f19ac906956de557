"""`klopt promises ...`: the register, interactively (`review`) and for scripts."""

from __future__ import annotations

import dataclasses
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import click

from klopt.cli.app import Context, cli, error_line, pass_ctx
from klopt.cli.output import console, print_json, table
from klopt.errors import KloptError

_STATUSES = ["proposed", "approved", "rejected", "retired", "merged"]


@cli.group()
def promises() -> None:
    """The promise register: extract, review, approve, edit, merge, import, export."""


@promises.command("extract")
@pass_ctx
def promises_extract(ctx: Context) -> None:
    """Propose promises from the stored documents (nothing is proposed twice)."""
    from klopt.cli.output import progress_bar
    from klopt.register.promises import extract_promises

    with progress_bar(ctx.t("promises.extracting")) as (set_total, advance):
        seen = [0]

        def progress(done: int, total: int) -> None:
            set_total(total)
            advance(done - seen[0])
            seen[0] = done

        proposed = extract_promises(ctx.store, ctx.org, actor=ctx.actor, progress=progress)
    console().print(ctx.t("promises.proposed", count=len(proposed)))
    _print_list(ctx, proposed)


@promises.command("list")
@click.option("--status", type=click.Choice(_STATUSES))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def promises_list(ctx: Context, status: str | None, as_json: bool) -> None:
    """List the register with where each promise came from."""
    from klopt.register.promises import list_promises

    views = list_promises(ctx.store, ctx.org, status=status)
    if as_json:
        print_json([dataclasses.asdict(v) for v in views])
        return
    _print_list(ctx, views)


def _print_list(ctx: Context, views: list[Any]) -> None:
    rows = [
        (
            v.key,
            _value(ctx, v.status),
            _value(ctx, v.kind),
            _theme(ctx, v.theme),
            v.statement,
            _where(v),
            "; ".join(_reason(ctx, r) for r in v.reasons[:3]),
        )
        for v in views
    ]
    table(
        ctx.t("promises.title"),
        [
            "id",
            ctx.t("col.status"),
            ctx.t("col.kind"),
            ctx.t("col.theme"),
            ctx.t("col.statement"),
            ctx.t("col.source"),
            ctx.t("col.why"),
        ],
        rows,
    )


def _place(document: str | None, version: int | None, section: str | None, page: int | None) -> str:
    if not document:
        return ""
    where = f"{document} v{version}" if version is not None else document
    if page:
        where += f" p.{page}"
    elif section:
        where += f" § {section}"
    return where


def _where(v: Any) -> str:
    """The first source, plus how many more there are."""
    where = _place(v.document, v.version, v.section, v.page)
    return f"{where} (+{len(v.sources) - 1})" if len(v.sources) > 1 else where


def _show(ctx: Context, v: Any) -> None:
    """A promise in full: statement next to its original sentence, and every source."""
    from rich.text import Text

    out = console()
    out.print(Text.assemble((v.key, "bold"), f"  {v.statement}"))
    for label, value in (
        ("col.original", v.original_sentence if v.edited else ""),
        ("col.status", _value(ctx, v.status)),
        ("col.merged_into", v.merged_into),
        ("col.flag", ctx.t(f"flag.{v.flag}") if v.flag else ""),
        ("col.kind", _value(ctx, v.kind)),
        ("col.theme", _theme(ctx, v.theme)),
        ("col.score", f"{v.score:.2f}" if v.score is not None else ""),
        ("col.paraphrases", " | ".join(v.paraphrases)),
        ("col.why", "; ".join(_reason(ctx, r) for r in v.reasons)),
    ):
        if value:
            out.print(f"  {ctx.t(label)}: {value}")
    if v.sources:
        out.print(f"  {ctx.t('col.sources')}:")
    for s in v.sources:
        notes = [f"[{s.language}]"] if s.language else []
        if s.state != "current":
            notes.append(f"({ctx.t('source.state.' + s.state)})")
        if s.merged_from:
            notes.append(f"({ctx.t('source.merged_from', id=s.merged_from)})")
        place = _place(s.document, s.version, s.section, s.page)
        out.print(f"    - {place} {' '.join(notes)}: «{s.sentence}»")


@promises.command("show")
@click.argument("key")
@pass_ctx
def promises_show(ctx: Context, key: str) -> None:
    """Show one promise in full, with all its sources."""
    from klopt.register.promises import get_promise

    _show(ctx, get_promise(ctx.store, ctx.org, key))


def _status_command(name: str, status: str) -> None:
    @promises.command(name)
    @click.argument("keys", nargs=-1, required=True)
    @pass_ctx
    def command(ctx: Context, keys: tuple[str, ...]) -> None:
        from klopt.register.promises import set_status

        changed = set_status(ctx.store, ctx.org, list(keys), status, actor=ctx.actor)
        console().print(ctx.t("promises.status", count=len(changed), status=_value(ctx, status)))

    command.__doc__ = f"Mark promises as {status} (recorded in the audit trail)."


_status_command("approve", "approved")
_status_command("reject", "rejected")
_status_command("retire", "retired")


@promises.command("edit")
@click.argument("key")
@click.argument("statement", required=False)
@click.option("--theme")
@click.option("--kind", type=click.Choice(["measurable", "aspirational"]))
@pass_ctx
def promises_edit(
    ctx: Context, key: str, statement: str | None, theme: str | None, kind: str | None
) -> None:
    """Reword a promise or change its theme or kind; the original sentence is kept."""
    from klopt.register.promises import edit_promise

    v = edit_promise(
        ctx.store, ctx.org, key, actor=ctx.actor, statement=statement, theme=theme, kind=kind
    )
    console().print(ctx.t("promises.edited", id=v.key, statement=v.statement))


@promises.command("merge")
@click.argument("key")
@click.argument("others", nargs=-1, required=True)
@pass_ctx
def promises_merge(ctx: Context, key: str, others: tuple[str, ...]) -> None:
    """Merge OTHERS into KEY: KEY keeps all sources and wordings, the others become merged."""
    from klopt.register.promises import merge_promises

    v = merge_promises(ctx.store, ctx.org, key, list(others), actor=ctx.actor)
    console().print(
        ctx.t("promises.merged", others=", ".join(others), id=v.key, sources=len(v.sources))
    )


@promises.command("review")
@pass_ctx
def promises_review(ctx: Context) -> None:
    """Walk through the proposals, best-scored first, and decide on each."""
    from klopt.register.promises import review_queue

    queue = review_queue(ctx.store, ctx.org)
    if not queue:
        console().print(ctx.t("promises.no_proposals"))
        return
    tally: Counter[str] = Counter()
    for number, v in enumerate(queue, 1):
        console().print(f"\n{ctx.t('review.progress', number=number, total=len(queue))}")
        if not _review_one(ctx, v, tally):
            break
    console().print(
        ctx.t(
            "review.done",
            **{k: tally[k] for k in ("approved", "rejected", "edited", "merged", "skipped")},
        )
    )


def _review_one(ctx: Context, v: Any, tally: Counter[str]) -> bool:
    """Ask about one proposal until it is decided or skipped; False means quit."""
    from klopt.register.promises import edit_promise, merge_promises, set_status

    while True:
        _show(ctx, v)
        choice = click.prompt(
            ctx.t("review.ask"), type=click.Choice(list("aemrsq")), show_choices=False
        )
        try:
            if choice == "q":
                return False
            if choice == "s":
                tally["skipped"] += 1
            elif choice in "ar":
                status = "approved" if choice == "a" else "rejected"
                set_status(ctx.store, ctx.org, [v.key], status, actor=ctx.actor)
                tally[status] += 1
            elif choice == "m":
                into = click.prompt(ctx.t("review.into")).strip()
                merge_promises(ctx.store, ctx.org, into, [v.key], actor=ctx.actor)
                tally["merged"] += 1
            else:
                statement = click.prompt(ctx.t("review.statement"), default=v.statement)
                v = edit_promise(ctx.store, ctx.org, v.key, actor=ctx.actor, statement=statement)
                tally["edited"] += 1
                continue
            return True
        except KloptError as exc:
            click.secho(error_line(exc, ctx.lang), fg="red", err=True)


@promises.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def promises_import(ctx: Context, path: Path) -> None:
    """Import a register file (YAML); imported promises are approved unless it says otherwise."""
    from klopt.register.promises import import_register

    new, updated = import_register(ctx.store, ctx.org, path, actor=ctx.actor)
    console().print(ctx.t("promises.imported", new=new, updated=updated))


@promises.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--status", type=click.Choice(_STATUSES))
@pass_ctx
def promises_export(ctx: Context, output: Path | None, status: str | None) -> None:
    """Export the register as YAML (the eval promise format plus provenance)."""
    from klopt.register.promises import export_register

    text = export_register(ctx.store, ctx.org, status=status)
    if output:
        output.write_text(text, encoding="utf-8")
        console(stderr=True).print(ctx.t("written", path=output))
    else:
        click.echo(text, nl=False)


def _value(ctx: Context, value: str) -> str:
    """A status or kind in the user's language (an unknown value as it is)."""
    shown = ctx.t(f"value.{value}")
    return value if shown == f"value.{value}" else shown


def _reason(ctx: Context, reason: str) -> str:
    """A stored reason ("deadline: 'binnen 24 uur'") with its label in the user's language.

    Reasons are stored as klopt made them, with the English labels of the cue file; the
    labels klopt ships are translated here, an organisation's own labels are shown as is.
    """
    label, colon, rest = reason.partition(": ")
    prefix = ""
    if label.startswith("lead-in "):
        prefix, label = f"{_label(ctx, 'lead-in')} ", label.removeprefix("lead-in ")
    return f"{prefix}{_label(ctx, label)}{colon}{rest}" if colon else reason


def _label(ctx: Context, label: str) -> str:
    key = f"reason.{label}"
    shown = ctx.t(key)
    return label if shown == key else shown


def _theme(ctx: Context, theme: str | None) -> str:
    """A theme's label in the user's language ("Levering"), or its id if it is not known."""
    if not theme:
        return ""
    library = _library()
    if theme not in library:
        return theme
    label = library[theme].label
    return label.get(ctx.lang) or label.get("en") or theme


@cache
def _library() -> Any:
    from klopt.models.aspects import AspectLibrary

    return AspectLibrary.bundled()
