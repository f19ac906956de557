"""`klopt init`, `klopt orgs`, `klopt docs ...`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console, table, when


@cli.command()
@click.argument("name")
@click.option(
    "--language",
    type=click.Choice(["nl", "en"]),
    default="nl",
    show_default=True,
)
@pass_ctx
def init(ctx: Context, name: str, language: str) -> None:
    """Create an organisation (a workspace) in the store."""
    from klopt.accounts.organizations import create_organization

    org = create_organization(ctx.store, name, language=language, actor=ctx.actor)
    console().print(ctx.t("org.created", name=org.name, slug=org.slug, db=ctx.store.url))


@cli.command()
@pass_ctx
def orgs(ctx: Context) -> None:
    """List the organisations in the store."""
    from klopt.accounts.organizations import list_organizations

    rows = [
        (o.slug, o.name, o.language, o.promises, o.posts) for o in list_organizations(ctx.store)
    ]
    table(
        ctx.t("orgs.title"),
        [
            ctx.t("col.slug"),
            ctx.t("col.name"),
            ctx.t("col.language"),
            ctx.t("col.promises"),
            ctx.t("col.posts"),
        ],
        rows,
    )


@cli.group()
def docs() -> None:
    """Source documents: mission, vision, brochure, portfolio."""


@docs.command("add")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@pass_ctx
def docs_add(ctx: Context, paths: tuple[Path, ...]) -> None:
    """Read documents and store them; a changed document gets a new version and a diff."""
    from klopt.cli.output import progress_bar
    from klopt.register.promises import add_documents

    with progress_bar(ctx.t("docs.reading")) as (set_total, advance):
        totals: dict[str, int] = {}
        seen: dict[str, int] = {}

        def progress(name: str) -> Callable[[int, int], None]:
            def report(done: int, total: int) -> None:
                totals[name] = total
                set_total(sum(totals.values()))
                advance(done - seen.get(name, 0))
                seen[name] = done

            return report

        added = add_documents(ctx.store, ctx.org, list(paths), actor=ctx.actor, progress=progress)
    for item in added:
        key = "docs.added" if item.changed else "docs.unchanged"
        console().print(
            ctx.t(
                key,
                name=item.name,
                version=item.version,
                sentences=item.sentences,
                language=item.language,
            )
        )
        for note in item.notes:
            console().print(ctx.t("docs.note", note=note.text(ctx.lang)))
        if item.diff is not None:
            _print_diff(ctx, item.diff)


def _print_diff(ctx: Context, diff: Any, *, unchanged: bool = False) -> None:
    out = console()
    out.print(
        ctx.t(
            "docs.diff",
            name=diff.document,
            old=diff.old_version,
            new=diff.new_version,
            **{c: diff.count(c) for c in ("unchanged", "changed", "went", "came")},
        )
    )
    for change in diff.changes:
        if change.change != "unchanged" or unchanged:
            out.print(
                ctx.t(
                    f"docs.diff.{change.change}",
                    id=change.key,
                    before=change.before,
                    after=change.after,
                )
            )


@docs.command("diff")
@click.argument("name")
@click.argument("version", type=click.IntRange(min=1), required=False)
@pass_ctx
def docs_diff(ctx: Context, name: str, version: int | None) -> None:
    """Show which promises came, went or changed when VERSION (default: newest) was added."""
    from klopt.register.promises import version_diff

    _print_diff(ctx, version_diff(ctx.store, ctx.org, name, version), unchanged=True)


@docs.command("list")
@pass_ctx
def docs_list(ctx: Context) -> None:
    """List the documents and their versions."""
    from klopt.register.promises import list_documents

    rows = [
        (d.name, d.version, d.kind, d.language, when(d.added_at))
        for d in list_documents(ctx.store, ctx.org)
    ]
    table(
        ctx.t("docs.title"),
        [
            ctx.t("col.document"),
            ctx.t("col.version"),
            ctx.t("col.kind"),
            ctx.t("col.language"),
            ctx.t("col.added"),
        ],
        rows,
    )
