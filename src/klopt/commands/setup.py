"""`klopt init`, `klopt orgs`, `klopt docs ...`."""

from __future__ import annotations

from pathlib import Path

import click

from klopt.cli import Context, cli, pass_ctx
from klopt.commands.output import console, table


@cli.command()
@click.argument("name")
@click.option(
    "--language",
    type=click.Choice(["nl", "en"]),
    default="nl",
    show_default=True,
    help="Main language of the organisation's communication.",
)
@pass_ctx
def init(ctx: Context, name: str, language: str) -> None:
    """Create an organisation (a workspace) in the store."""
    from klopt.organizations import create_organization

    org = create_organization(ctx.store, name, language=language, actor=ctx.actor)
    console().print(ctx.t("org.created", name=org.name, slug=org.slug, db=ctx.store.url))


@cli.command()
@pass_ctx
def orgs(ctx: Context) -> None:
    """List the organisations in the store."""
    from klopt.organizations import list_organizations

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
    """Read documents and store them; a changed document gets a new version."""
    from klopt.promises import add_documents

    for added in add_documents(ctx.store, ctx.org, list(paths), actor=ctx.actor):
        key = "docs.added" if added.changed else "docs.unchanged"
        console().print(
            ctx.t(
                key,
                name=added.name,
                version=added.version,
                sentences=added.sentences,
                language=added.language,
            )
        )


@docs.command("list")
@pass_ctx
def docs_list(ctx: Context) -> None:
    """List the documents and their versions."""
    from klopt.promises import list_documents

    rows = [
        (d.name, d.version, d.kind, d.language, d.added_at.strftime("%Y-%m-%d %H:%M"))
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
