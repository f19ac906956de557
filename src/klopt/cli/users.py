"""`klopt users ...`: the people who work in klopt and their roles per organisation."""

from __future__ import annotations

import sys

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console, table


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
    from klopt.accounts.users import add_user

    password = None
    if password_stdin:
        password = sys.stdin.read().rstrip("\r\n")
    user = add_user(ctx.store, name, password=password, display_name=display_name, actor=ctx.actor)
    key = "users.added.password" if user.has_password else "users.added"
    console().print(ctx.t(key, name=user.name))


@users.command("grant")
@click.argument("name")
@click.argument("role")
@pass_ctx
def users_grant(ctx: Context, name: str, role: str) -> None:
    """Give a user a role in the organisation: editor, approver, admin or viewer."""
    from klopt.accounts.users import grant

    member = grant(ctx.store, ctx.org, name, role, actor=ctx.actor)
    console().print(ctx.t("users.granted", name=member.name, role=member.role))


@users.command("revoke")
@click.argument("name")
@pass_ctx
def users_revoke(ctx: Context, name: str) -> None:
    """Take away a user's role in the organisation."""
    from klopt.accounts.users import revoke

    revoke(ctx.store, ctx.org, name, actor=ctx.actor)
    console().print(ctx.t("users.revoked", name=name))


@users.command("list")
@pass_ctx
def users_list(ctx: Context) -> None:
    """List the organisation's members and their roles."""
    from klopt.accounts.users import list_members

    members = list_members(ctx.store, ctx.org)
    if not members:
        console().print(ctx.t("users.none"))
        return
    table(
        ctx.t("users.title"),
        [ctx.t("col.name"), ctx.t("col.display_name"), ctx.t("col.role")],
        [(m.name, m.display_name, m.role) for m in members],
    )


@users.command("password")
@click.option("--password-stdin", "new_from_stdin", is_flag=True)
@pass_ctx
def users_password(ctx: Context, new_from_stdin: bool) -> None:
    """Set the password of the user who acts (proven with the old one, if there was one)."""
    from klopt.accounts.users import set_password

    actor = ctx.actor
    if new_from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(
            ctx.t("users.new_password_prompt", name=actor),
            hide_input=True,
            confirmation_prompt=True,
            err=True,
        )
    set_password(ctx.store, actor, password, actor=actor)
    console().print(ctx.t("users.password_set", name=actor))


@users.group("token")
def users_token() -> None:
    """API tokens of the user who acts: for scripts (KLOPT_TOKEN) and the web API."""


@users_token.command("create")
@click.option("--label", default="")
@pass_ctx
def token_create(ctx: Context, label: str) -> None:
    """Make a token for yourself; it is shown once."""
    from klopt.accounts.users import create_token

    actor = ctx.actor
    token = create_token(ctx.store, actor, label=label, actor=actor)
    console(stderr=True).print(ctx.t("users.token_created", name=actor))
    click.echo(token)


@users_token.command("list")
@pass_ctx
def token_list(ctx: Context) -> None:
    """List your tokens (never the tokens themselves)."""
    from klopt.cli.tokens import show_tokens

    show_tokens(ctx, ctx.actor)


@users_token.command("revoke")
@click.argument("token_id", type=int)
@pass_ctx
def token_revoke(ctx: Context, token_id: int) -> None:
    """Stop one of your tokens from working."""
    from klopt.accounts.users import revoke_token

    revoke_token(ctx.store, token_id, actor=ctx.actor)
    console().print(ctx.t("users.token_revoked", id=token_id))
