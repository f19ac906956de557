"""`klopt serve`: the web app and its API, with the background schedule."""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console

if TYPE_CHECKING:
    from klopt.jobs.worker import Worker
    from klopt.store import Store


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

    worker: Callable[[Store], Worker] | None = None
    if not no_worker:
        from klopt.jobs.worker import start_worker

        # The schedule acts as the user who starts klopt serve, proven once, here.
        worker = partial(start_worker, actor=ctx.actor)
    app = create_app(ctx.store, worker=worker)
    threading.Thread(target=_warm_up, name="klopt-warm-up", daemon=True).start()
    console().print(ctx.t("serve.listening", url=f"http://{host}:{port}", db=ctx.store.url))
    uvicorn.run(
        app,
        host=host,
        port=port,
        proxy_headers=True,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level="warning",
    )


def _warm_up() -> None:
    """Load the sentence model and the rule packs before the first draft is checked (the
    editor checks as people type; the first check would otherwise wait seconds)."""
    from klopt.checking.warm import bundled_rules
    from klopt.config import get_setting
    from klopt.models.embeddings import embed_once, get_embedder

    bundled_rules()
    embed_once(get_embedder(get_setting("embedder")), ["klopt"])
