"""`klopt judge`, `klopt correct`, `klopt scorecard`, `klopt eval`: judging and its results."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console, print_json, progress_bar, table


@cli.command()
@click.option("--embedder")
@click.option(
    "--profile",
    type=click.Choice(["accurate", "fast", "thorough"]),
)
@click.option("--wait", is_flag=True)
@click.option("--cluster", "address", metavar="ADDRESS", envvar="KLOPT_RAY_ADDRESS")
@click.option("--workers", type=click.IntRange(min=1, max=10_000))
@pass_ctx
def judge(
    ctx: Context,
    embedder: str | None,
    profile: str | None,
    wait: bool,
    address: str | None,
    workers: int | None,
) -> None:
    """Judge every mention not yet judged: language, sentiment, promises, stance."""
    from klopt.config import get_setting
    from klopt.judging.verdicts import judge_posts

    with progress_bar(ctx.t("judge.judging")) as (set_total, advance):
        settings: dict[str, Any] = {
            "embedder": get_setting("embedder", embedder),
            "profile": get_setting("profile", profile),
            "actor": ctx.actor,
            "on_start": set_total,
            "progress": advance,
            "wait": float("inf") if wait else 0.0,
        }
        if address:
            from klopt.judging.cluster import judge_on_cluster

            result = judge_on_cluster(
                ctx.store, ctx.org, address=address, workers=workers, **settings
            )
        else:
            result = judge_posts(ctx.store, ctx.org, **settings)
    console().print(
        ctx.t(
            "judge.done",
            judged=result.judged,
            verdicts=result.verdicts,
            already=result.already_judged,
            promises=result.promises,
            model=result.model_version,
        )
    )


@cli.command()
@click.argument("post")
@click.argument("promise")
@click.argument("stance", type=click.Choice(["kept", "broken", "neutral", "none"]))
@click.option("--note", default="")
@pass_ctx
def correct(ctx: Context, post: str, promise: str, stance: str, note: str) -> None:
    """Correct a verdict: POST is about PROMISE with STANCE (none: it is not about it)."""
    from klopt.judging.verdicts import correct as record_correction

    record_correction(
        ctx.store,
        ctx.org,
        post_ref=post,
        promise_key=promise,
        stance=stance,
        actor=ctx.actor,
        note=note,
    )
    console().print(ctx.t("correct.done", post=post, promise=promise, stance=stance))


@cli.command()
@click.option("--period", metavar="PERIOD")
@click.option("--since", metavar="DATE")
@click.option("--until", metavar="DATE")
@click.option("--lang-filter", "languages", metavar="LANG", multiple=True)
@click.option("--platform", "platforms", metavar="NAME", multiple=True)
@click.option("--source", "sources", metavar="NAME", multiple=True)
@click.option("--own", is_flag=True)
@click.option("--trend", default=4, show_default=True, type=click.IntRange(0, 52))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def scorecard(
    ctx: Context,
    period: str | None,
    since: str | None,
    until: str | None,
    languages: tuple[str, ...],
    platforms: tuple[str, ...],
    sources: tuple[str, ...],
    own: bool,
    trend: int,
    as_json: bool,
) -> None:
    """Per promise and period: verdict shares, net, trend, own coverage, say-do gap, risk."""
    from klopt.insight.periods import resolve_period
    from klopt.insight.scorecard import Filters, build_scorecard
    from klopt.insight.scorecard_json import scorecard_json

    card = build_scorecard(
        ctx.store,
        ctx.org,
        period=resolve_period(period, since, until),
        filters=Filters(languages, platforms, sources, "own" if own else "customers"),
        trend=trend,
    )
    if as_json:
        print_json(scorecard_json(card))
        return
    _print_scorecard(ctx, card)


def _pct(share: Any) -> str:
    return f"{share.share * 100:.0f} ({share.low * 100:.0f}–{share.high * 100:.0f})"


def _signed(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.0f}"


_BARS = "▁▂▃▄▅▆▇█"


def _spark(row: Any) -> str:
    """The net score of the previous periods and this one, -100 (▁) to +100 (█)."""
    nets = [point.net for point in row.trend] + [row.net]
    return "".join("·" if n is None else _BARS[round((n + 1) / 2 * 7)] for n in nets)


def _compact(number: float) -> str:
    for size, suffix in ((1e6, "M"), (1e3, "k")):
        if number >= size:
            return f"{number / size:.1f}{suffix}"
    return f"{number:.0f}"


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.0f}"


def _gap(gap: Any) -> str:
    if gap.value is None:
        return "–"
    interval = f" ({gap.low * 100:.0f}–{gap.high * 100:.0f})" if gap.value else ""
    return f"{gap.value * 100:.0f}{interval}" + ("~" if gap.small else "")


def _period_text(ctx: Context, card: Any) -> str:
    span = ctx.t(
        "scorecard.period", since=card.since.date() if card.since else "…", until=card.until.date()
    )
    if card.period is None or card.period.unit == "custom":
        return span
    return ctx.t("scorecard.period_named", label=card.period.label, span=span)


def _print_scorecard(ctx: Context, card: Any) -> None:
    from klopt.insight.scorecard import MIN_JUDGED

    period = _period_text(ctx, card)
    table(
        ctx.t("scorecard.title", org=card.organization, period=period),
        [
            "id",
            ctx.t("col.promise"),
            ctx.t("col.mentions"),
            ctx.t("col.kept"),
            ctx.t("col.broken"),
            ctx.t("col.neutral"),
            ctx.t("col.net"),
            ctx.t("col.change"),
            ctx.t("scorecard.col.trend"),
        ],
        [
            (
                r.key,
                r.statement,
                r.mentions,
                _pct(r.kept),
                _pct(r.broken),
                _pct(r.neutral),
                _signed(r.net),
                _signed(r.change),
                _spark(r),
            )
            for r in card.rows
        ],
        justify=["left", "left", *["right"] * 7],
        shorten=28,
    )
    out = console()
    out.print(ctx.t("scorecard.footer", mentions=card.mentions))
    periods = len(card.rows[0].trend) if card.rows else 0
    out.print(ctx.t("scorecard.trend_note", periods=periods))
    out.print()
    table(
        ctx.t("scorecard.say_do_title", org=card.organization, period=period),
        [
            "id",
            ctx.t("col.promise"),
            ctx.t("scorecard.col.own"),
            ctx.t("scorecard.col.reach"),
            ctx.t("scorecard.col.say"),
            ctx.t("scorecard.col.do"),
            ctx.t("scorecard.col.gap"),
            ctx.t("scorecard.col.risk"),
        ],
        [
            (
                r.key,
                r.statement,
                r.coverage.count,
                _compact(r.coverage.engagement) if r.coverage.reach_known else "–",
                _percent(r.gap.say),
                _pct(r.gap.do) if r.gap.do else "–",
                _gap(r.gap),
                f"{r.risk.value:.1f}",
            )
            for r in card.rows
        ],
        justify=["left", "left", *["right"] * 6],
        shorten=28,
    )
    half_life = f"{card.half_life_days:g}"
    out.print(ctx.t("scorecard.say_do_footer", judged=MIN_JUDGED, half_life=half_life))
    filters = _filters_text(ctx, card.filters)
    if filters:
        out.print(ctx.t("scorecard.filtered", filters=filters))
    out.print(_headline_text(ctx, card))


def _filters_text(ctx: Context, filters: Any) -> str:
    parts = [
        ctx.t(f"scorecard.filter.{name}", values=", ".join(values))
        for name, values in (
            ("language", filters.languages),
            ("platform", filters.platforms),
            ("source", filters.sources),
        )
        if values
    ]
    if filters.audience == "own":
        parts.append(ctx.t("scorecard.filter.own"))
    return "; ".join(parts)


def _headline_text(ctx: Context, card: Any) -> str:
    gap = card.gap
    if gap.value is None:
        return ctx.t("scorecard.headline_none")
    text = ctx.t(
        "scorecard.headline",
        gap=f"{gap.value * 100:.0f}",
        low=f"{gap.low * 100:.0f}",
        high=f"{gap.high * 100:.0f}",
        own=card.own_support,
    )
    if gap.unjudged:
        text += " " + ctx.t("scorecard.unjudged", share=f"{gap.unjudged * 100:.0f}")
    return text


@cli.command("eval")
@click.option(
    "--promises",
    "promises_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--cases",
    "cases_path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--train",
    "train_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
)
@click.option("--embedder")
@click.option(
    "--profile",
    type=click.Choice(["accurate", "fast", "thorough"]),
)
@click.option("--verbose", "-v", is_flag=True)
@pass_ctx
def eval_(
    ctx: Context,
    promises_path: Path,
    cases_path: Path,
    train_path: Path | None,
    json_path: Path | None,
    embedder: str | None,
    profile: str | None,
    verbose: bool,
) -> None:
    """Measure klopt on labelled cases: linking, stance given the gold promise, sentiment."""
    import json

    from klopt.config import get_setting
    from klopt.judging.evaluation import evaluate, load_case_file, load_promise_file, report_to_json
    from klopt.judging.judge import JudgeConfig

    promise_file = load_promise_file(promises_path)
    ids = promise_file.ids()
    cases = load_case_file(cases_path, promise_ids=ids)
    train = load_case_file(train_path, promise_ids=ids) if train_path else None
    with progress_bar(ctx.t("eval.running")) as (set_total, advance):
        set_total(len(cases))
        report = evaluate(
            promise_file,
            cases,
            train=train,
            embedder=get_setting("embedder", embedder),
            config=JudgeConfig.profile(get_setting("profile", profile)),
            progress=advance,
        )
    data = report_to_json(report)
    _print_eval(ctx, data, verbose)
    if json_path:
        json_path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        console(stderr=True).print(ctx.t("written", path=json_path))


def _f(value: Any) -> str:
    return "–" if value is None else f"{value:.3f}"


def _print_eval(ctx: Context, data: dict[str, Any], verbose: bool) -> None:
    link = data["linking"]
    rows = [
        (
            ctx.t("eval.linking_micro"),
            _f(link["micro"]["precision"]),
            _f(link["micro"]["recall"]),
            _f(link["micro"]["f1"]),
            "",
        ),
        (
            ctx.t("eval.linking_macro"),
            _f(link["macro"]["precision"]),
            _f(link["macro"]["recall"]),
            _f(link["macro"]["f1"]),
            "",
        ),
        (
            ctx.t("eval.stance"),
            "",
            "",
            _f(data["stance"]["macro_f1"]),
            f"{_f(data['stance']['accuracy'])} (n={data['stance']['n']})",
        ),
        (
            ctx.t("eval.sentiment"),
            "",
            "",
            _f(data["sentiment"]["macro_f1"]),
            f"{_f(data['sentiment']['accuracy'])} (n={data['sentiment']['n']})",
        ),
    ]
    table(
        ctx.t("eval.title", cases=data["cases"], speed=f"{data['cases_per_second']:.0f}"),
        ["", "P", "R", "F1", ctx.t("col.accuracy")],
        rows,
        justify=["left", "right", "right", "right", "right"],
    )
    themes = data.get("themes", {})
    per = [
        (
            pid,
            themes.get(pid, "") if verbose else "",
            _f(m["precision"]),
            _f(m["recall"]),
            _f(m["f1"]),
            m.get("support", ""),
        )
        for pid, m in link["per_promise"].items()
    ]
    table(
        ctx.t("eval.per_promise"),
        ["id", ctx.t("col.theme") if verbose else "", "P", "R", "F1", "n"],
        per,
        justify=["left", "left", "right", "right", "right", "right"],
    )
