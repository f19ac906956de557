"""`klopt report`: the management report of a period, as HTML or PDF."""

from __future__ import annotations

from pathlib import Path

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console


@cli.command()
@click.option("--period", required=True, metavar="PERIOD")
@click.option(
    "--format", "format_", type=click.Choice(["html", "pdf"]), default="pdf", show_default=True
)
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--eval", "eval_path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
def report(
    ctx: Context, period: str, format_: str, output: Path | None, eval_path: Path | None
) -> None:
    """Write the management report of a period (HTML or PDF): the say-do gap per promise."""
    from klopt.insight.reporting import make_report

    path = make_report(
        ctx.store,
        ctx.org,
        period,
        lang=ctx.lang,
        format=format_,
        output=output,
        evaluation=eval_path,
    )
    console().print(ctx.t("written", path=path))
