"""`klopt users ...`: the people who work in klopt and their roles per organisation."""

from __future__ import annotations

import sys

import click

from klopt.cli import Context, cli, pass_ctx
from klopt.commands.output import console, table


@cli.group()
def users() -> None:
    """Users and their roles (editor, approver, admin, viewer) per organisation."""


@users.command("add")
@click.argument("name")
@click.option("--display-name", default="")
@click.option("--password-stdin", is_flag=True)
@pass_ctx
def users_add(ctx: Context, name: str, display_name: str, password_stdin: bool) -> None:
    """Add a user; with --password-stdin, read its password from standard input."""
    from klopt.users import add_user

    password = None
    if password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    user = add_user(ctx.store, name, password=password, display_name=display_name, actor=ctx.actor)
    key = "users.added.password" if user.has_password else "users.added"
    console().print(ctx.t(key, name=user.name), markup=False)


@users.command("grant")
@click.argument("name")
@click.argument("role")
@pass_ctx
def users_grant(ctx: Context, name: str, role: str) -> None:
    """Give a user a role in the organisation: editor, approver, admin or viewer."""
    from klopt.users import grant

    member = grant(ctx.store, ctx.org, name, role, actor=ctx.actor)
    console().print(ctx.t("users.granted", name=member.name, role=member.role), markup=False)


@users.command("revoke")
@click.argument("name")
@pass_ctx
def users_revoke(ctx: Context, name: str) -> None:
    """Take away a user's role in the organisation."""
    from klopt.users import revoke

    revoke(ctx.store, ctx.org, name, actor=ctx.actor)
    console().print(ctx.t("users.revoked", name=name), markup=False)


@users.command("list")
@pass_ctx
def users_list(ctx: Context) -> None:
    """List the organisation's members and their roles."""
    from klopt.users import list_members

    members = list_members(ctx.store, ctx.org)
    if not members:
        console().print(ctx.t("users.none"), markup=False)
        return
    table(
        ctx.t("users.title"),
        [ctx.t("col.name"), ctx.t("col.display_name"), ctx.t("col.role")],
        [(m.name, m.display_name, m.role) for m in members],
    )
