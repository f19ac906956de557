"""`klopt alerts check|list|close`: significant rises of broken verdicts, and of volume."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console, print_json, table, when

if TYPE_CHECKING:
    from klopt.insight.alerting import AlertEvent, AlertView


@cli.group()
def alerts() -> None:
    """Alerts: a significant rise of broken verdicts for a promise, or of mentions."""


@alerts.command("check")
@click.option("--now", metavar="TIME")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def alerts_check(ctx: Context, now: str | None, as_json: bool) -> None:
    """Test every promise and the volume now; open, update or close alerts and deliver them.

    Exit code 1 when a delivery failed (it is recorded and tried again at the next check).
    """
    from klopt.insight.alerting import channels_from_settings, check_alerts, params_from_settings

    result = check_alerts(
        ctx.store,
        ctx.org,
        now=_now(now),
        params=params_from_settings(),
        channels=channels_from_settings(),
        actor=ctx.actor,
    )
    if as_json:
        from klopt.insight.alerting import alert_json

        print_json(
            {
                "now": result.now.isoformat(),
                "promises": result.promises,
                "open": result.open,
                "channels": list(result.channels),
                "events": [
                    {
                        "event": e.event,
                        "news": e.news,
                        "delivered": e.delivered,
                        "deliveries": [d.as_dict() for d in e.deliveries],
                        "alert": alert_json(e.alert),
                    }
                    for e in result.events
                ],
            }
        )
    else:
        _print_check(ctx, result)
    if result.failed:
        click.get_current_context().exit(1)


def _now(value: str | None) -> datetime:
    from datetime import UTC

    from klopt.editorial.drafts import parse_time

    return parse_time(value) if value else datetime.now(UTC)


def _what(ctx: Context, alert: AlertView) -> str:
    if alert.kind == "broken":
        return ctx.t("alerts.what_broken", promise=alert.promise)
    return ctx.t("alerts.what_volume")


def _numbers(ctx: Context, alert: AlertView) -> str:
    key = "alerts.numbers_broken" if alert.kind == "broken" else "alerts.numbers_volume"
    return ctx.t(
        key,
        recent=alert.recent_count,
        mentions=f"{alert.recent_exposure:.0f}",
        hours=f"{alert.window_hours:g}",
        ratio=f"{alert.ratio:.1f}",
        q=f"{alert.q_value:.1e}",
    )


def _print_check(ctx: Context, result: Any) -> None:
    out = console()
    out.print(
        ctx.t(
            "alerts.checked",
            promises=result.promises,
            now=result.now.strftime("%Y-%m-%d %H:%M %Z"),
        )
    )
    for event in result.events:
        out.print(_event_line(ctx, event))
        for d in event.deliveries:
            key = "alerts.delivery_sent" if d.status == "sent" else "alerts.delivery_failed"
            channel = ctx.t(f"alerts.channel.{d.channel}")
            out.print(ctx.t(key, channel=channel, error=d.error_text(ctx.lang)))
    if not result.channels and any(e.news for e in result.events):
        out.print(ctx.t("alerts.no_channel"))
    out.print(ctx.t("alerts.open_now", count=result.open))


def _event_line(ctx: Context, event: AlertEvent) -> str:
    alert = event.alert
    key = f"alerts.event.{event.event}"
    if event.event == "updated" and not event.news:
        key = "alerts.event.updated_quietly"
    return ctx.t(
        key,
        ref=alert.ref,
        what=_what(ctx, alert),
        numbers=_numbers(ctx, alert),
        checks=alert.checks,
    )


@alerts.command("list")
@click.option("--open", "open_only", is_flag=True)
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def alerts_list(ctx: Context, open_only: bool, as_json: bool) -> None:
    """The alerts, newest first: kind, promise, state, numbers, delivery."""
    from klopt.insight.alerting import alert_json, list_alerts

    found = list_alerts(ctx.store, ctx.org, open_only=open_only)
    if as_json:
        print_json(
            [{**alert_json(a), "deliveries": [d.as_dict() for d in a.deliveries]} for a in found]
        )
        return
    rows = [
        (
            a.ref,
            _what(ctx, a),
            ctx.t(f"alerts.state.{a.state}"),
            when(a.opened_at),
            when(a.updated_at),
            _numbers(ctx, a),
            ctx.t(f"alerts.delivery.{a.delivery_status}"),
        )
        for a in found
    ]
    table(
        ctx.t("alerts.title"),
        [
            "id",
            ctx.t("alerts.col.what"),
            ctx.t("col.state"),
            ctx.t("alerts.col.opened"),
            ctx.t("alerts.col.updated"),
            ctx.t("alerts.col.numbers"),
            ctx.t("alerts.col.delivery"),
        ],
        rows,
    )
    if not found:
        console().print(ctx.t("alerts.none"))


@alerts.command("close")
@click.argument("ref", metavar="ID")
@click.option("--note", default="")
@pass_ctx
def alerts_close(ctx: Context, ref: str, note: str) -> None:
    """Close an alert (seen, dealt with); no new one opens until the rate is back at baseline."""
    from datetime import UTC

    from klopt.insight.alerting import close_alert

    alert = close_alert(ctx.store, ctx.org, ref, actor=ctx.actor, now=datetime.now(UTC), note=note)
    console().print(ctx.t("alerts.closed", ref=alert.ref, what=_what(ctx, alert)))
