"""`klopt promises ...`: the register, non-interactively."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from klopt.cli import Context, cli, pass_ctx
from klopt.commands.output import console, print_json, table


@cli.group()
def promises() -> None:
    """The promise register: extract, review, approve, import, export."""


@promises.command("extract")
@pass_ctx
def promises_extract(ctx: Context) -> None:
    """Propose promises from the stored documents (nothing is proposed twice)."""
    from klopt.promises import extract_promises

    proposed = extract_promises(ctx.store, ctx.org, actor=ctx.actor)
    console().print(ctx.t("promises.proposed", count=len(proposed)))
    _print_list(ctx, proposed)


@promises.command("list")
@click.option("--status", type=click.Choice(["proposed", "approved", "rejected", "retired"]))
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@pass_ctx
def promises_list(ctx: Context, status: str | None, as_json: bool) -> None:
    """List the register with where each promise came from."""
    from klopt.promises import list_promises

    views = list_promises(ctx.store, ctx.org, status=status)
    if as_json:
        print_json([dataclasses.asdict(v) for v in views])
        return
    _print_list(ctx, views)


def _print_list(ctx: Context, views: list) -> None:  # type: ignore[type-arg]
    rows = [
        (v.key, v.status, v.kind, v.theme or "", v.statement, _source(v), "; ".join(v.reasons[:3]))
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


def _source(v: object) -> str:
    document = getattr(v, "document", None)
    if not document:
        return ""
    where = f"{document} v{getattr(v, 'version', '')}"
    if getattr(v, "page", None):
        where += f" p.{v.page}"  # type: ignore[attr-defined]
    elif getattr(v, "section", None):
        where += f" § {v.section}"  # type: ignore[attr-defined]
    return where


@promises.command("show")
@click.argument("key")
@pass_ctx
def promises_show(ctx: Context, key: str) -> None:
    """Show one promise in full."""
    from klopt.promises import get_promise

    v = get_promise(ctx.store, ctx.org, key)
    out = console()
    out.print(f"[bold]{v.key}[/bold]  {v.statement}")
    for label, value in (
        ("col.status", v.status),
        ("col.kind", v.kind),
        ("col.theme", v.theme),
        ("col.source", _source(v)),
        ("col.original", v.original_sentence),
        ("col.paraphrases", " | ".join(v.paraphrases)),
        ("col.why", "; ".join(v.reasons)),
    ):
        if value:
            out.print(f"  {ctx.t(label)}: {value}")


def _status_command(name: str, status: str) -> None:
    @promises.command(name)
    @click.argument("keys", nargs=-1, required=True)
    @pass_ctx
    def command(ctx: Context, keys: tuple[str, ...]) -> None:
        from klopt.promises import set_status

        changed = set_status(ctx.store, ctx.org, list(keys), status, actor=ctx.actor)
        console().print(ctx.t("promises.status", count=len(changed), status=status))

    command.__doc__ = f"Mark promises as {status} (recorded in the audit trail)."


_status_command("approve", "approved")
_status_command("reject", "rejected")
_status_command("retire", "retired")


@promises.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def promises_import(ctx: Context, path: Path) -> None:
    """Import a register file (YAML); imported promises are approved unless it says otherwise."""
    from klopt.promises import import_register

    new, updated = import_register(ctx.store, ctx.org, path, actor=ctx.actor)
    console().print(ctx.t("promises.imported", new=new, updated=updated))


@promises.command("export")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write to this file instead of standard output.",
)
@click.option("--status", type=click.Choice(["proposed", "approved", "rejected", "retired"]))
@pass_ctx
def promises_export(ctx: Context, output: Path | None, status: str | None) -> None:
    """Export the register as YAML (the eval promise format plus provenance)."""
    from klopt.promises import export_register

    text = export_register(ctx.store, ctx.org, status=status)
    if output:
        output.write_text(text, encoding="utf-8")
        console(stderr=True).print(ctx.t("written", path=output))
    else:
        click.echo(text, nl=False)
