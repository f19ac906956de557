"""`klopt serve`: the web app and its API, with the background schedule."""

from __future__ import annotations

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--no-worker", is_flag=True)
@click.option("--forwarded-allow-ips", default="127.0.0.1", show_default=True, metavar="IPS")
@pass_ctx
def serve(ctx: Context, host: str, port: int, no_worker: bool, forwarded_allow_ips: str) -> None:
    """Serve the web app and /api/v1 on the store that --db / KLOPT_DB names."""
    import uvicorn

    from klopt.web.app import create_app

    worker = None if no_worker else _worker()
    app = create_app(ctx.store, worker=worker)
    console().print(ctx.t("serve.listening", url=f"http://{host}:{port}", db=ctx.store.url))
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="warning",
    )


def _worker():  # type: ignore[no-untyped-def]
    """The background schedule the app starts (sync, judge, alerts)."""
    try:
        from klopt.jobs.worker import start_worker
    except ImportError:  # the schedule is being built (issue 13)
        return None
    return start_worker
