"""The evaluation harness: file formats, errors with file and line, exact metrics."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from klopt.errors import EmptyInput, InputError, MissingColumn, UnknownPromise
from klopt.judging.evaluation import (
    PRF,
    class_scores,
    evaluate,
    linking_scores,
    load_case_file,
    load_promise_file,
    report_to_json,
)
from klopt.judging.judge import JudgeConfig

PROMISE_YAML = """\
organization: Voorbeeld BV
language: nl
promises:
  - id: P1
    text: Wij leveren binnen 24 uur.
    paraphrases: [Morgen in huis.]
    theme: delivery
    kind: measurable
  - {id: P2, text: Onze klantenservice helpt je vriendelijk en snel.}
"""

CASES_CSV = """\
id,text,labels,sentiment,lang
c1,Pakket na een week nog niet bezorgd,P1:broken,negative,nl
c2,"Klantenservice super vriendelijk, en pakket morgen al binnen",P2:kept|P1:kept,positive,nl
c3,Mooi weer vandaag,,neutral,
c4,Vraagje over mijn bestelling,P1:neutral,,nl
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_promise_file(tmp_path: Path) -> None:
    promises = load_promise_file(write(tmp_path, "p.yaml", PROMISE_YAML))
    assert promises.organization == "Voorbeeld BV" and promises.language == "nl"
    assert promises.ids() == ["P1", "P2"]
    assert promises.promises[0].paraphrases == ("Morgen in huis.",)
    assert promises.promises[0].theme is None  # themes in the file are ignored by default
    kept = load_promise_file(tmp_path / "p.yaml", keep_themes=True)
    assert kept.promises[0].theme == "delivery"


def test_an_exported_register_is_measured_on_its_approved_promises(tmp_path: Path) -> None:
    text = (
        "promises:\n"
        "  - {id: P1, text: Wij leveren binnen 24 uur., status: approved}\n"
        "  - {id: P2, text: Onze missie is eenvoudig., status: proposed}\n"
        "  - {id: P3, text: Gratis retour., status: merged}\n"
        "  - {id: P4, text: Wij reageren binnen 2 uur.}\n"
    )
    assert load_promise_file(write(tmp_path, "p.yaml", text)).ids() == ["P1", "P4"]
    none_approved = "promises:\n  - {id: P2, text: Onze missie., status: rejected}\n"
    with pytest.raises(EmptyInput, match="no approved promises"):
        load_promise_file(write(tmp_path, "q.yaml", none_approved))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("promises: []\n", EmptyInput),
        ("promises:\n  - {id: P1}\n", InputError),
        ("promises:\n  - {id: P1, text: a}\n  - {id: P1, text: b}\n", InputError),
        ("promises: [\n", InputError),
    ],
)
def test_bad_promise_files(tmp_path: Path, text: str, error: type[Exception]) -> None:
    with pytest.raises(error):
        load_promise_file(write(tmp_path, "p.yaml", text))


def test_load_case_file(tmp_path: Path) -> None:
    cases = load_case_file(write(tmp_path, "c.csv", CASES_CSV), promise_ids={"P1", "P2"})
    assert [c.id for c in cases] == ["c1", "c2", "c3", "c4"]
    assert cases[1].labels == {"P2": "kept", "P1": "kept"}
    assert cases[2].labels == {} and cases[2].lang is None
    assert cases[3].sentiment is None
    assert cases[0].line == 2


@pytest.mark.parametrize(
    ("row", "error", "message"),
    [
        ("c9,text,P1:happy,,", InputError, "line 3.*unknown stance"),
        ("c9,text,P7:kept,,", UnknownPromise, "line 3.*P7"),
        ("c9,text,P1,,", InputError, "line 3.*promise_id:stance"),
        ("c9,text,,great,", InputError, "line 3.*sentiment"),
        ("c9,,,,", InputError, "line 3.*empty"),
    ],
)
def test_bad_case_rows_name_file_and_line(
    tmp_path: Path, row: str, error: type[Exception], message: str
) -> None:
    text = "id,text,labels,sentiment,lang\nc1,ok,P1:kept,,\n" + row + "\n"
    path = write(tmp_path, "c.csv", text)
    with pytest.raises(error, match=message) as caught:
        load_case_file(path, promise_ids={"P1"})
    assert str(path) in str(caught.value)


def test_case_file_missing_column(tmp_path: Path) -> None:
    with pytest.raises(MissingColumn, match="labels"):
        load_case_file(write(tmp_path, "c.csv", "id,text\n1,a\n"))


def test_empty_case_file(tmp_path: Path) -> None:
    with pytest.raises(EmptyInput):
        load_case_file(write(tmp_path, "c.csv", "id,text,labels,sentiment,lang\n"))


def test_missing_case_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="Cannot read"):
        load_case_file(tmp_path / "nope.csv")


def test_linking_scores_are_exact() -> None:
    gold = [{"P1"}, {"P1", "P2"}, set(), {"P2"}]
    pred = [{"P1"}, {"P1"}, {"P2"}, set()]
    micro, macro, per = linking_scores(["P1", "P2", "P3"], gold, pred)
    assert micro == PRF(2 / 3, 0.5, pytest.approx(4 / 7), 4)  # type: ignore[arg-type]
    assert per["P1"][0] == PRF(1.0, 1.0, 1.0, 2) and per["P1"][1] == 2
    assert per["P2"][0] == PRF(0.0, 0.0, 0.0, 2)
    assert "P3" not in per
    assert macro.f1 == pytest.approx(0.5) and macro.precision == pytest.approx(0.5)


def test_class_scores_are_exact() -> None:
    report = class_scores(
        ["kept", "kept", "broken", "neutral"],
        ["kept", "broken", "broken", "kept"],
        ("kept", "broken", "neutral"),
    )
    assert report.accuracy == pytest.approx(0.5) and report.n == 4
    assert report.per_class["kept"].f1 == pytest.approx(0.5)
    assert report.per_class["broken"].f1 == pytest.approx(2 / 3)
    assert report.macro_f1 == pytest.approx((0.5 + 2 / 3 + 0.0) / 3)
    assert report.confusion["neutral"]["kept"] == 1


def test_evaluate_end_to_end_with_the_hashing_embedder(tmp_path: Path) -> None:
    promises = load_promise_file(write(tmp_path, "p.yaml", PROMISE_YAML))
    cases = load_case_file(write(tmp_path, "c.csv", CASES_CSV), promise_ids=promises.ids())
    seen: list[int] = []
    report = evaluate(
        promises,
        cases,
        train=cases[:2],
        embedder="hashing",
        config=JudgeConfig(label_backends=()),
        progress=seen.append,
    )
    data = report_to_json(report)
    assert data["cases"] == 4 and sum(seen) == 4
    assert set(data["linking"]) >= {"micro", "macro", "per_promise"}
    assert set(data["linking"]["micro"]) == {"precision", "recall", "f1"}
    assert set(data["stance"]) >= {"accuracy", "macro_f1", "n"} and data["stance"]["n"] == 4
    assert data["sentiment"]["n"] == 3
    assert data["cases_per_second"] > 0 and report.train_cases == 2
    assert set(report.themes) <= {"P1", "P2"}
    json.dumps(data)


def test_evaluate_rejects_unknown_promise_in_training(tmp_path: Path) -> None:
    promises = load_promise_file(write(tmp_path, "p.yaml", PROMISE_YAML))
    cases = load_case_file(write(tmp_path, "c.csv", CASES_CSV))
    other = load_case_file(write(tmp_path, "t.csv", "id,text,labels\nx,a,P9:kept\n"))
    with pytest.raises(UnknownPromise, match="P9"):
        evaluate(promises, cases, train=other, embedder="hashing")
