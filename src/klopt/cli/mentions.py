"""`klopt mentions ...`: import mentions and own posts, list the presets, list mentions."""

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
@click.argument("path", type=click.Path(exists=True, path_type=Path))
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
@click.option("--cluster", "address", metavar="ADDRESS", envvar="KLOPT_RAY_ADDRESS")
@click.option("--workers", type=click.IntRange(min=1, max=10_000))
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
    address: str | None,
    workers: int | None,
) -> None:
    """Import mentions from CSV, JSON or NDJSON; re-running it imports nothing twice."""
    from klopt.errors import InputError
    from klopt.listening import ColumnMapping
    from klopt.listening.base import time_zone
    from klopt.listening.mentions import import_mentions
    from klopt.listening.presets import plan_import

    if path.is_dir() and not address:
        raise InputError.keyed("mentions.folder", path=path)
    if strict and address:
        raise InputError.keyed("cluster.strict")
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
        given = {role: col for role, col in columns.items() if col and _given(role)}
        platform_given = platform if _given("platform", option="platform") else None

        def planned(file: Path) -> Any:
            return plan_import(
                preset, file, encoding=encoding, columns=given, platform=platform_given,
                format=format_, own=own, timezone=timezone,
            )  # fmt: skip

        if address:
            return _import_on_cluster(ctx, path, None, format_, encoding, own, address,
                                      workers, zone, planned)  # fmt: skip
        plan = planned(path)
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
        if address:
            return _import_on_cluster(ctx, path, mapping, format_, encoding, own, address,
                                      workers, zone, None)  # fmt: skip
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


def _import_on_cluster(
    ctx: Context,
    path: Path,
    mapping: Any,
    format_: str | None,
    encoding: str,
    own: bool,
    address: str,
    workers: int | None,
    zone: str | None,
    planned: Any,
) -> None:
    """``klopt mentions import --cluster``: a file or a folder, read on the Ray cluster."""
    from klopt.listening.backfill import export_files, import_on_cluster

    kind = "own" if own else "mention"
    plan = None
    if planned is not None:  # a preset: it says whether the export holds own posts
        kind = planned(export_files(path)[0]).kind

        def plan(file: Path) -> Any:
            chosen = planned(file)
            return chosen.format, chosen.reader, chosen.mapping

    with progress_bar(ctx.t("mentions.importing")) as (_, advance):
        result = import_on_cluster(
            ctx.store, ctx.org, path, mapping, address=address, actor=ctx.actor,
            format=format_, encoding=encoding, kind=kind, workers=workers, plan=plan,
            progress=advance,
        )  # fmt: skip
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
    for problem in result.problems[:20]:
        reason = problem.text(ctx.lang)
        where = "line" if (problem.file_format or result.format) in LINE_FORMATS else "record"
        line = ctx.t(f"mentions.problem.{where}", line=problem.line, reason=reason)
        if problem.file:  # one file of a folder
            line = ctx.t("mentions.problem.in_file", name=problem.file, problem=line.strip())
        out.print(line)
    if result.skipped > 20:
        out.print(ctx.t("mentions.more_problems", count=result.skipped - 20))
    for note in result.notes[:20]:  # lines read with a remark, always file lines
        reason = note.text(ctx.lang)
        out.print(ctx.t("mentions.note.line", line=note.line, reason=reason))
    if result.noted > 20:
        out.print(ctx.t("mentions.more_notes", count=result.noted - 20))
    if any(note.key == "not_utf8" for note in result.notes):
        out.print(ctx.t("mentions.not_utf8_hint"))
    if result.interrupted:
        batches = ", ".join(str(batch) for batch in result.interrupted)
        out.print(ctx.t("mentions.interrupted", batches=batches))
    if result.encoding == "cp1252":
        out.print(ctx.t("note.cp1252", name=Path(result.source).name))
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
