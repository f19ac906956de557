"""`klopt accounts add|list`, `klopt publish [--status]`: where approved drafts go out;
`klopt reply MENTION TEXT` and `klopt reply-policy`: answers to mentions.

Secrets are never options: an account names the environment variables that hold its
token (Mastodon) or its handle and app password (Bluesky).
"""

from __future__ import annotations

from pathlib import Path

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.drafts import _checker, _file, _no_check, _rules, _show_check
from klopt.cli.output import console, table, when


@cli.group()
def accounts() -> None:
    """The organisation's own accounts that klopt publishes to."""


@accounts.command("add")
@click.argument("name")
@click.option("--platform", type=click.Choice(["mastodon", "bluesky"]), required=True)
@click.option("--instance", metavar="URL")
@click.option("--token-env", metavar="VAR")
@click.option("--identifier-env", metavar="VAR")
@click.option("--password-env", metavar="VAR")
@click.option("--service", metavar="URL")
@pass_ctx
def accounts_add(
    ctx: Context,
    /,
    name: str,
    platform: str,
    instance: str | None,
    token_env: str | None,
    identifier_env: str | None,
    password_env: str | None,
    service: str | None,
) -> None:
    """Add a publishing account."""
    from klopt.editorial.outbox import add_account

    values = {
        "instance": instance,
        "token_env": token_env,
        "identifier_env": identifier_env,
        "password_env": password_env,
        "service": service,
    }
    settings = {key: value for key, value in values.items() if value}
    info = add_account(ctx.store, ctx.org, name, platform, actor=ctx.actor, settings=settings)
    console().print(ctx.t("accounts.added", name=info.name, platform=info.platform))


@accounts.command("list")
@pass_ctx
def accounts_list(ctx: Context, /) -> None:
    """List the publishing accounts."""
    from klopt.editorial.outbox import list_accounts

    rows = list_accounts(ctx.store, ctx.org)
    if not rows:
        console().print(ctx.t("accounts.none"))
        return
    table(
        ctx.t("accounts.title"),
        [
            ctx.t("accounts.col.name"),
            ctx.t("accounts.col.platform"),
            ctx.t("accounts.col.settings"),
        ],
        [
            [a.name, a.platform, ", ".join(f"{k}={v}" for k, v in sorted(a.settings.items()))]
            for a in rows
        ],
    )


@cli.command("publish")
@click.option("--status", is_flag=True)
@pass_ctx
def publish(ctx: Context, /, status: bool) -> None:
    """Publish the approved drafts whose time has come, once."""
    from klopt.accounts.organizations import find_organization
    from klopt.editorial.outbox import list_publications, publish_due

    if status:
        rows = list_publications(ctx.store, ctx.org)
        if not rows:
            console().print(ctx.t("publish.none"))
            return
        table(
            ctx.t("publish.title"),
            [
                ctx.t(f"publish.col.{c}")
                for c in ("draft", "account", "state", "next", "url", "error")
            ],
            [
                [
                    f"D{p.draft}v{p.version}",
                    p.account,
                    ctx.t(f"publish.state.{p.state}"),
                    when(p.next_attempt_at),
                    p.url or "",
                    p.problem.localized(ctx.lang) if p.problem else "",
                ]
                for p in rows
            ],  # fmt: skip
        )
        return
    with ctx.store.session() as session:
        org_id = find_organization(session, ctx.org).id
    run = publish_due(ctx.store, organization_id=org_id)
    console().print(ctx.t("publish.done", sent=len(run.sent), failed=len(run.failed)))
    for key, error in run.failed:
        console().print(f"  {key}: {error}")


@cli.command("reply")
@click.argument("mention")
@click.argument("text", required=False)
@_file
@_no_check
@_rules
@pass_ctx
def reply(
    ctx: Context,
    /,
    mention: str,
    text: str | None,
    path: Path | None,
    no_check: bool,
    rule_paths: tuple[Path, ...],
) -> None:
    """Answer a mention: a draft, checked, approved as the organisation chooses."""
    from klopt.cli.check import read_post_text
    from klopt.editorial.replies import create_reply

    body = read_post_text(ctx, text, path, required=True) or ""
    checks = _checker(ctx, rule_paths, not no_check)
    info = create_reply(ctx.store, ctx.org, mention, body, actor=ctx.actor, check=checks)
    state = ctx.t(f"drafts.state.{info.state}")
    console().print(ctx.t("reply.created", draft=info.key, mention=info.reply_to, state=state))
    _show_check(ctx, checks, f"{info.key}v{info.version}")


@cli.command("reply-policy")
@click.argument("policy", required=False, metavar="[always|errors|never]")
@pass_ctx
def reply_policy_command(ctx: Context, /, policy: str | None) -> None:
    """Show or choose whether replies need approval: always, only with errors, never."""
    from klopt.editorial.replies import reply_policy, set_reply_policy

    if policy is None:
        chosen = reply_policy(ctx.store, ctx.org)
    else:
        chosen = set_reply_policy(ctx.store, ctx.org, policy, actor=ctx.actor)
    console().print(ctx.t(f"reply.policy.{chosen}"))
