"""`klopt mentions import`, `klopt judge`, `klopt correct`, `klopt scorecard`, `klopt eval`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from klopt.cli.app import Context, cli, pass_ctx
from klopt.cli.output import console, print_json, progress_bar, table


@cli.group()
def mentions() -> None:
    """Mentions: what customers (and others) say about the organisation."""


@mentions.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--preset", metavar="NAME")
@click.option("--text-column", default="text", show_default=True)
@click.option("--time-column")
@click.option("--id-column")
@click.option("--author-column")
@click.option("--url-column")
@click.option("--platform-column")
@click.option("--reach-column")
@click.option("--lang-column")
@click.option(
    "--platform",
    default="import",
    show_default=True,
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["csv", "json", "ndjson"]),
)
@click.option("--encoding", default="utf-8-sig", show_default=True)
@click.option("--timezone", "zone", metavar="ZONE")
@click.option("--strict", is_flag=True)
@click.option("--own", is_flag=True)
@pass_ctx
def mentions_import(
    ctx: Context,
    path: Path,
    preset: str | None,
    text_column: str,
    time_column: str | None,
    id_column: str | None,
    author_column: str | None,
    url_column: str | None,
    platform_column: str | None,
    reach_column: str | None,
    lang_column: str | None,
    platform: str,
    format_: str | None,
    encoding: str,
    zone: str | None,
    strict: bool,
    own: bool,
) -> None:
    """Import mentions from CSV, JSON or NDJSON; re-running it imports nothing twice."""
    from klopt.listening import ColumnMapping
    from klopt.listening.base import time_zone
    from klopt.listening.mentions import import_mentions
    from klopt.listening.presets import plan_import

    timezone = time_zone(zone or "UTC")
    columns = {
        "text": text_column,
        "time": time_column,
        "id": id_column,
        "author": author_column,
        "url": url_column,
        "platform": platform_column,
        "reach": reach_column,
        "lang": lang_column,
    }
    reader, kind = None, "own" if own else "mention"
    if preset:
        plan = plan_import(
            preset,
            path,
            encoding=encoding,
            columns={role: col for role, col in columns.items() if col and _given(role)},
            platform=platform if _given("platform", option="platform") else None,
            format=format_,
            own=own,
            timezone=timezone,
        )
        mapping, format_, reader, kind = plan.mapping, plan.format, plan.reader, plan.kind
    else:
        mapping = ColumnMapping(
            text=text_column,
            time=time_column,
            id=id_column,
            author=author_column,
            url=url_column,
            platform=platform_column,
            reach=reach_column,
            lang=lang_column,
            default_platform=platform,
            timezone=timezone,
        )
    with progress_bar(ctx.t("mentions.importing")) as (_, advance):
        result = import_mentions(
            ctx.store,
            ctx.org,
            path,
            mapping,
            actor=ctx.actor,
            format=format_,
            encoding=encoding,
            strict=strict,
            kind=kind,
            progress=advance,
            reader=reader,
        )
    _print_import(ctx, result, zone)


def _given(role: str, option: str | None = None) -> bool:
    """Whether the user gave the option for ``role`` (not its default)."""
    from click.core import ParameterSource

    name = option or f"{role}_column"
    source = click.get_current_context().get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT, ParameterSource.DEFAULT_MAP)


def _print_import(ctx: Context, result: Any, zone: str | None) -> None:
    from klopt.listening.mentions import LINE_FORMATS

    out = console()
    out.print(
        ctx.t(
            "mentions.imported",
            read=result.read,
            imported=result.imported,
            duplicates=result.duplicates,
            skipped=result.skipped,
        )
    )
    where = "line" if result.format in LINE_FORMATS else "record"
    for problem in result.problems[:20]:
        reason = problem.text(ctx.lang)
        out.print(ctx.t(f"mentions.problem.{where}", line=problem.line, reason=reason))
    if result.skipped > 20:
        out.print(ctx.t("mentions.more_problems", count=result.skipped - 20))
    for note in result.notes[:20]:  # lines read with a remark, always file lines
        reason = note.text(ctx.lang)
        out.print(ctx.t("mentions.note.line", line=note.line, reason=reason), markup=False)
    if result.noted > 20:
        out.print(ctx.t("mentions.more_notes", count=result.noted - 20), markup=False)
    if any(note.key == "not_utf8" for note in result.notes):
        out.print(ctx.t("mentions.not_utf8_hint"), markup=False)
    if result.interrupted:
        batches = ", ".join(str(batch) for batch in result.interrupted)
        out.print(ctx.t("mentions.interrupted", batches=batches), markup=False)
    if result.encoding == "cp1252":
        out.print(ctx.t("note.cp1252", name=Path(result.source).name), markup=False)
    if result.naive_times and zone:
        out.print(ctx.t("mentions.naive_times_zone", count=result.naive_times, zone=zone))
    elif result.naive_times:
        out.print(ctx.t("mentions.naive_times", count=result.naive_times))


@mentions.command("presets")
@pass_ctx
def mentions_presets(ctx: Context) -> None:
    """List the import presets: id, what export each reads, own posts or mentions."""
    from klopt.listening.presets import load_presets

    rows = [
        (p.id, p.describe(ctx.lang), ctx.t("presets.own" if p.own else "presets.mentions"))
        for p in load_presets().values()
    ]
    table(ctx.t("presets.title"), ["id", ctx.t("col.source"), ctx.t("col.kind")], rows)
    console().print(ctx.t("presets.footer"))


@mentions.command("list")
@click.option("--promise", "promise_key", metavar="ID")
@click.option("--stance", type=click.Choice(["kept", "broken", "neutral"]))
@click.option("--since", metavar="DATE")
@click.option("--until", metavar="DATE")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def mentions_list(
    ctx: Context,
    promise_key: str | None,
    stance: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """The mentions behind the scorecard: verdict, confidence and evidence per promise."""
    import dataclasses

    from klopt.insight.periods import parse_time
    from klopt.judging.verdicts import list_verdicts

    views = list_verdicts(
        ctx.store,
        ctx.org,
        promise_key=promise_key,
        stance=stance,
        since=parse_time(since) if since else None,
        until=parse_time(until) if until else None,
        limit=limit,
    )
    if as_json:
        print_json([dataclasses.asdict(v) for v in views])
        return
    rows = [
        (
            v.post,
            v.text,
            v.posted_at.date() if v.posted_at else "",
            v.promise,
            v.stance + (" *" if v.by_person else ""),
            "" if v.confidence is None else f"{v.confidence:.2f}",
            ", ".join(v.evidence.get("words", [])[:4]),
        )
        for v in views
    ]
    table(
        ctx.t("mentions.title"),
        [
            "id",
            ctx.t("col.text"),
            ctx.t("col.date"),
            ctx.t("col.promise"),
            ctx.t("col.stance"),
            ctx.t("col.confidence"),
            ctx.t("col.evidence"),
        ],
        rows,
        justify=["left", "left", "right", "left", "left", "right", "left"],
        shorten=50,
    )
    console().print(ctx.t("mentions.list_footer"))


@cli.command()
@click.option("--embedder")
@click.option(
    "--profile",
    type=click.Choice(["accurate", "fast", "thorough"]),
)
@click.option("--wait", is_flag=True)
@pass_ctx
def judge(ctx: Context, embedder: str | None, profile: str | None, wait: bool) -> None:
    """Judge every mention not yet judged: language, sentiment, promises, stance."""
    from klopt.config import get_setting
    from klopt.judging.verdicts import judge_posts

    with progress_bar(ctx.t("judge.judging")) as (set_total, advance):
        result = judge_posts(
            ctx.store,
            ctx.org,
            embedder=get_setting("embedder", embedder),
            profile=get_setting("profile", profile),
            actor=ctx.actor,
            on_start=set_total,
            progress=advance,
            wait=float("inf") if wait else 0.0,
        )
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
