"""Text that people and outside sources supply is printed as they wrote it (issue 11).

A customer may write ``[/] Levering [bold]niet[/bold]``. rich reads such text as markup:
``[/]`` crashes it (``MarkupError``), ``[bold]`` and ``[link=...]`` vanish into styles,
``:smile:`` becomes an emoji. Here every field that such text can reach is filled with
all of them, every command that prints those fields runs through the real CLI, and its
output must hold the text verbatim.

One store for the whole module (judging loads the models once); the commands that only
read it run in any order. At the end: a count of mentions below one is refused.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer

from helpers import Klopt, write
from klopt.errors import InputError
from klopt.store import Store

LINK = "[link=https://example.org]x[/link]"


def marked(word: str) -> str:
    """``word`` among what rich reads as markup or an emoji code, and a bare ``[``."""
    return f"[/] [bold]{word}[/bold] {LINK} :smile: ["


def shown(word: str) -> str:
    """What of :func:`marked` fits in a narrow table column: ``[bold]word[/bold]``."""
    return f"[bold]{word}[/bold]"


def holds(printed: str, text: str) -> bool:
    """Whether ``text`` is in ``printed`` as typed, wherever rich broke the lines.

    rich wraps a long line at a space, and in a table it also folds a word that is wider
    than its column onto the next line of the same cell; a text without spaces is looked
    for in each column with its lines joined again.
    """
    if " ".join(text.split()) in " ".join(printed.split()):
        return True
    return " " not in text and any(text in column for column in _columns(printed))


def _columns(printed: str) -> list[str]:
    """The text of each column of the tables in ``printed``, its lines joined, no spaces."""
    found: dict[int, list[str]] = {}
    for line in printed.splitlines():
        if line.startswith("│"):
            for i, piece in enumerate(line.strip().strip("│").split("│")):
                found.setdefault(i, []).append("".join(piece.split()))
    return ["".join(pieces) for pieces in found.values()]


# Names that go through the file system or a URL cannot hold a slash ("[/]").
DOC = "[bold]doc[:smile:.md"
DRAFT_FILE = "[bold]concept[ x.txt"
EXPORT = "[bold]export[ x.yaml"
BOB = "[bold]bob[/bold]"  # user names have no spaces; these are the names themselves
CARLA = "[/]carla["
R2 = "[bold]R2[/bold]"  # a register id, as a register file may spell it
DIRK = "[bold]dirk["
REPORT = "[bold]rapport[ x.html"

DOCUMENT = f"""\
# Brochure

## Wij beloven u {marked("sectie")}

Wij leveren binnen 24 uur, {marked("zin")}.
Gratis retourneren binnen 30 dagen, {marked("retour")}.
"""

REGISTER = f"""\
promises:
  - id: R1
    text: "{marked("belofte")} Wij bezorgen elke bestelling de volgende dag."
    paraphrases: ["{marked("parafrase")} Morgen in huis."]
    theme: "{shown("thema")} ["
    sources:
      - document: "{shown("brondoc")} ["
        section: "{marked("bronsectie")}"
        sentence: "{marked("bronzin")} Wij bezorgen morgen."
  - id: "{R2}"
    text: "{marked("tweede")} Onze klantenservice reageert binnen 2 uur."
"""

POST = f"[/]{shown('m1')}["  # a mention's id in its export
MENTION = [
    POST,
    "2026-10-11T09:00:00+02:00",
    f"{marked('klant')} Bestelling niet de volgende dag bezorgd, al vijf dagen wachten.",
    marked("auteur"),
    f"https://x.example/{shown('url')}",
    shown("plat"),
]
MENTIONS = (
    "id,created_at,body,who,link,plat\n"
    + ",".join(f'"{cell}"' for cell in MENTION)
    + f'\nm2,"{shown("tijd")} [/]",Onleesbare tijd,b,https://x.example/2,x\n'
)

RULES = f"""\
pack: eigen
description:
  nl: "Eigen regels"
  en: "Own rules"
rules:
  - id: eigen.jargon
    check: pattern
    severity: warning
    languages: [nl, en]
    message:
      nl: "{marked("regel")}: '{{match}}'."
      en: "{marked("regel")}: '{{match}}'."
    why:
      nl: "Jargon zegt een klant niets."
      en: "Jargon tells a customer nothing."
    patterns: ['\\bsynergie\\b']
    examples:
      fires:
        - {{text: "Pure synergie voor u.", marks: [synergie]}}
      passes:
        - Gewoon goed geregeld.
"""

EVAL_PROMISES = f"""\
promises:
  - id: "{shown("E1")}"
    text: "{marked("evalbelofte")} Wij leveren binnen 24 uur."
"""
EVAL_CASES = f"""\
id,text,labels,sentiment,lang
c1,Pakket na een week nog niet bezorgd,{shown("E1")}:broken,negative,nl
c2,Mooi weer vandaag,,neutral,nl
"""

# Short before its findings: `klopt check` shows the part of a long line around one.
DRAFT = f"[/] {shown('concept')} [ Pure synergie: wij zijn de snelste van Nederland. {LINK} :smile:"
DRAFT2 = DRAFT.replace("wij zijn de snelste van Nederland", "wij leveren snel")
SOURCE_FILE = f"""\
id,created_at,text
s1,2026-10-02T09:00:00+02:00,Prima geholpen door de winkel.
s2,"{shown("bronfout")} [/]",Onleesbare tijd in een bron.
"""


@dataclass
class World:
    """The module's store and what the commands that filled it printed."""

    klopt: Klopt
    folder: Path
    printed: dict[str, str] = field(default_factory=dict)

    def __call__(
        self, *args: str, user: str = "anna", code: int = 0, input: str | None = None
    ) -> str:
        return self.klopt("--user", user, *args, code=code, input=input).output

    def keep(
        self, name: str, *args: str, user: str = "anna", code: int = 0, input: str | None = None
    ) -> None:
        self.printed[name] = self(*args, user=user, code=code, input=input)


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, vector_cache: Path, make_httpserver: HTTPServer
) -> Iterator[World]:
    """One organisation with every field filled with markup, judged once."""
    folder = tmp_path_factory.mktemp("markup")
    # A web page where a feed should be: the source's error quotes its address.
    make_httpserver.expect_request("/pagina").respond_with_data(
        "geen feed", content_type="text/plain"
    )
    page = make_httpserver.url_for("/pagina") + f"?q={shown('feed')}"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("KLOPT_HOME", str(folder / "home"))
        env.setenv("KLOPT_CACHE_DIR", str(vector_cache))
        env.setenv("KLOPT_EMBEDDER", "hashing")
        env.setenv("KLOPT_ALERT_WINDOW", "12")
        env.setenv("KLOPT_ALERT_BASELINE_DAYS", "3")
        for name in ("KLOPT_DB", "KLOPT_ORG", "KLOPT_LANG", "KLOPT_USER"):
            env.delenv(name, raising=False)
        w = World(Klopt(folder), folder)
        _fill(w, page)
        make_httpserver.clear()
        yield w


def _fill(w: World, page: str) -> None:
    f = w.folder
    w.keep("init", "init", marked("org"))
    w("users", "add", "anna")
    w("users", "grant", "anna", "admin")
    for name, role, display in [(BOB, "editor", "bob"), (CARLA, "approver", "carla")]:
        w.keep(f"users add {role}", "users", "add", name, "--display-name", marked(display))
        w.keep(f"users grant {role}", "users", "grant", name, role)

    w("users", "add", DIRK)
    w("users", "grant", DIRK, "viewer")
    w.keep("users revoke", "users", "revoke", DIRK)

    doc = write(f, DOC, DOCUMENT)
    w.keep("docs add", "docs", "add", str(doc))
    w.keep("promises extract", "promises", "extract")
    w("promises", "import", str(write(f, "register.yaml", REGISTER)))
    w.keep("promises edit", "promises", "edit", "P1", f"{marked('herschreven')} Snel geleverd.")
    write(f, DOC, DOCUMENT.replace("24 uur", "12 uur"))
    w.keep("docs add again", "docs", "add", str(doc))
    w.keep("promises export", "promises", "export", "-o", str(f / EXPORT))
    w.keep("promises review", "promises", "review", input="q\n")

    mentions = write(f, "mentions.csv", MENTIONS)
    w.keep(
        "mentions import",
        *("mentions", "import", str(mentions), "--text-column", "body"),
        *("--time-column", "created_at", "--id-column", "id", "--author-column", "who"),
        *("--url-column", "link", "--platform-column", "plat"),
    )
    w("judge")
    w.keep("correct", "correct", POST, "R1", "broken", "--note", marked("correctie"))

    rules = str(write(f, "rules.yaml", RULES))
    w.keep("drafts new", "drafts", "new", DRAFT, "--platform", "x", "--rules", rules, user=BOB)
    w("drafts", "submit", "D1", user=BOB)
    w("drafts", "comment", "D1", marked("opmerking"), user=CARLA)
    w("drafts", "request-changes", "D1", "--note", marked("wijziging"), user=CARLA)
    text = str(write(f, DRAFT_FILE, DRAFT2))
    w.keep("drafts edit", "drafts", "edit", "D1", "--file", text, "--rules", rules, user=BOB)
    w("drafts", "submit", "D1", user=BOB)
    w("drafts", "approve", "D1", "--note", marked("akkoord"), user=CARLA)
    url = f"https://example.org/{shown('post')}"
    w.keep("drafts publish", "drafts", "publish", "D1", "--url", url, user=BOB)

    w("sources", "add", "rss", "nieuws", page)
    source = write(f, "[bold]bron[ x.csv", SOURCE_FILE)
    columns = ("--time-column", "created_at", "--id-column", "id")
    w("sources", "add", "file", "bestand", str(source), *columns)
    w.keep("sources sync", "sources", "sync", "--no-judge", code=1)  # the page is no feed

    _rising(w.klopt.db)
    w.keep("alerts check", "alerts", "check", "--now", NOW.isoformat())
    w.keep("alerts close", "alerts", "close", "A1", "--note", marked("afgehandeld"))

    promises, cases = write(f, "eval.yaml", EVAL_PROMISES), write(f, "cases.csv", EVAL_CASES)
    w.keep("eval", "eval", "--promises", str(promises), "--cases", str(cases), "-v")
    report = str(f / REPORT)
    w.keep("report", "report", "--period", "2026-10", "--format", "html", "-o", report)


NOW = datetime(2026, 10, 10, 12, tzinfo=UTC)


def _rising(db: str) -> None:
    """Three quiet days of judged mentions about R2, then half a day of broken ones."""
    from sqlalchemy import select

    from klopt.store import open_store
    from klopt.store.models import Judgement, Post, Promise, Verdict

    store = open_store(db)
    with store.session() as session:
        promise = session.scalars(select(Promise).where(Promise.key == R2)).one()
        for hour in range(84):
            for i in range(4):
                number = f"a{hour}-{i}"
                post = Post(
                    organization_id=promise.organization_id,
                    platform="x",
                    external_id=number,
                    content_hash=number,
                    posted_at=NOW - timedelta(hours=84 - hour, minutes=15 * i),
                    text=f"Vraagje {number}",
                )
                session.add(post)
                session.flush()
                judged = Judgement(
                    post_id=post.id,
                    model_version="m",
                    language="nl",
                    sentiment="neutral",
                    sentiment_confidence=0.8,
                )
                session.add(judged)
                session.flush()
                if hour >= 72 or (hour % 8 == 0 and i == 0):
                    session.add(
                        Verdict(
                            judgement_id=judged.id,
                            post_id=post.id,
                            promise_id=promise.id,
                            stance="broken",
                            confidence=0.9,
                            score=0.9,
                        )
                    )
    store.close()


@pytest.fixture(autouse=True)
def _hashing(_isolated_home: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast embedder for the checks of drafts (the conftest clears the setting)."""
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")


# What each command that changed the store printed, and what of the marked text it shows.
CHANGED = {
    "init": [marked("org")],
    "users add editor": [BOB],
    "users grant editor": [BOB],
    "users add approver": [CARLA],
    "users grant approver": [CARLA],
    "docs add": [DOC],
    "promises extract": [shown("zin"), shown("retour"), shown("sectie")],
    "promises edit": [marked("herschreven")],
    "docs add again": [DOC, marked("zin")],
    "promises export": [EXPORT],
    "mentions import": [shown("tijd")],
    "correct": [POST],
    "drafts new": [shown("concept"), marked("regel")],
    "drafts edit": [shown("concept"), marked("regel")],
    "sources sync": [shown("bronfout"), shown("feed")],
    "users revoke": [DIRK],
    "promises review": [shown("sectie"), DOC],
    "alerts check": [f"{R2} broken"],
    "alerts close": [f"{R2} broken"],
    "eval": [shown("E1")],
    "report": [REPORT],
}


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CHANGED))
def test_commands_that_change_the_store_print_the_text_as_typed(world: World, name: str) -> None:
    printed = world.printed[name]
    for text in CHANGED[name]:
        assert holds(printed, text), f"{text!r} not in:\n{printed}"


# Commands that only read, and what of the marked text each must show.
READ = [
    (["orgs"], [shown("org")]),
    (["users", "list"], [BOB, CARLA, shown("bob"), shown("carla")]),
    (["docs", "list"], [DOC]),
    (["docs", "diff", DOC], [DOC, marked("zin")]),
    (
        ["promises", "list"],
        [shown("belofte"), shown("thema"), shown("brondoc"), R2, shown("herschreven"), DOC],
    ),
    (
        ["promises", "show", "R1"],
        [marked("belofte"), marked("parafrase"), marked("bronsectie"), marked("bronzin")],
    ),
    (["promises", "show", "P1"], [marked("herschreven"), marked("zin"), marked("sectie"), DOC]),
    (["promises", "show", R2], [R2, marked("tweede")]),
    (["mentions", "list"], [shown("m1"), shown("klant"), "R1"]),
    (
        ["scorecard", "--since", "2026-10-01", "--until", "2026-11-01"],
        [shown("org"), shown("belofte"), R2],
    ),
    (
        ["scorecard", "--since", "2026-10-01", "--platform", shown("plat"), "--lang-filter", "nl"],
        [shown("org"), shown("plat")],
    ),
    (["drafts", "list"], [shown("concept"), BOB]),
    (
        ["drafts", "show", "D1"],
        [DRAFT2, BOB, CARLA, marked("opmerking"), marked("wijziging"), shown("post")],
    ),
    (["drafts", "history", "D1"], [BOB, CARLA, shown("wijziging"), shown("akkoord")]),
    (["drafts", "diff", "D1", "--from", "1"], [shown("concept")]),
    (["audit"], [BOB, CARLA, DIRK, R2, shown("org"), shown("opmerking"), shown("afgehandeld")]),
    (["sources", "list"], [shown("feed"), "[bold]bron["]),
    (["alerts", "list"], [R2]),
]


@pytest.mark.slow
@pytest.mark.parametrize(("args", "texts"), READ, ids=[" ".join(args) for args, _ in READ])
def test_commands_that_read_print_the_text_as_typed(
    world: World, args: list[str], texts: list[str]
) -> None:
    printed = world(*args)
    for text in texts:
        assert holds(printed, text), f"{text!r} not in:\n{printed}"


@pytest.mark.slow
def test_check_prints_the_draft_and_the_rule_as_typed(world: World) -> None:
    rules = str(world.folder / "rules.yaml")
    printed = world("check", DRAFT, "--rules", rules, "--draft-lang", "nl")
    assert holds(printed, shown("concept")) and holds(printed, marked("regel"))
    draft = str(world.folder / DRAFT_FILE)
    assert f"{DRAFT_FILE}:1:" in world("check", "--file", draft, "--draft-lang", "nl")


# --- counts below one ----------------------------------------------------------------------


@pytest.mark.parametrize("limit", ["0", "-5"])
def test_a_limit_below_one_is_refused_not_read_as_everything(klopt: Klopt, limit: str) -> None:
    klopt("init", "Voorbeeld BV")
    out = klopt("mentions", "list", "--limit", limit, code=2).output
    assert f"Invalid value for '--limit': {limit} is not in the range x>=1." in out
    assert "Traceback" not in out
    klopt("mentions", "list", "--limit", "1")


def test_a_document_version_below_one_is_refused(klopt: Klopt) -> None:
    klopt("init", "Voorbeeld BV")
    out = klopt("docs", "diff", "brochure.md", "0", code=2).output
    assert "Invalid value for '[VERSION]': 0 is not in the range x>=1." in out


def test_the_library_refuses_a_limit_below_one_in_the_users_language(store: Store) -> None:
    from klopt.judging.verdicts import list_verdicts

    with pytest.raises(InputError) as caught:
        list_verdicts(store, None, limit=0)
    assert caught.value.key == "mentions.bad_limit"
    assert caught.value.localized("nl").startswith(
        "Het aantal te tonen vermeldingen moet 1 of meer zijn, niet 0."
    )
