"""Issue 11, the store and who acts: each defect class a hostile new user found.

- over-long values are refused the same way on both backends (3);
- two judges at once: the second says so, or waits, and nothing is judged twice (5);
- a file that is no SQLite database is refused and left untouched (6);
- a read-only database is refused up front, before any work (7);
- a user with a password or token must prove it on the command line (8);
- every decision goes through one permission check: no ghosts (9);
- a database URL of another kind names what klopt supports.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select

from helpers import PG_URL, REGISTER_YAML, STORE_BACKENDS, Klopt, database_url, write
from klopt.accounts.organizations import create_organization
from klopt.accounts.permissions import ACTIONS, ROLES, authorize
from klopt.accounts.users import add_user, authenticate, create_token, grant, revoke_token
from klopt.errors import Busy, NotAllowed, NotFound, ReadOnlyStore, ValueTooLong
from klopt.store import Store, open_store
from klopt.store.locks import hold, is_held
from klopt.store.models import AuditEvent, Judgement, Post

MENTIONS = """id,created_at,author,body
m1,2026-09-02T10:00:00Z,u1,Mijn pakket kwam binnen 24 uur. Top!
m2,2026-09-03T10:00:00Z,u2,Al vier dagen wachten op mijn bestelling.
m3,2026-09-04T10:00:00Z,u3,Retourneren was gratis en makkelijk.
m4,2026-09-05T10:00:00Z,u4,De klantenservice reageerde pas na een week.
"""


def _cli(klopt: Klopt, tmp_path: Path) -> None:
    """An organisation with the small register and four mentions, nobody a member."""
    klopt("init", "Voorbeeld BV")
    write(tmp_path, "promises.yaml", REGISTER_YAML)
    klopt("promises", "import", str(tmp_path / "promises.yaml"))
    write(tmp_path, "m.csv", MENTIONS)
    klopt("mentions", "import", str(tmp_path / "m.csv"), "--id-column", "id",
          "--text-column", "body", "--time-column", "created_at")  # fmt: skip


# --- 3: over-long values -------------------------------------------------------------------


def test_an_over_long_value_is_refused_alike_on_both_backends(store: Store) -> None:
    row = {
        "organization_id": 1, "kind": "mention", "platform": "x", "content_hash": "0" * 64,
        "text": "hallo", "raw": {}, "external_id": "ok",
    }  # fmt: skip
    with pytest.raises(ValueTooLong) as caught, store.session() as session:
        session.execute(insert(Post), [row, {**row, "external_id": "i" * 201}])
    assert "post.external_id is 201 characters long; at most 200 fit" in str(caught.value)
    with store.session() as session:  # the whole statement was refused: nothing half-stored
        assert session.scalar(select(func.count()).select_from(Post)) == 0
    with pytest.raises(ValueTooLong, match="user.display_name is 201 characters long"):
        add_user(store, "lang", display_name="d" * 201, actor="tester")  # the ORM path too


def test_init_with_a_20000_character_name_says_what_fits(klopt: Klopt) -> None:
    out = klopt("init", "x" * 20_000, code=1).output
    assert "20000 characters is too long; at most 100 fit" in out
    assert "Traceback" not in out
    out = klopt("--lang", "nl", "init", "x" * 20_000, code=1).output
    assert "te lang; er passen er hoogstens 100" in out


# --- 5: two judges at once -----------------------------------------------------------------


def test_a_second_judge_says_another_is_running(klopt: Klopt, tmp_path: Path) -> None:
    _cli(klopt, tmp_path)
    store = open_store(klopt.db)
    with hold(store, "judge-org-1"):  # what a judge in another process holds
        out = klopt("judge", "--embedder", "hashing", code=4).output
        assert "Another klopt judge is judging this organisation's mentions" in out
        assert "--wait" in out and "Traceback" not in out
    assert "Judged 4 posts" in klopt("judge", "--embedder", "hashing").output
    store.close()


@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_the_judge_lock_is_one_per_organisation_and_dies_with_its_process(
    backend: str, tmp_path: Path
) -> None:
    store = open_store(database_url(backend, tmp_path))
    script = (
        "import sys, time; from klopt.store import open_store; "
        "from klopt.store.locks import hold\n"
        "with hold(open_store(sys.argv[1]), 'judge-org-1'):\n"
        "    print('held', flush=True); time.sleep(60)"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", script, store.url if backend == "sqlite" else PG_URL],
        stdout=subprocess.PIPE,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
        assert is_held(store, "judge-org-1")
        assert not is_held(store, "judge-org-2")
        with pytest.raises(Busy), hold(store, "judge-org-1", wait=0.3):
            pass
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    with hold(store, "judge-org-1", wait=10):  # gone with the killed process
        pass
    store.close()


@pytest.mark.parametrize("backend", STORE_BACKENDS)
def test_two_judges_started_together_judge_every_post_once(backend: str, tmp_path: Path) -> None:
    url = database_url(backend, tmp_path)
    store = open_store(url)
    create_organization(store, "Voorbeeld BV", language="nl", actor="tester")
    klopt = Klopt(tmp_path)
    klopt.db = url
    write(tmp_path, "promises.yaml", REGISTER_YAML)
    klopt("promises", "import", str(tmp_path / "promises.yaml"))
    rows = "\n".join(
        f"m{i},2026-09-02T10:00:00Z,u{i},Bestelling {i} kwam te laat" for i in range(300)
    )
    write(tmp_path, "m.csv", "id,created_at,author,body\n" + rows + "\n")
    klopt("mentions", "import", str(tmp_path / "m.csv"), "--id-column", "id",
          "--text-column", "body", "--time-column", "created_at")  # fmt: skip
    env = {**os.environ, "KLOPT_DB": url, "KLOPT_USER": "tester"}
    judges = [
        subprocess.Popen(
            [sys.executable, "-m", "klopt", "judge", "--embedder", "hashing", *wait],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for wait in ([], [])
    ]
    outcomes = [(j.wait(timeout=300), j.stderr.read().decode()) for j in judges]  # type: ignore[union-attr]
    for code, err in outcomes:
        assert "Traceback" not in err and "IntegrityError" not in err
        assert code == 0 or (code == 4 and "Another klopt judge" in err), err
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Judgement)) == 300
    # With --wait both finish; the second finds everything judged.
    judges = [
        subprocess.Popen(
            [sys.executable, "-m", "klopt", "judge", "--embedder", "hashing", "--wait"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        for _ in range(2)
    ]
    assert [j.wait(timeout=300) for j in judges] == [0, 0]
    store.close()


# --- 6: a file that is not a database ------------------------------------------------------


def test_a_file_that_is_no_database_is_refused_and_left_untouched(
    klopt: Klopt, tmp_path: Path
) -> None:
    notes = write(tmp_path, "notes.db", "Boodschappen: melk, brood\n" * 10)
    before = notes.read_bytes()
    out = Klopt(tmp_path)
    out.db = f"sqlite:///{notes}"
    text = out("orgs", code=3).output
    assert "is not a SQLite database" in text and "left untouched" in text
    assert "Traceback" not in text
    assert notes.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.db"]  # no -wal, -shm
    assert "geen SQLite-database" in out("--lang", "nl", "judge", code=3).output


# --- 7: a read-only database ---------------------------------------------------------------


def _read_only_urls(tmp_path: Path) -> list[str]:
    urls = [f"sqlite:///file:{tmp_path / 'cli.db'}?mode=ro&uri=true"]
    if PG_URL:
        urls.append(PG_URL + "?options=-c%20default_transaction_read_only%3Don")
    return urls


def test_a_read_only_database_is_refused_before_any_work(klopt: Klopt, tmp_path: Path) -> None:
    _cli(klopt, tmp_path)
    reader = Klopt(tmp_path)
    reader.db = _read_only_urls(tmp_path)[0]
    out = reader("judge", code=3).output
    assert "is read-only for you (mode=ro): this command writes to it, so it was not started" in out
    assert "alleen-lezen" in reader("--lang", "nl", "correct", "m1", "P1", "kept", code=3).output
    assert "voorbeeld-bv" in reader("orgs").output  # reading still works
    assert "P1" in reader("promises", "list").output


@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="KLOPT_TEST_DATABASE_URL is not set")
def test_a_read_only_postgresql_session_is_refused_up_front(tmp_path: Path) -> None:
    url = database_url("postgresql", tmp_path)
    create_organization(open_store(url), "Voorbeeld BV", language="nl", actor="tester")
    reader = Klopt(tmp_path)
    reader.db = _read_only_urls(tmp_path)[1]
    assert "transaction_read_only = on" in reader("judge", code=3).output
    assert "voorbeeld-bv" in reader("orgs").output
    with pytest.raises(ReadOnlyStore):  # the library's own backstop, past the up-front check
        store = open_store(reader.db)
        create_organization(store, "Ander BV", language="nl", actor="tester")


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write a file without write permission")
def test_a_database_file_without_write_permission_is_refused_up_front(
    klopt: Klopt, tmp_path: Path
) -> None:
    _cli(klopt, tmp_path)
    (tmp_path / "cli.db").chmod(0o444)
    try:
        assert "no write permission" in klopt("judge", code=3).output
    finally:
        (tmp_path / "cli.db").chmod(0o644)


# --- 8: proving who acts ---------------------------------------------------------------


def _team(klopt: Klopt, tmp_path: Path) -> None:
    """The CLI organisation with anna (admin, no password) and frank (approver, password)."""
    _cli(klopt, tmp_path)
    klopt("users", "add", "anna")
    klopt("--user", "anna", "users", "grant", "anna", "admin")
    klopt("users", "add", "frank", "--password-stdin", input="geheim-frank\n")
    klopt("--user", "anna", "users", "grant", "frank", "approver")


def test_a_user_with_a_password_must_give_it(klopt: Klopt, tmp_path: Path) -> None:
    _team(klopt, tmp_path)
    out = klopt("--user", "frank", "promises", "retire", "P3", code=1).output
    assert "frank has a password, and it was not given" in out
    assert "--password-stdin" in out and "KLOPT_TOKEN" in out
    out = klopt("--user", "frank", "--password-stdin", "promises", "retire", "P3", code=1,
                input="raden\n").output  # fmt: skip
    assert "That is not the password of frank" in out
    klopt("--user", "frank", "--password-stdin", "promises", "retire", "P3", input="geheim-frank\n")
    assert "retired" in klopt("promises", "show", "P3").output
    actors = _actors(klopt)
    assert actors.count("frank") == 1  # the retirement, and none of the refused tries


def test_a_token_names_and_proves_its_user(
    klopt: Klopt, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _team(klopt, tmp_path)
    made = klopt("--user", "frank", "--password-stdin", "users", "token", "create",
                 "--label", "nachtelijk", input="geheim-frank\n")  # fmt: skip
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("klopt_") and len(token) > 40
    monkeypatch.delenv("KLOPT_USER")
    monkeypatch.setenv("KLOPT_TOKEN", token)
    klopt("promises", "reject", "P3")  # no --user, no password: the token says who
    assert _actors(klopt)[-1] == "frank"
    out = klopt("--user", "anna", "promises", "approve", "P3", code=1).output
    assert "belongs to frank, not to anna" in out
    assert "nachtelijk" in klopt("users", "token", "list").output
    klopt("users", "token", "revoke", "1")
    out = klopt("promises", "approve", "P3", code=1).output
    assert "not a valid klopt token" in out
    store = open_store(klopt.db)
    with pytest.raises(NotAllowed):
        create_token(store, "frank", actor="anna")  # nobody makes a token for another
    with pytest.raises(NotFound):  # nor revokes another's (nor learns that it exists)
        revoke_token(store, 1, actor="anna")
    store.close()


def test_authenticate_checks_only_users_who_can_prove_who_they_are(store: Store) -> None:
    add_user(store, "anna", actor="tester")
    add_user(store, "frank", password="geheim", actor="tester")
    assert authenticate(store, "anna") == "anna"  # nothing to prove it with
    assert authenticate(store, "iemand") == "iemand"  # no user: can act only alone
    assert authenticate(store, "frank", password="geheim") == "frank"
    with pytest.raises(NotAllowed, match="password"):
        authenticate(store, "frank")
    token = create_token(store, "anna", actor="anna")
    with pytest.raises(NotAllowed, match="password"):
        authenticate(store, "anna")  # a token is a credential too: now anna must prove it
    assert authenticate(store, None, token=token) == "anna"


# --- 9: one permission check ---------------------------------------------------------------


def _actors(klopt: Klopt) -> list[str]:
    store = open_store(klopt.db)
    with store.session() as session:
        actors = list(session.scalars(select(AuditEvent.actor).order_by(AuditEvent.id)))
    store.close()
    return actors


def test_a_user_who_does_not_exist_changes_nothing(klopt: Klopt, tmp_path: Path) -> None:
    _team(klopt, tmp_path)
    write(tmp_path, "more.csv", MENTIONS.replace("m1,", "n1,"))
    ghost = ("--user", "ghost")
    for args in [
        ("promises", "approve", "P1"),
        ("promises", "retire", "P1"),
        ("promises", "edit", "P1", "Wij leveren ooit."),
        ("promises", "import", str(tmp_path / "promises.yaml")),
        ("correct", "m1", "P1", "broken"),
        ("judge", "--embedder", "hashing"),
        ("mentions", "import", str(tmp_path / "more.csv"), "--id-column", "id",
         "--text-column", "body"),
        ("sources", "add", "rss", "nieuws", "https://example.org/feed.xml"),
        ("alerts", "check"),
        ("audit",),
    ]:  # fmt: skip
        out = klopt(*ghost, *args, code=1).output
        assert "ghost has no role in this organisation" in out, args
    assert "ghost" not in _actors(klopt)
    assert "Wij leveren binnen 24 uur." in klopt("promises", "show", "P1").output


def test_a_viewer_reads_but_decides_nothing(klopt: Klopt, tmp_path: Path) -> None:
    _team(klopt, tmp_path)
    klopt("users", "add", "vera")
    klopt("--user", "anna", "users", "grant", "vera", "viewer")
    out = klopt("--user", "vera", "promises", "retire", "P1", code=1).output
    assert "vera is viewer" in out and "approver / admin" in out
    klopt("--user", "vera", "audit")


def test_one_person_alone_may_do_everything_but_the_workflow(klopt: Klopt, tmp_path: Path) -> None:
    _cli(klopt, tmp_path)  # nobody is a member: an analyst on their own laptop
    klopt("--user", "wie-dan-ook", "promises", "retire", "P3")
    klopt("--user", "wie-dan-ook", "correct", "m1", "P1", "kept")
    out = klopt("--user", "wie-dan-ook", "drafts", "new", "Hallo", "--no-check", code=1).output
    assert "has no role" in out


@pytest.mark.parametrize("role", ROLES)
def test_the_permission_matrix(store: Store, role: str) -> None:
    add_user(store, "lid", actor="tester")
    add_user(store, "beheer", actor="tester")
    grant(store, None, "beheer", "admin", actor="tester")
    if role != "admin":
        grant(store, None, "lid", role, actor="beheer")
    else:
        grant(store, None, "lid", "admin", actor="beheer")
    with store.session() as session:
        for action, rule in ACTIONS.items():
            if role in rule.roles:
                assert authorize(session, 1, "lid", action) == role
            else:
                with pytest.raises(NotAllowed):
                    authorize(session, 1, "lid", action)
            with pytest.raises(NotAllowed):
                authorize(session, 1, "ghost", action)


# --- a database klopt does not store in ----------------------------------------------------


def test_a_mysql_url_names_the_databases_klopt_supports(klopt: Klopt) -> None:
    other = Klopt(Path("."))
    other.db = "mysql://klopt@localhost/klopt"
    out = other("orgs", code=3).output
    assert "does not store in mysql databases" in out
    assert "SQLite" in out and "PostgreSQL" in out


def test_the_lock_waits_for_its_holder(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    script = (
        "import sys, time; from klopt.store import open_store; "
        "from klopt.store.locks import hold\n"
        "with hold(open_store(sys.argv[1]), 'x'):\n"
        "    print('held', flush=True); time.sleep(1); print(time.time(), flush=True)"
    )
    holder = subprocess.Popen([sys.executable, "-c", script, store.url], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline().strip() == b"held"
    with hold(store, "x", wait=30):
        acquired = time.time()
    last_held = float(holder.stdout.readline())  # the holder's last moment with the lock
    assert acquired >= last_held
    assert holder.wait(timeout=30) == 0
    assert sorted(p.name for p in tmp_path.glob("*.lock")) == []  # no lock files pile up
    store.close()


def test_security_md_shows_the_permission_table() -> None:
    from klopt.accounts.permissions import permissions_markdown

    docs = (Path(__file__).parents[1] / "docs" / "security.md").read_text(encoding="utf-8")
    assert permissions_markdown() in docs


def test_a_user_sets_a_password_and_from_then_on_must_give_it(klopt: Klopt, tmp_path: Path) -> None:
    _team(klopt, tmp_path)
    out = klopt("--user", "anna", "users", "password", "--password-stdin", input="anna-1\n").output
    assert "The password of anna is set" in out
    assert (
        "anna has a password" in klopt("--user", "anna", "promises", "retire", "P3", code=1).output
    )
    klopt("--user", "anna", "--password-stdin", "users", "password", "--password-stdin",
          input="anna-1\nanna-2\n")  # fmt: skip
    klopt("--user", "anna", "--password-stdin", "promises", "retire", "P3", input="anna-2\n")
    assert "retired" in klopt("promises", "show", "P3").output


def test_the_password_comes_first_when_the_draft_text_is_read_from_standard_input(
    klopt: Klopt, tmp_path: Path
) -> None:
    _team(klopt, tmp_path)
    klopt("users", "add", "eva", "--password-stdin", input="eva-geheim\n")
    klopt("--user", "anna", "users", "grant", "eva", "editor")
    out = klopt("--user", "eva", "--password-stdin", "drafts", "new", "-", "--no-check",
                input="eva-geheim\nVandaag besteld, morgen in huis.\n").output  # fmt: skip
    assert "D1" in out
    shown = klopt("--user", "anna", "drafts", "show", "D1").output
    assert "Vandaag besteld, morgen in huis." in shown and "eva-geheim" not in shown
