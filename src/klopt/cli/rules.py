"""`klopt rules add|list|remove`: the organisation's own rule packs, stored and used by
every check (:mod:`klopt.checking.packs`)."""

from __future__ import annotations

from pathlib import Path

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console, print_json, table, when


@cli.group()
def rules() -> None:
    """The organisation's own rule packs: add, list, remove."""


@rules.command("add")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def rules_add(ctx: Context, path: Path) -> None:
    """Check a rule pack file and store it; a pack of the same name is replaced."""
    from klopt.checking.packs import add_pack
    from klopt.errors import InputError

    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError.keyed("file.unreadable", path=path, detail=exc) from exc
    info = add_pack(ctx.store, ctx.org, path.name, text, actor=ctx.actor)
    key = "packs.replaced" if info.replaced else "packs.added"
    console().print(ctx.t(key, name=info.name, file=info.file_name, count=len(info.rules)))


@rules.command("list")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def rules_list(ctx: Context, as_json: bool) -> None:
    """List the stored rule packs: name, file, who stored them and when."""
    from klopt.checking.packs import list_packs

    found = list_packs(ctx.store, ctx.org)
    if as_json:
        print_json(
            [
                {
                    "name": p.name,
                    "file": p.file_name,
                    "uploaded_by": p.uploaded_by,
                    "uploaded_at": p.uploaded_at.isoformat(),
                }
                for p in found
            ]
        )
        return
    if not found:
        console().print(ctx.t("packs.none"))
        return
    table(
        ctx.t("packs.title"),
        [ctx.t("col.name"), ctx.t("col.file"), ctx.t("col.actor"), ctx.t("col.added")],
        [(p.name, p.file_name, p.uploaded_by, when(p.uploaded_at)) for p in found],
    )


@rules.command("remove")
@click.argument("name")
@pass_ctx
def rules_remove(ctx: Context, name: str) -> None:
    """Stop checking drafts against a stored rule pack."""
    from klopt.checking.packs import remove_pack

    remove_pack(ctx.store, ctx.org, name, actor=ctx.actor)
    console().print(ctx.t("packs.removed", name=name))
