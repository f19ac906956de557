"""Reading source documents: real files of every kind, built in the test, exact results."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from helpers import write
from klopt.errors import (
    BadEncoding,
    CookieWall,
    EmptyInput,
    UnreadableDocument,
    UnsupportedFileType,
)
from klopt.register import documents
from klopt.register.documents import (
    Block,
    DocumentText,
    Reader,
    ReadResult,
    read_document,
    register_reader,
    sentence_spans,
    supported_suffixes,
)

BROCHURE_MD = """\
---
title: Brochure Voorbeeld BV
---
# Voorbeeld BV

Voorbeeld BV is opgericht in 1952 door J. Jansen. Wij leveren o.a. fietsen, bijv. \
e-bikes. Een abonnement kost ca. € 9,95 per maand.

## Onze beloften

Wij beloven u:

- levering binnen **24 uur**
- gratis retour

Wij beloven u: • levering binnen 24 uur • gratis retour

```
code is no text
```
"""

TEXT_EN = """\
Our promises
============

Mr. Smith founded the company in 1990. We deliver within 24 hours, e.g. on Saturdays.
The price is 3.5 times lower than elsewhere.

What you get

- Free returns within 30 days.
- A 2-year warranty on every part.
"""

HTML_PAGE = """\
<!doctype html>
<html><head><title>Voorbeeld Fietsen | Service</title>
<style>body { color: red }</style><script>var x = "Wij beloven niets.";</script></head>
<body>
<header><a href="/">Home</a></header>
<nav><ul><li>Producten</li><li>Contact</li></ul></nav>
<div id="cookie-banner">Wij gebruiken cookies. <button>Accepteren</button></div>
<main>
  <h1>Onze service</h1>
  <p>Wij leveren binnen 24 uur.</p>
  <p>Wij beloven u:</p>
  <ul><li>gratis retour</li><li>2 jaar garantie</li></ul>
  <aside>Lees ook onze blog.</aside>
</main>
<footer>&copy; 2026 Voorbeeld BV. Alle rechten voorbehouden.</footer>
</body></html>
"""


def _check_offsets(doc: DocumentText) -> None:
    for number, sentence in enumerate(doc.sentences):
        assert sentence.index == number
        assert doc.text[sentence.start : sentence.end] == sentence.text


def test_markdown_brochure(tmp_path: Path) -> None:
    path = write(tmp_path, "brochure.md", BROCHURE_MD)
    doc = read_document(path)
    _check_offsets(doc)
    assert (doc.kind, doc.title, doc.language) == ("markdown", "Brochure Voorbeeld BV", "nl")
    assert doc.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    rows = [(s.text, s.section, s.lead_in) for s in doc.sentences]
    assert rows == [
        ("Voorbeeld BV is opgericht in 1952 door J. Jansen.", "Voorbeeld BV", None),
        ("Wij leveren o.a. fietsen, bijv. e-bikes.", "Voorbeeld BV", None),
        ("Een abonnement kost ca. € 9,95 per maand.", "Voorbeeld BV", None),
        ("Wij beloven u:", "Onze beloften", None),
        ("levering binnen 24 uur", "Onze beloften", "Wij beloven u:"),
        ("gratis retour", "Onze beloften", "Wij beloven u:"),
        ("Wij beloven u:", "Onze beloften", None),
        ("levering binnen 24 uur", "Onze beloften", "Wij beloven u:"),
        ("gratis retour", "Onze beloften", "Wij beloven u:"),
    ]
    assert all(s.page is None for s in doc.sentences)
    assert "code is no text" not in doc.text
    assert "• levering binnen 24 uur\n• gratis retour" in doc.text


def test_plain_text_english(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "promises.txt", TEXT_EN))
    _check_offsets(doc)
    assert (doc.kind, doc.title, doc.language, doc.notes) == ("text", "Our promises", "en", ())
    rows = [(s.text, s.section) for s in doc.sentences]
    assert rows == [
        ("Mr. Smith founded the company in 1990.", "Our promises"),
        ("We deliver within 24 hours, e.g. on Saturdays.", "Our promises"),
        ("The price is 3.5 times lower than elsewhere.", "Our promises"),
        ("Free returns within 30 days.", "What you get"),
        ("A 2-year warranty on every part.", "What you get"),
    ]


def test_html_keeps_main_content_only(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "service.html", HTML_PAGE))
    _check_offsets(doc)
    assert (doc.kind, doc.title, doc.language) == ("html", "Voorbeeld Fietsen | Service", "nl")
    rows = [(s.text, s.section, s.lead_in) for s in doc.sentences]
    assert rows == [
        ("Wij leveren binnen 24 uur.", "Onze service", None),
        ("Wij beloven u:", "Onze service", None),
        ("gratis retour", "Onze service", "Wij beloven u:"),
        ("2 jaar garantie", "Onze service", "Wij beloven u:"),
    ]
    for noise in ("cookies", "Producten", "Home", "rechten", "blog", "var x", "color"):
        assert noise not in doc.text


def test_html_without_main_uses_the_body(tmp_path: Path) -> None:
    page = "<html><body><nav>Menu</nav><p>Wij leveren binnen 24 uur.</p></body></html>"
    doc = read_document(write(tmp_path, "page.htm", page))
    assert [s.text for s in doc.sentences] == ["Wij leveren binnen 24 uur."]
    assert doc.title == "page"


def test_html_cookie_wall_is_a_clear_error(tmp_path: Path) -> None:
    page = '<html><body><div class="consent-wall"><p>Accepteer cookies.</p></div></body></html>'
    with pytest.raises(CookieWall) as caught:
        read_document(write(tmp_path, "wall.html", page))
    assert str(caught.value) == (
        "wall.html holds only a cookie notice, no main text. Open the page in a browser, "
        "accept or refuse the cookies, save the page again and add that file."
    )
    assert isinstance(caught.value, EmptyInput)


def _two_page_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_title("Brochure 2026")
    pdf.set_auto_page_break(False)
    pages = [
        (
            "Onze beloften",
            [
                "Voorbeeld BV is opgericht in 1952. Wij leveren binnen 24 uur, "
                "ook in het weekend, en wij zorgen ervoor dat elke klant een vaste "
                "contactpersoon heeft die de bestelling van begin tot eind volgt.",
                "",
                "Wij beloven u:",
                "- gratis retour",
                "- 2 jaar garantie",
            ],
        ),
        (
            "Contact",
            [
                "Heeft u vragen? Bel 030-1234567.",
                "",
                "Wij reageren altijd binnen twee uur op uw e-mail.",
            ],
        ),
    ]
    for number, (heading, paragraphs) in enumerate(pages, 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.multi_cell(0, 10, heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 11)
        for text in paragraphs:
            if text:
                pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
            else:
                pdf.ln(6)
        pdf.set_y(-15)
        pdf.cell(0, 10, str(number), align="C")
    return bytes(pdf.output())


def test_pdf_pages_and_sections(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "brochure.pdf", _two_page_pdf()))
    _check_offsets(doc)
    assert (doc.kind, doc.title, doc.language) == ("pdf", "Brochure 2026", "nl")
    rows = [(s.text, s.section, s.page, s.lead_in) for s in doc.sentences]
    assert rows == [
        ("Voorbeeld BV is opgericht in 1952.", "Onze beloften", 1, None),
        (
            "Wij leveren binnen 24 uur, ook in het weekend, en wij zorgen ervoor dat elke klant "
            "een vaste contactpersoon heeft die de bestelling van begin tot eind volgt.",
            "Onze beloften",
            1,
            None,
        ),
        ("Wij beloven u:", "Onze beloften", 1, None),
        ("gratis retour", "Onze beloften", 1, "Wij beloven u:"),
        ("2 jaar garantie", "Onze beloften", 1, "Wij beloven u:"),
        ("Heeft u vragen?", "Contact", 2, None),
        ("Bel 030-1234567.", "Contact", 2, None),
        ("Wij reageren altijd binnen twee uur op uw e-mail.", "Contact", 2, None),
    ]


def test_pdf_running_headers_are_dropped(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for number in range(1, 4):
        pdf.add_page()
        pdf.set_font("Helvetica", "", 8)
        pdf.cell(0, 5, f"Voorbeeld BV - Brochure 2026 - pagina {number} van 3")
        pdf.ln(15)
        pdf.set_font("Helvetica", "", 11)
        pdf.multi_cell(0, 6, BODIES[number - 1], new_x="LMARGIN", new_y="NEXT")
    doc = read_document(write(tmp_path, "kop.pdf", bytes(pdf.output())))
    assert "pagina" not in doc.text
    assert [(s.text, s.page) for s in doc.sentences] == [
        (body, number) for number, body in enumerate(BODIES, 1)
    ]


BODIES = [
    "Wij leveren binnen 24 uur.",
    "Retourneren is gratis.",
    "Onze klantenservice reageert binnen 2 uur, ook in het weekend.",
]


def test_encrypted_pdf(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_two_page_pdf())))
    writer.encrypt("geheim")
    buffer = io.BytesIO()
    writer.write(buffer)
    path = write(tmp_path, "locked.pdf", buffer.getvalue())
    with pytest.raises(UnreadableDocument, match="encrypted with a password") as caught:
        read_document(path)
    assert "unprotected copy" in str(caught.value)


def test_corrupt_pdf(tmp_path: Path) -> None:
    path = write(tmp_path, "broken.pdf", b"%PDF-1.7\nthis is not really a PDF at all\n")
    with pytest.raises(UnreadableDocument, match="broken.pdf is not a readable PDF"):
        read_document(path)


def test_pdf_without_text_layer(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # what a scan looks like to a text extractor
    path = write(tmp_path, "scan.pdf", bytes(pdf.output()))
    with pytest.raises(UnreadableDocument, match="no text layer — scanned\\? run OCR first"):
        read_document(path)


@pytest.mark.parametrize("content", [b"", b"  \n\t\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(EmptyInput, match="empty.txt is empty"):
        read_document(write(tmp_path, "empty.txt", content))


def test_only_headings_is_empty(tmp_path: Path) -> None:
    with pytest.raises(EmptyInput, match="no sentences"):
        read_document(write(tmp_path, "kop.md", "# Titel\n\n## Nog een kop\n"))


def test_cp1252_text_is_read_with_a_note(tmp_path: Path) -> None:
    text = "Wij leveren binnen 24 uur, ook in België. Prijs: € 9,95 — écht."
    doc = read_document(write(tmp_path, "oud.txt", text.encode("cp1252")))
    assert [s.text for s in doc.sentences] == [
        "Wij leveren binnen 24 uur, ook in België.",
        "Prijs: € 9,95 — écht.",
    ]
    assert [str(n) for n in doc.notes] == [
        "oud.txt is not UTF-8; it was read as Windows-1252 (cp1252)."
    ]
    dutch = "oud.txt is geen UTF-8; het is gelezen als Windows-1252 (cp1252)."
    assert doc.notes[0].text("nl") == dutch


def test_utf16_with_bom_is_read(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "w.txt", "We deliver within a day.".encode("utf-16")))
    assert [s.text for s in doc.sentences] == ["We deliver within a day."]


@pytest.mark.parametrize("content", [b"Wij \x81\x8d leveren \xff\xfe", b"PK\x03\x04\x00\x00binary"])
def test_bad_encoding(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(BadEncoding, match="not text in UTF-8 or Windows-1252") as caught:
        read_document(write(tmp_path, "raar.txt", content))
    assert "save it as UTF-8" in str(caught.value)


def test_unknown_suffix_lists_the_supported_ones(tmp_path: Path) -> None:
    path = write(tmp_path, "brochure.odt", b"PK\x03\x04")
    with pytest.raises(UnsupportedFileType) as caught:
        read_document(path)
    message = str(caught.value)
    assert "no reader for '.odt'" in message
    assert ".docx, .htm, .html, .markdown, .md, .pdf, .text, .txt, .xhtml" in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocument, match="does not exist"):
        read_document(tmp_path / "weg.md")


def test_supported_suffixes() -> None:
    assert supported_suffixes() == (
        ".docx",
        ".htm",
        ".html",
        ".markdown",
        ".md",
        ".pdf",
        ".text",
        ".txt",
        ".xhtml",
    )


def test_a_reader_registered_like_a_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(documents, "_READERS", dict(documents._READERS))

    def read_lines(data: bytes, name: str) -> ReadResult:
        rows = data.decode().splitlines()
        return ReadResult((Block("heading", rows[0]), *(Block("bullet", r) for r in rows[1:])))

    register_reader(Reader("lines", (".lst",), read_lines))
    doc = read_document(write(tmp_path, "a.lst", "Beloften\nWe deliver within a day\nFree"))
    assert (doc.kind, doc.title) == ("lines", "Beloften")
    assert [(s.text, s.section) for s in doc.sentences] == [
        ("We deliver within a day", "Beloften"),
        ("Free", "Beloften"),
    ]
    with pytest.raises(ValueError, match="already registered"):
        register_reader(Reader("lines", (".lst",), read_lines))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wij leveren bijv. fietsen. Ook e-bikes.", ["Wij leveren bijv. fietsen.", "Ook e-bikes."]),
        ("Dat is o.a. handig, d.w.z. snel. Klaar!", ["Dat is o.a. handig, d.w.z. snel.", "Klaar!"]),
        ("Zie nr. 5 en art. 3 van de voorwaarden.", ["Zie nr. 5 en art. 3 van de voorwaarden."]),
        ("Het kost ca. 30 euro. Of € 9,95.", ["Het kost ca. 30 euro.", "Of € 9,95."]),
        ("Mr. Smith met Dr. Jones. They agreed.", ["Mr. Smith met Dr. Jones.", "They agreed."]),
        ("We sell bikes, parts etc. Also repairs.", ["We sell bikes, parts etc.", "Also repairs."]),
        ("Fast, e.g. in 1.5 days. Free, i.e. €0.", ["Fast, e.g. in 1.5 days.", "Free, i.e. €0."]),
        ("Door J. Jansen. Sindsdien groei.", ["Door J. Jansen.", "Sindsdien groei."]),
        ("Klaar? Ja. Het werkt… Echt.", ["Klaar?", "Ja.", "Het werkt…", "Echt."]),
        ('Hij zei: "Top." Daarna niets.', ['Hij zei: "Top."', "Daarna niets."]),
        ("We grow. iPhone users love it.", ["We grow.", "iPhone users love it."]),
        ("Modern art. Beautiful frames.", ["Modern art.", "Beautiful frames."]),
        ("Open om 10.00 uur. Tot 18.00 uur.", ["Open om 10.00 uur.", "Tot 18.00 uur."]),
    ],
)
def test_sentence_spans(text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in sentence_spans(text)] == expected
