"""`klopt tokens create|list|revoke`: API tokens, for scripts (``KLOPT_TOKEN``) and the web
API (``Authorization: Bearer ...``).

The same library calls as `klopt users token ...` (which stays), with ``--user NAME`` to
name whose tokens: the command acts as NAME, who proves it as for every command (the
password with ``--password-stdin`` or asked for, or a token of NAME in ``KLOPT_TOKEN``).
Everyone makes and revokes only their own tokens.
"""

from __future__ import annotations

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console, table, when

_user = click.option("--user", "user", metavar="NAME")


def _act_as(ctx: Context, user: str | None) -> str:
    """Who acts: ``--user`` of the command, else as for every command; proven."""
    if user:
        ctx.user = user
    return ctx.actor


@cli.group()
def tokens() -> None:
    """API tokens: for scripts (KLOPT_TOKEN) and the web API (bearer tokens)."""


@tokens.command("create")
@_user
@click.option("--name", "label", default="", metavar="LABEL")
@pass_ctx
def tokens_create(ctx: Context, user: str | None, label: str) -> None:
    """Make a token for the user; it is printed once, alone on the last line."""
    from klopt.accounts.users import create_token

    actor = _act_as(ctx, user)
    token = create_token(ctx.store, actor, label=label, actor=actor)
    console(stderr=True).print(ctx.t("users.token_created", name=actor))
    click.echo(token)


@tokens.command("list")
@_user
@pass_ctx
def tokens_list(ctx: Context, user: str | None) -> None:
    """List the user's tokens (never the tokens themselves)."""

    show_tokens(ctx, _act_as(ctx, user))


def show_tokens(ctx: Context, actor: str) -> None:
    """Print the tokens of ``actor`` (``klopt tokens list`` and ``klopt users token list``)."""
    from klopt.accounts.users import list_tokens

    rows = list_tokens(ctx.store, actor)
    if not rows:
        console().print(ctx.t("tokens.none", name=actor))
        return
    table(
        ctx.t("users.tokens_title", name=actor),
        ["id", ctx.t("col.label"), ctx.t("col.created"), ctx.t("col.last_used"),
         ctx.t("col.revoked")],
        [
            (t.id, t.name, when(t.created_at), when(t.last_used_at), when(t.revoked_at))
            for t in rows
        ],
    )  # fmt: skip


@tokens.command("revoke")
@click.argument("token_id", type=int, metavar="ID")
@_user
@pass_ctx
def tokens_revoke(ctx: Context, token_id: int, user: str | None) -> None:
    """Stop one of the user's tokens from working."""
    from klopt.accounts.users import revoke_token

    revoke_token(ctx.store, token_id, actor=_act_as(ctx, user))
    console().print(ctx.t("users.token_revoked", id=token_id))
