"""`klopt sources add|list|remove|sync` and `klopt sync [--watch]`: where klopt listens.

`klopt sources add KIND NAME ...` has one subcommand per source kind, made from the
kind's settings (:class:`klopt.listening.source.Setting`), so a plug-in kind gets its
command too. Secrets are never options: a source names the environment variable that
holds its token.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from klopt.cli.app import Context, KloptCommand, cli, pass_ctx
from klopt.cli.output import console, print_json, progress_bar, table, when

if TYPE_CHECKING:
    from klopt.listening.sync import SourceInfo, SyncResult


@cli.group()
def sources() -> None:
    """Where klopt listens: feeds, Mastodon, Bluesky, Reddit; each synced on its own."""


@sources.group("add")
def sources_add() -> None:
    """Add a source of one kind."""


def _add_command(kind: str, cls: Any) -> click.Command:
    """``klopt sources add KIND NAME ...`` for one kind, from its settings."""

    @pass_ctx
    def command(ctx: Context, /, name: str, own: bool, interval: int | None, **values: Any) -> None:
        from klopt.listening.sync import add_source

        options = {key: value for key, value in values.items() if value not in (None, ())}
        info = add_source(
            ctx.store, ctx.org, name, kind, options, actor=ctx.actor, own=own, interval=interval
        )
        console().print(
            ctx.t("sources.added", name=info.name, kind=info.kind, minutes=info.interval // 60)
        )

    command.__doc__ = f"Add a {kind} source."
    params: list[click.Parameter] = [click.Argument(["name"])]
    for setting in cls.settings:
        if setting.argument:
            params.append(click.Argument([setting.name], required=setting.required))
        else:
            params.append(
                click.Option(
                    ["--" + setting.name.replace("_", "-"), setting.name],
                    multiple=setting.multiple,
                    required=setting.required,
                    metavar="VAR" if setting.secret_env else "TEXT",
                )
            )
    params += [
        click.Option(["--own"], is_flag=True),
        click.Option(["--interval"], type=click.IntRange(min=60), metavar="SECONDS"),
    ]
    return KloptCommand(kind, callback=command, params=params)


def _register_kinds() -> None:
    from klopt.listening.source import source_kinds

    for kind, cls in source_kinds().items():
        sources_add.add_command(_add_command(kind, cls))


_register_kinds()


@sources.command("list")
@click.option("--removed", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def sources_list(ctx: Context, removed: bool, as_json: bool) -> None:
    """List the sources with their status: last success, last error, items."""
    from klopt.listening.sync import list_sources

    found = list_sources(ctx.store, ctx.org, removed=removed)
    if as_json:
        print_json([_source_json(ctx, s) for s in found])
        return
    if not found:
        console().print(ctx.t("sources.none"))
        return
    table(
        ctx.t("sources.title"),
        [
            ctx.t("col.name"),
            ctx.t("col.kind"),
            ctx.t("col.settings"),
            ctx.t("col.status"),
            ctx.t("col.last_success"),
            ctx.t("col.items"),
            ctx.t("col.next_run"),
        ],
        [
            (
                s.name + (" " + ctx.t("sources.own") if s.own else ""),
                s.kind,
                _settings(s.config),
                _status(ctx, s),
                when(s.last_success_at),
                s.items_total,
                when(s.next_run_at),
            )
            for s in found
        ],
    )


def _status(ctx: Context, info: SourceInfo) -> str:
    text = ctx.t(f"sources.status.{info.status}")
    if info.removed:
        text = ctx.t("sources.status.removed")
    if info.last_error is not None and info.status != "ok":
        text += f"\n{when(info.last_error_at)}: {info.last_error.localized(ctx.lang)}"
    return text


def _settings(config: dict[str, Any] | Any) -> str:
    parts = []
    for key, value in dict(config).items():
        shown = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
        parts.append(f"{key}: {shown}")
    return "\n".join(parts)


def _source_json(ctx: Context, s: SourceInfo) -> dict[str, Any]:
    def iso(stamp: datetime | None) -> str | None:
        return stamp.isoformat() if stamp else None

    return {
        "name": s.name,
        "kind": s.kind,
        "own": s.own,
        "settings": dict(s.config),
        "interval": s.interval,
        "status": "removed" if s.removed else s.status,
        "last_run_at": iso(s.last_run_at),
        "last_success_at": iso(s.last_success_at),
        "last_error_at": iso(s.last_error_at),
        "last_error": s.last_error.localized(ctx.lang) if s.last_error else None,
        "last_error_key": s.last_error.key if s.last_error else None,
        "next_run_at": iso(s.next_run_at),
        "items_total": s.items_total,
        "last_run_items": s.last_run_items,
    }


@sources.command("remove")
@click.argument("name")
@pass_ctx
def sources_remove(ctx: Context, name: str) -> None:
    """Stop listening to a source; its mentions stay."""
    from klopt.listening.sync import remove_source

    remove_source(ctx.store, ctx.org, name, actor=ctx.actor)
    console().print(ctx.t("sources.removed", name=name))


_since = click.option("--since", metavar="DATE")
_no_judge = click.option("--no-judge", is_flag=True)


@sources.command("sync")
@click.argument("name", required=False)
@_since
@_no_judge
@pass_ctx
def sources_sync(ctx: Context, name: str | None, since: str | None, no_judge: bool) -> None:
    """Bring in what is new: one source, or all of them."""
    _sync(ctx, name, since, no_judge)


@cli.command("sync")
@click.option("--watch", is_flag=True)
@_since
@_no_judge
@pass_ctx
def sync_command(ctx: Context, watch: bool, since: str | None, no_judge: bool) -> None:
    """Sync every source once, or with --watch on their schedules until stopped."""
    if not watch:
        _sync(ctx, None, since, no_judge)
        return
    from klopt.cli.stopping import stop_on_signals
    from klopt.cli.worker import print_run
    from klopt.jobs import Worker
    from klopt.jobs.schedule import JOB_KINDS
    from klopt.listening.sync import watch as watch_sources

    # What is approved goes out while watching too (as `klopt worker` does it: leased, so
    # a worker running beside it never sends the same draft twice).
    outbox = Worker(
        ctx.store, actor=ctx.actor, only=ctx.org, on_run=lambda j, r: print_run(ctx, j, r),
        kinds=[kind for kind in JOB_KINDS if kind.name in ("publish", "reach")],
    )  # fmt: skip
    console().print(ctx.t("sync.watching"))
    try:
        with stop_on_signals():
            watch_sources(
                ctx.store,
                ctx.org,
                actor=ctx.actor,
                stop=lambda: False,
                on_results=lambda results: _after_sync(ctx, results, no_judge),
                each_tick=outbox.run_once,
            )
    except KeyboardInterrupt:  # Ctrl+C or SIGTERM
        from klopt.jobs.leases import release_all

        release_all(ctx.store, outbox.name)
        console().print(ctx.t("sync.stopped"))


def _sync(ctx: Context, name: str | None, since: str | None, no_judge: bool) -> None:
    from klopt.insight.periods import parse_time
    from klopt.listening.sync import sync_source, sync_sources

    start = parse_time(since) if since else None
    with progress_bar(ctx.t("sync.syncing")) as (_, advance):
        if name is not None:
            results = [
                sync_source(
                    ctx.store, ctx.org, name, actor=ctx.actor, since=start, progress=advance
                )
            ]
        else:
            results = sync_sources(
                ctx.store, ctx.org, actor=ctx.actor, since=start, progress=advance
            )
    if not results:
        console().print(ctx.t("sources.none"))
        return
    _after_sync(ctx, results, no_judge)
    if any(r.status == "error" for r in results):
        click.get_current_context().exit(1)


def _after_sync(ctx: Context, results: Sequence[SyncResult], no_judge: bool) -> None:
    out = console()
    for result in results:
        out.print(
            ctx.t(
                f"sync.result.{result.status}",
                name=result.source,
                new=result.imported,
                duplicates=result.duplicates,
                skipped=result.skipped,
            )
        )
        for problem in result.problems[:5]:
            out.print(ctx.t("sync.problem", line=problem.line, reason=problem.text(ctx.lang)))
        if len(result.problems) > 5:
            out.print(ctx.t("mentions.more_problems", count=len(result.problems) - 5))
        if result.error is not None:
            out.print("  " + result.error.localized(ctx.lang))
    if no_judge or not any(r.imported for r in results):
        return
    _judge_new(ctx)


def _judge_new(ctx: Context) -> None:
    from klopt.config import get_setting
    from klopt.errors import Busy, NotFound
    from klopt.judging.verdicts import judge_posts

    try:
        with progress_bar(ctx.t("judge.judging")) as (set_total, advance):
            result = judge_posts(
                ctx.store,
                ctx.org,
                embedder=get_setting("embedder"),
                profile=get_setting("profile"),
                actor=ctx.actor,
                on_start=set_total,
                progress=advance,
            )
    except NotFound as exc:
        if exc.key != "judge.no_approved_promise":
            raise
        console().print(ctx.t("sync.not_judged"))
        return
    except Busy:
        console().print(ctx.t("sync.judge_busy"))
        return
    console().print(ctx.t("sync.judged", judged=result.judged, verdicts=result.verdicts))
