"""`klopt worker [--once]`: the background schedule alone, in the foreground."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console
from klopt.cli.stopping import stop_on_signals

if TYPE_CHECKING:
    from klopt.jobs import Job, RunInfo


@cli.command("worker")
@click.option("--once", is_flag=True)
@pass_ctx
def worker(ctx: Context, once: bool) -> None:
    """Run the schedule (sync sources, judge new posts, check alerts) until stopped."""
    from klopt.jobs import Worker

    runner = Worker(
        ctx.store, actor=ctx.actor, only=ctx.org, on_run=lambda j, r: print_run(ctx, j, r)
    )
    out = console()
    out.print(ctx.t("worker.started", name=runner.name, actor=runner.actor, db=ctx.store.url))
    try:
        with stop_on_signals():
            if once:
                runs = runner.run_once()
            else:
                runner.run_forever()
                return
    except KeyboardInterrupt:  # Ctrl+C or SIGTERM
        from klopt.jobs.leases import release_all

        release_all(ctx.store, runner.name)
        out.print(ctx.t("worker.stopped"))
        return
    if not runs:
        out.print(ctx.t("worker.nothing_due"))
    if any(info.status == "failed" for _, info in runs):
        click.get_current_context().exit(1)


def print_run(ctx: Context, job: Job, info: RunInfo) -> None:
    """One line per job run: which, for whom, how it went, what it did."""
    seconds = info.duration.total_seconds() if info.duration else 0.0
    line = ctx.t(
        "worker.run",
        org=job.organization,
        job=_job_name(ctx, job.kind),
        subject=f" {job.subject}" if job.subject else "",
        status=ctx.t(f"jobs.status.{info.status}"),
        seconds=f"{seconds:.1f}",
    )
    did = info.summary(ctx.lang)
    out = console()
    out.print(f"{line}: {did}" if did else line)
    if info.error is not None:
        out.print("  " + info.error.localized(ctx.lang))


def _job_name(ctx: Context, kind: str) -> str:
    from klopt.i18n import messages

    key = f"jobs.job.{kind}"
    return ctx.t(key) if key in messages("en") else kind
