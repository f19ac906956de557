"""/api/v1/mentions: the list with verdicts and evidence, corrections, and mentions sent in
as JSON or NDJSON (the same mapping, dedup and row problems as `klopt mentions import`)."""

from __future__ import annotations

import json
from typing import Any

from web_helpers import ORG

from klopt.judging.inbox import find_mention, mention_json
from klopt.judging.verdicts import list_verdicts
from klopt.store import Store

NDJSON = {"Content-Type": "application/x-ndjson"}


def _all(client: Any, query: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = ""
    while True:
        answer = client.get(f"/api/v1/mentions?{query}{cursor}")
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items += body["items"]
        if not body["next_cursor"]:
            return items
        cursor = f"&cursor={body['next_cursor']}"


def test_the_list_gives_each_mention_with_its_verdicts_like_the_cli(
    api: Any, web_store: Store
) -> None:
    answer = api("vera").get("/api/v1/mentions?promise=P1&stance=broken&order=newest&limit=5")
    assert answer.status_code == 200
    body = answer.json()
    assert len(body["items"]) == 5 and body["next_cursor"] and body["order"] == "newest"
    # the same mentions, fields and values as `klopt mentions list --json` (list_verdicts)
    cli = list_verdicts(web_store, ORG, promise_key="P1", stance="broken", limit=5)
    for item, view in zip(body["items"], cli, strict=True):
        verdict = next(v for v in item["verdicts"] if v["promise"] == "P1")
        assert item["post"] == view.post and item["text"] == view.text
        assert (item["platform"], item["author"], item["url"]) == (
            view.platform, view.author, view.url,
        )  # fmt: skip
        assert verdict["stance"] == view.stance == "broken"
        assert verdict["confidence"] == view.confidence and not verdict["by_person"]
        assert verdict["evidence"] == view.evidence
        assert set(verdict["evidence"]) >= {"promise_sentence", "words", "similarity"}
        assert item["posted_at"].startswith(str(view.posted_at.date()))  # type: ignore[union-attr]
        assert isinstance(item["id"], int) and "reach" in item and "doubt" in item
        assert item["doubt"] == mention_json(find_mention(web_store, ORG, item["id"]))["doubt"]


def test_the_cursor_walks_every_mention_once(api: Any) -> None:
    bob = api("bob")
    items = _all(bob, "limit=60")
    ids = [item["id"] for item in items]
    assert len(ids) == len(set(ids)) == 225
    newest = _all(bob, "limit=100&order=newest")
    times = [item["posted_at"] for item in newest]
    assert times == sorted(times, reverse=True)
    chosen = sorted(ids)[:4]
    picked = bob.get("/api/v1/mentions?ids=" + ",".join(map(str, chosen))).json()["items"]
    assert sorted(item["id"] for item in picked) == chosen


def test_a_ranked_page_says_when_it_weighs_only_the_newest(api: Any, monkeypatch: Any) -> None:
    import klopt.judging.inbox as library

    bob = api("bob")
    assert bob.get("/api/v1/mentions").json()["ranked_since"] is None
    monkeypatch.setattr(library, "RANK_WINDOW", 30)
    newest = bob.get("/api/v1/mentions?order=newest&limit=30").json()["items"]
    ranked = _all(bob, "order=uncertainty&limit=7")
    assert sorted(i["id"] for i in ranked) == sorted(i["id"] for i in newest)
    since = bob.get("/api/v1/mentions?order=uncertainty").json()["ranked_since"]
    assert since == newest[-1]["posted_at"]


def test_a_correction_by_the_api_shows_at_once(api: Any, web_store: Store) -> None:
    bob = api("bob")
    item = bob.get("/api/v1/mentions?stance=kept&limit=1").json()["items"][0]
    key = next(v["promise"] for v in item["verdicts"] if v["stance"] == "kept")
    answer = bob.post(
        f"/api/v1/mentions/{item['id']}/corrections", json={"promise": key, "stance": "broken"}
    )
    assert answer.status_code == 201, answer.text
    verdict = next(v for v in answer.json()["verdicts"] if v["promise"] == key)
    assert verdict == {**verdict, "stance": "broken", "by_person": True, "engine_stance": "kept"}
    broken = _all(bob, f"promise={key}&stance=broken&limit=200")
    assert item["id"] in [i["id"] for i in broken]
    assert item["id"] not in [i["id"] for i in _all(bob, f"promise={key}&stance=kept&limit=200")]
    none = bob.post(f"/api/v1/mentions/{item['id']}/corrections", json={"stance": "none"})
    assert none.status_code == 201 and none.json()["verdicts"] == []
    assert key in none.json()["not_about"]


def test_a_viewer_may_not_correct_and_another_organisation_gets_404(
    api: Any, web_store: Store
) -> None:
    item = api("bob").get("/api/v1/mentions?promise=P1&limit=1").json()["items"][0]
    url = f"/api/v1/mentions/{item['id']}/corrections"
    refused = api("vera").post(url, json={"promise": "P1", "stance": "broken"})
    assert refused.status_code == 403
    assert refused.json()["error"]["message"] and refused.json()["error"]["code"]
    olga = api("olga")
    missing = olga.post(url, json={"promise": "P1", "stance": "broken"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "inbox.unknown_mention"
    assert olga.get(f"/api/v1/mentions/{item['id']}").status_code == 404
    assert olga.get(f"/api/v1/mentions?ids={item['id']}").json()["items"] == []
    assert olga.get("/api/v1/mentions").json()["items"] == []
    still = find_mention(web_store, ORG, item["id"]).verdicts
    assert not any(v.by_person for v in still)


def test_bad_requests_get_a_4xx_json_error(api: Any) -> None:
    bob = api("bob")
    for url in (
        "/api/v1/mentions?stance=great",
        "/api/v1/mentions?limit=0",
        "/api/v1/mentions?limit=201",
        "/api/v1/mentions?since=tomorrow",
        "/api/v1/mentions?since=0001-01-01T00:00:00%2B01:00",
        "/api/v1/mentions?cursor=garbage",
        "/api/v1/mentions?ids=1,two",
        "/api/v1/mentions?ids=99999999999",
        "/api/v1/mentions?promise=%00",
        "/api/v1/mentions?promise=P99",
        "/api/v1/mentions?source=nowhere",
    ):
        answer = bob.get(url)
        assert 400 <= answer.status_code < 500, (url, answer.status_code, answer.text)
        assert answer.json()["error"]["message"], url
    newest = bob.get("/api/v1/mentions?order=newest&limit=1").json()["next_cursor"]
    wrong_order = bob.get(f"/api/v1/mentions?order=priority&cursor={newest}")
    assert wrong_order.status_code == 422
    assert wrong_order.json()["error"]["code"] == "inbox.bad_cursor"
    item = bob.get("/api/v1/mentions?limit=1").json()["items"][0]
    url = f"/api/v1/mentions/{item['id']}/corrections"
    for body in ({"stance": "great"}, {"promise": "P1"}, {"promise": "", "stance": "kept"},
                 {"promise": "P1", "stance": "kept", "extra": 1}, {"stance": "kept"},
                 {"promise": "P99", "stance": "kept"}, [1, 2]):  # fmt: skip
        answer = bob.post(url, json=body)
        assert 400 <= answer.status_code < 500, (body, answer.text)
        assert answer.json()["error"]["message"], body
    assert bob.post(url, content=b"{not json", headers={"Content-Type": "application/json"}
                    ).status_code == 422  # fmt: skip
    assert bob.post("/api/v1/mentions/0/corrections", json={"stance": "none"}).status_code == 422


def test_json_is_imported_with_dedup_and_row_problems(api: Any, web_store: Store) -> None:
    bob = api("bob")
    mentions = [
        {"text": "Pakket na drie dagen nog niet binnen", "id": "a1", "time": "2026-11-02T10:00:00Z",
         "author": "kim", "platform": "x", "reach": 40},
        {"text": "Retour ging snel en gratis", "id": "a2", "time": "1762077600"},
        {"text": "", "id": "a3"},
        {"text": "Wanneer komt mijn fiets?", "reach": "veel"},
        "not an object",
        {"text": "Geen tijd", "time": "gisteren"},
        {"text": "Heel veel bereik", "reach": 10**12},
    ]  # fmt: skip
    first = bob.post("/api/v1/mentions", json={"mentions": mentions})
    assert first.status_code == 200, first.text
    body = first.json()
    assert (body["read"], body["new"], body["duplicates"], body["skipped"]) == (7, 2, 0, 5)
    problems = {p["row"]: (p["code"], p["message"]) for p in body["problems"]}
    assert set(problems) == {3, 4, 5, 6, 7} and {p["where"] for p in body["problems"]} == {"record"}
    assert problems[3] == ("empty_text", "the text column 'text' is empty")
    assert problems[4][0] == "bad_reach" and problems[5][0] == "not_an_object"
    assert problems[6][0] == "bad_time" and problems[7][0] == "reach_too_large"
    again = bob.post("/api/v1/mentions", json=mentions).json()  # a plain array, sent again
    assert (again["new"], again["duplicates"]) == (0, 2)
    stored = bob.get("/api/v1/mentions?platform=x&order=newest&limit=1").json()["items"][0]
    assert (stored["post"], stored["author"], stored["reach"]) == ("a1", "kim", 40)
    assert stored["posted_at"].startswith("2026-11-02T10:00:00")
    other = bob.get("/api/v1/mentions?platform=api&order=newest").json()["items"]
    assert [i["post"] for i in other] == ["a2"]


def test_ndjson_is_imported_line_by_line_and_field_names_can_be_mapped(api: Any) -> None:
    bob = api("bob")
    lines = [
        json.dumps({"body": "Reparatie duurde twee weken", "nr": "n1", "who": "jan"}),
        "",
        "{broken json",
        json.dumps({"body": "Klantenservice reageerde binnen het uur\u2028echt top", "nr": "n2"}),
        "[1, 2]",
    ]
    url = "/api/v1/mentions?text_field=body&id_field=nr&author_field=who&platform=Forum"
    answer = bob.post(url, content="\n".join(lines).encode(), headers=NDJSON)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["format"], body["new"], body["skipped"]) == ("ndjson", 2, 2)
    assert [(p["row"], p["where"], p["code"]) for p in body["problems"]] == [
        (3, "line", "bad_json"), (5, "line", "not_an_object"),
    ]  # fmt: skip
    items = bob.get("/api/v1/mentions?platform=forum&order=newest").json()["items"]
    assert {(i["post"], i["author"]) for i in items} == {("n1", "jan"), ("n2", None)}
    dutch = bob.post(url, content=lines[2].encode(), headers={**NDJSON, "Accept-Language": "nl"})
    assert dutch.json()["problems"][0]["message"].startswith("geen geldige JSON")


def test_an_unusable_body_is_a_4xx_and_stores_nothing(api: Any, web_store: Store) -> None:
    bob = api("bob")
    before = len(_all(bob, "limit=200"))
    cases = [
        (b'[{"text": "x"', "application/json", 422, "inbox.bad_json"),
        (b'{"text": "one"}', "application/json", 422, "inbox.no_records"),
        (b"   ", "application/json", 422, "inbox.empty_body"),
        (b"\xff\xfe{", "application/x-ndjson", 422, "inbox.not_utf8"),
        (b'[{"text": NaN}]', "application/json", 422, "inbox.bad_json"),
        (b"[" * 5000 + b"]" * 5000, "application/json", 422, "inbox.bad_json"),
        (b"text=hello", "text/plain", 422, "inbox.media_type"),
        (b'[{"body": "no text field"}]', "application/json", 422, "mentions.missing_column"),
    ]
    for body, media, status, code in cases:
        answer = bob.post("/api/v1/mentions", content=body, headers={"Content-Type": media})
        assert answer.status_code == status, (body[:30], answer.text)
        error = answer.json()["error"]
        assert error["code"] == code and error["message"] and error["hint"], (body[:30], error)
    assert len(_all(bob, "limit=200")) == before


def test_odd_values_in_a_body_are_row_problems_not_server_errors(api: Any) -> None:
    bob = api("bob")
    rows = [
        {"text": "lone surrogate \ud800 here", "id": "s1"},
        {"text": "far past", "time": "0001-01-01T00:00:00+05:00"},
        {"text": "far future", "time": "999999999999"},
        {"text": "nul\u0000in text", "id": "nul\u0000id"},
        {"text": "long id", "id": "x" * 500},
        {"text": {"nested": "object"}},
    ]
    body = json.dumps(rows).encode()  # json.dumps writes the lone surrogate as \ud800
    answer = bob.post("/api/v1/mentions", content=body,
                      headers={"Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    result = answer.json()
    assert result["read"] == 6 and result["new"] + result["skipped"] == 6
    assert {p["row"] for p in result["problems"]} >= {2, 3, 5}
    stored = bob.get("/api/v1/mentions?platform=api&order=newest&limit=50").json()["items"]
    assert any(i["text"] == "lone surrogate \ufffd here" for i in stored)


def test_only_workers_may_import_and_the_body_has_a_limit(api: Any, app: Any) -> None:
    refused = api("vera").post("/api/v1/mentions", json=[{"text": "hallo"}])
    assert refused.status_code == 403 and refused.json()["error"]["message"]
    app.state.upload_limit = 100
    large = api("bob").post("/api/v1/mentions", json=[{"text": "x" * 200}])
    assert large.status_code == 413 and large.json()["error"]["code"] == "inbox.too_large"


def test_the_openapi_document_describes_the_bodies_and_answers(api: Any) -> None:
    doc = api("bob").get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    listing = paths["/api/v1/mentions"]["get"]
    params = {p["name"]: p for p in listing["parameters"]}
    assert {"promise", "stance", "since", "until", "limit", "cursor", "ids"} <= set(params)
    assert params["limit"]["schema"]["maximum"] == 200
    page = doc["components"]["schemas"]["MentionPage"]
    assert set(page["properties"]) == {"items", "next_cursor", "order", "ranked_since"}
    send = paths["/api/v1/mentions"]["post"]
    assert {"application/json", "application/x-ndjson"} <= set(send["requestBody"]["content"])
    correction = paths["/api/v1/mentions/{mention_id}/corrections"]["post"]
    assert {"201", "403", "404", "422"} <= set(correction["responses"])
    body = doc["components"]["schemas"]["CorrectionIn"]
    assert body["properties"]["stance"]["enum"] == ["kept", "broken", "neutral", "none"]
