"""`klopt review-queue`: the mentions a person should check first (the judge's doubt × reach)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console, print_json, table, when

if TYPE_CHECKING:
    from klopt.judging.inbox import InboxMention


@cli.command("review-queue")
@click.option("--limit", default=25, show_default=True, type=click.IntRange(min=1))
@click.option("--promise", "promise_key", metavar="ID")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def review_queue(ctx: Context, limit: int, promise_key: str | None, as_json: bool) -> None:
    """What to check first: mentions by the judge's doubt × their reach, with verdicts."""
    from klopt.judging.inbox import mention_json
    from klopt.judging.inbox import review_queue as queue

    page = queue(ctx.store, ctx.org, limit=limit, promise=promise_key)
    if as_json:
        print_json([mention_json(m) for m in page.mentions])
        return
    out = console()
    if not page.mentions:
        out.print(ctx.t("queue.empty"))
        return
    table(
        ctx.t("queue.title"),
        ["id", ctx.t("col.text"), ctx.t("queue.col.doubt"), ctx.t("queue.col.reach"),
         ctx.t("queue.col.verdicts")],
        [_row(ctx, m) for m in page.mentions],
        justify=["left", "left", "right", "right", "left"],
        shorten=50,
    )  # fmt: skip
    if page.ranked_since is not None:
        out.print(ctx.t("queue.window", count=page.ranked, since=when(page.ranked_since)))
    out.print(ctx.t("queue.footer"))


def _row(ctx: Context, mention: InboxMention) -> tuple[str, str, str, str, str]:
    """One line of the queue: id, text, doubt, reach, the current verdicts."""
    corrected = bool(mention.not_about) or any(v.by_person for v in mention.verdicts)
    if corrected:
        doubt = ctx.t("queue.checked")
    else:
        doubt = "–" if mention.doubt is None else f"{mention.doubt:.2f}"
    verdicts = [
        f"{v.promise} {ctx.t('inbox.stance.' + v.stance)}" + (" *" if v.by_person else "")
        for v in mention.verdicts
    ]
    verdicts += [f"{key} {ctx.t('inbox.stance.none')} *" for key in mention.not_about]
    reach = "" if mention.reach is None else str(mention.reach)
    return mention.post, " ".join(mention.text.split()), doubt, reach, ", ".join(verdicts)
