"""The readers of issue 3: columns in PDFs, Word, saved web pages, URL lists, languages
per sentence, progress, and a clear error for each kind of bad input."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from pathlib import Path

import pytest

from helpers import write
from klopt.errors import (
    CookieWall,
    EmptyInput,
    EncryptedDocument,
    InvalidUrlList,
    NoMainText,
    NotAWordDocument,
    NoTextLayer,
    UnreadableDocument,
    UnsupportedFileType,
)
from klopt.register.documents import (
    DocumentText,
    Sentence,
    document_sources,
    read_document,
    read_url_list,
    sentence_spans,
)

LEFT = [
    "Wij leveren binnen 24 uur,",
    "ook op zaterdag en zondag.",
    "Retourneren is altijd gratis.",
]
RIGHT = [
    "Onze klantenservice is er",
    "elke dag van 8 tot 22 uur.",
    "Wij bellen u binnen een uur terug.",
]


def _check_offsets(doc: DocumentText) -> None:
    for number, sentence in enumerate(doc.sentences):
        assert sentence.index == number
        assert doc.text[sentence.start : sentence.end] == sentence.text


def _two_column_pdf(pages: int = 2) -> bytes:
    """Two columns written line by line across the page, so that the order in the file
    is left, right, left, right: only layout analysis reads them column by column."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_auto_page_break(False)
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.set_xy(10, 15)
        pdf.cell(0, 10, f"Onze beloften {number}")
        pdf.set_font("Helvetica", "", 11)
        for row, (left, right) in enumerate(zip(LEFT, RIGHT, strict=True)):
            y = 35 + row * 6
            pdf.set_xy(10, y)
            pdf.cell(85, 6, left)
            pdf.set_xy(110, y)
            pdf.cell(85, 6, right)
        pdf.set_xy(10, 280)
        pdf.cell(0, 6, str(number), align="C")
    return bytes(pdf.output())


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_two_columns_read_column_by_column(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    path = write(tmp_path, "kolommen.pdf", _two_column_pdf())
    doc = read_document(path, progress=lambda done, total: calls.append((done, total)))
    _check_offsets(doc)
    rows = [(s.text, s.section, s.page) for s in doc.sentences]
    assert rows == [
        ("Wij leveren binnen 24 uur, ook op zaterdag en zondag.", "Onze beloften 1", 1),
        ("Retourneren is altijd gratis.", "Onze beloften 1", 1),
        ("Onze klantenservice is er elke dag van 8 tot 22 uur.", "Onze beloften 1", 1),
        ("Wij bellen u binnen een uur terug.", "Onze beloften 1", 1),
        ("Wij leveren binnen 24 uur, ook op zaterdag en zondag.", "Onze beloften 2", 2),
        ("Retourneren is altijd gratis.", "Onze beloften 2", 2),
        ("Onze klantenservice is er elke dag van 8 tot 22 uur.", "Onze beloften 2", 2),
        ("Wij bellen u binnen een uur terug.", "Onze beloften 2", 2),
    ]
    assert calls == [(1, 2), (2, 2)]
    assert {s.language for s in doc.sentences} == {"nl"}


def test_pdf_with_some_scanned_pages_says_which(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 11)
    pdf.multi_cell(0, 6, "Wij leveren binnen 24 uur.")
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")
    doc = read_document(write(tmp_path, "half.pdf", bytes(pdf.output())))
    assert [s.text for s in doc.sentences] == ["Wij leveren binnen 24 uur."]
    assert [str(n) for n in doc.notes] == [
        "half.pdf: page 2 has no text layer — scanned? run OCR first."
    ]


def test_pdf_scan_only_is_no_text_layer(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    for _ in range(2):
        pdf.add_page()
        pdf.rect(20, 20, 100, 60, style="F")
    with pytest.raises(NoTextLayer) as caught:
        read_document(write(tmp_path, "scan.pdf", bytes(pdf.output())))
    assert str(caught.value) == (
        "scan.pdf has no text layer — scanned? run OCR first. Add the OCR'd PDF instead."
    )
    assert isinstance(caught.value, UnreadableDocument)


def test_pdf_encrypted_is_a_clear_error(tmp_path: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(_two_column_pdf(1))))
    writer.encrypt("geheim", algorithm="AES-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(EncryptedDocument) as caught:
        read_document(write(tmp_path, "slot.pdf", buffer.getvalue()))
    assert str(caught.value) == (
        "slot.pdf is encrypted with a password. "
        "Save an unprotected copy (print it to PDF) and add that."
    )


@pytest.mark.parametrize("content", [b"%PDF-1.7\n1 0 obj <<\n", _two_column_pdf(1)[:300]])
def test_pdf_damaged(tmp_path: Path, content: bytes) -> None:
    with pytest.raises(UnreadableDocument, match=r"^damaged.pdf is not a readable PDF") as caught:
        read_document(write(tmp_path, "damaged.pdf", content))
    assert "save or export it again" in str(caught.value)


# --- Word --------------------------------------------------------------------------------


def _docx() -> bytes:
    import docx

    document = docx.Document()
    document.core_properties.title = "Brochure Voorbeeld BV"
    document.sections[0].header.paragraphs[0].text = "Kop op elke pagina"
    document.add_heading("Onze beloften", 1)
    document.add_paragraph("Wij leveren binnen 24 uur. Ook op zaterdag.")
    document.add_paragraph("Wij beloven u:")
    document.add_paragraph("gratis retour", style="List Bullet")
    document.add_paragraph("2 jaar garantie", style="List Number")
    document.add_heading("Tarieven", 2)
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Levering"
    table.cell(0, 1).text = "Gratis vanaf € 50."
    table.cell(1, 0).merge(table.cell(1, 1)).text = "Prijzen zijn incl. btw."
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def test_docx_headings_lists_and_tables(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "brochure.docx", _docx()))
    _check_offsets(doc)
    assert (doc.kind, doc.title, doc.language, doc.name) == (
        "docx",
        "Brochure Voorbeeld BV",
        "nl",
        "brochure.docx",
    )
    rows = [(s.text, s.section, s.lead_in) for s in doc.sentences]
    assert rows == [
        ("Wij leveren binnen 24 uur.", "Onze beloften", None),
        ("Ook op zaterdag.", "Onze beloften", None),
        ("Wij beloven u:", "Onze beloften", None),
        ("gratis retour", "Onze beloften", "Wij beloven u:"),
        ("2 jaar garantie", "Onze beloften", "Wij beloven u:"),
        ("Levering", "Tarieven", None),
        ("Gratis vanaf € 50.", "Tarieven", None),
        ("Prijzen zijn incl. btw.", "Tarieven", None),
    ]
    assert "Kop op elke pagina" not in doc.text


def _zip(**files: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name.replace("__", "/"), content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (
            b"Dit is gewoon tekst.",
            NotAWordDocument,
            "oud.docx is not a Word document: a .docx is a ZIP file, and this is not one. "
            "Open it in Word or LibreOffice, save it as .docx and add the new file.",
        ),
        (
            _zip(**{"foto.jpg": "x", "xl__workbook.xml": "<x/>"}),
            NotAWordDocument,
            "oud.docx is a ZIP file of something else, not a Word document "
            "(it holds foto.jpg, xl/workbook.xml). "
            "Unpack it and add the documents inside, or save the text as .docx.",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            EncryptedDocument,
            "oud.docx is an old Word 97-2003 file or a password-protected Word document. "
            "Open it in Word, remove any password, save it as .docx and add that.",
        ),
    ],
)
def test_docx_that_is_no_word_document(
    tmp_path: Path, content: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as caught:
        read_document(write(tmp_path, "oud.docx", content))
    assert str(caught.value) == message


def test_docx_damaged_inside(tmp_path: Path) -> None:
    content = _zip(**{"[Content_Types].xml": "<broken", "word__document.xml": "<w:document"})
    with pytest.raises(NotAWordDocument, match=r"^kapot.docx is not a readable Word document"):
        read_document(write(tmp_path, "kapot.docx", content))


# --- HTML --------------------------------------------------------------------------------

SAVED_PAGE = """\
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Delivery | Example Bikes</title></head>
<body>
<div class="navbar"><a href="/">Home</a> <a href="/shop">Shop</a> <a href="/c">Contact</a></div>
<div id="onetrust-banner-sdk"><p>We use cookies to improve your experience.</p>
<button>Accept all</button></div>
<div class="content">
<h2>Delivery</h2>
<p>We deliver within 24 hours, also on Saturdays. Orders placed before 22:00 ship today.</p>
<h3>Returns</h3>
<ol><li>Free returns within 30 days.</li><li>A 2-year warranty on every part.</li></ol>
</div>
<div class="footer"><p>Copyright 2026 Example Ltd. All rights reserved.</p></div>
</body></html>
"""


def test_html_main_content_with_headings_and_lists(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "delivery.html", SAVED_PAGE))
    _check_offsets(doc)
    assert (doc.kind, doc.title, doc.language) == ("html", "Delivery | Example Bikes", "en")
    rows = [(s.text, s.section) for s in doc.sentences]
    assert rows == [
        ("We deliver within 24 hours, also on Saturdays.", "Delivery"),
        ("Orders placed before 22:00 ship today.", "Delivery"),
        ("Free returns within 30 days.", "Returns"),
        ("A 2-year warranty on every part.", "Returns"),
    ]
    assert "• Free returns within 30 days.\n• A 2-year warranty" in doc.text
    for noise in ("cookies", "Shop", "Copyright", "Accept"):
        assert noise not in doc.text


def test_html_cookie_wall_by_its_words(tmp_path: Path) -> None:
    page = "<html><body><p>We use cookies. Accept cookies to continue.</p></body></html>"
    with pytest.raises(CookieWall, match="holds only a cookie notice"):
        read_document(write(tmp_path, "wall.html", page))


def test_html_only_menus_is_no_main_text(tmp_path: Path) -> None:
    page = "<html><body><nav><ul><li><a href='/'>Home</a></li></ul></nav></body></html>"
    with pytest.raises(NoMainText) as caught:
        read_document(write(tmp_path, "menu.html", page))
    assert str(caught.value) == (
        "menu.html holds no main text (only menus, headers or footers). "
        "Save the page that holds the text itself, or copy its text into a .txt file."
    )
    assert not isinstance(caught.value, CookieWall)


# --- URL lists ---------------------------------------------------------------------------


def test_url_list_gives_pages_named_by_their_address(tmp_path: Path) -> None:
    (tmp_path / "saved").mkdir()
    write(tmp_path, "saved/delivery page.html", SAVED_PAGE)
    write(tmp_path, "brochure.md", "Wij leveren binnen 24 uur.\n")
    listing = write(
        tmp_path,
        "pages.urls",
        "# saved on 1 March\n\nhttps://example.com/delivery\t saved/delivery page.html  \n",
    )
    pages = read_url_list(listing)
    assert pages == [("https://example.com/delivery", tmp_path / "saved/delivery page.html")]
    sources = document_sources([tmp_path / "brochure.md", listing])
    assert sources == [(tmp_path / "brochure.md", None), (pages[0][1], pages[0][0])]
    doc = read_document(pages[0][1], name=pages[0][0])
    assert (doc.name, doc.title) == ("https://example.com/delivery", "Delivery | Example Bikes")
    assert doc.path == str(tmp_path / "saved/delivery page.html")


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (
            "# pages\nhttps://example.com/a a.html\nexample.com/b b.html\n",
            InvalidUrlList,
            "pages.urls, line 3 is not 'URL saved-file': 'example.com/b b.html'. "
            "Write the page's address (https://...), a space, and the saved file's path.",
        ),
        (
            "https://example.com/a\n",
            InvalidUrlList,
            "pages.urls, line 1 is not 'URL saved-file': 'https://example.com/a'. "
            "Write the page's address (https://...), a space, and the saved file's path.",
        ),
        (
            "https://example.com/a a.html\nhttps://example.com/b weg.html\n",
            UnreadableDocument,
            "pages.urls, line 2 names weg.html, which does not exist next to pages.urls. "
            "Give the saved file's path relative to the list, or save the page again.",
        ),
        (
            "# nothing yet\n\n",
            EmptyInput,
            "pages.urls lists no pages. "
            "Write one page a line: the address, a space, and the saved file.",
        ),
    ],
)
def test_url_list_errors(
    tmp_path: Path, content: str, error: type[Exception], message: str
) -> None:
    write(tmp_path, "a.html", SAVED_PAGE)
    with pytest.raises(error) as caught:
        read_url_list(write(tmp_path, "pages.urls", content))
    assert str(caught.value) == message


def test_url_list_missing_and_read_as_document(tmp_path: Path) -> None:
    with pytest.raises(UnreadableDocument, match="weg.urls does not exist"):
        read_url_list(tmp_path / "weg.urls")
    with pytest.raises(UnsupportedFileType, match="is a list of saved pages"):
        read_document(write(tmp_path, "a.urls", "https://example.com/a a.html\n"))


# --- languages and sentences -------------------------------------------------------------

MIXED = """\
# Onze beloften

Wij leveren binnen 24 uur, ook op zaterdag en zondag, in heel Nederland.

Wij beloven u:

- gratis retour
- 2 jaar garantie

Onze klantenservice reageert altijd binnen twee uur op uw vragen.

# Our promises

We deliver within 24 hours, also on Saturdays, anywhere in the country.

- free returns
"""


def test_language_per_sentence_and_the_majority(tmp_path: Path) -> None:
    doc = read_document(write(tmp_path, "gemengd.md", MIXED))
    assert doc.language == "nl"
    assert [(s.text, s.language) for s in doc.sentences] == [
        ("Wij leveren binnen 24 uur, ook op zaterdag en zondag, in heel Nederland.", "nl"),
        ("Wij beloven u:", "nl"),
        ("gratis retour", "nl"),
        ("2 jaar garantie", "nl"),
        ("Onze klantenservice reageert altijd binnen twee uur op uw vragen.", "nl"),
        ("We deliver within 24 hours, also on Saturdays, anywhere in the country.", "en"),
        ("free returns", "en"),
    ]


def test_sentence_round_trips_as_a_dict_also_without_language() -> None:
    sentence = Sentence("Wij leveren.", 0, 0, 12, "Beloften", 3, None, "nl")
    assert Sentence(**dataclasses.asdict(sentence)) == sentence
    stored_before = {"text": "We deliver.", "index": 0, "start": 0, "end": 11}
    old = Sentence(**stored_before, section=None, page=None, lead_in=None)
    assert old.language is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Een beurt duurt ca. 3,5 uur. Dat is snel.",
            ["Een beurt duurt ca. 3,5 uur.", "Dat is snel."],
        ),
        ("Wij leveren o.a. fietsen, bijv. e-bikes.", ["Wij leveren o.a. fietsen, bijv. e-bikes."]),
        (
            "Mr. Smith and Mrs. Jones agreed. They signed.",
            ["Mr. Smith and Mrs. Jones agreed.", "They signed."],
        ),
        (
            "1. Wij leveren binnen 24 uur. 2. Gratis retour.",
            ["Wij leveren binnen 24 uur.", "Gratis retour."],
        ),
        ("(1) Bestel online. (2) Wij leveren.", ["Bestel online.", "Wij leveren."]),
        ("Mail info@voorbeeld.nl. Wij antwoorden.", ["Mail info@voorbeeld.nl.", "Wij antwoorden."]),
        (
            "Zie https://www.voorbeeld.nl/service. Alles staat er.",
            ["Zie https://www.voorbeeld.nl/service.", "Alles staat er."],
        ),
        ("Het kost € 4,95. Meer niet.", ["Het kost € 4,95.", "Meer niet."]),
        ("It costs €4.95. Nothing more.", ["It costs €4.95.", "Nothing more."]),
        ("Dit is versie 2.0. Die is beter.", ["Dit is versie 2.0.", "Die is beter."]),
        ("We ship to the U.S. and Canada. Free.", ["We ship to the U.S. and Canada.", "Free."]),
        ("Wij zijn nr. 1 in service. Beloofd.", ["Wij zijn nr. 1 in service.", "Beloofd."]),
        (
            "Prijzen zijn incl. btw. Verzending gratis.",
            ["Prijzen zijn incl. btw.", "Verzending gratis."],
        ),
        ("Het komt a.s. maandag. Gegarandeerd.", ["Het komt a.s. maandag.", "Gegarandeerd."]),
        ("Wij zijn met 12. Dat is veel.", ["Wij zijn met 12.", "Dat is veel."]),
    ],
)
def test_sentence_spans_more_cases(text: str, expected: list[str]) -> None:
    assert [text[a:b] for a, b in sentence_spans(text)] == expected


def test_inline_list_after_a_lead_in(tmp_path: Path) -> None:
    text = "Wij beloven u: • levering binnen 24 uur • gratis retour\n\nOok e.g. in het weekend.\n"
    doc = read_document(write(tmp_path, "lijst.txt", text))
    assert [(s.text, s.lead_in) for s in doc.sentences] == [
        ("Wij beloven u:", None),
        ("levering binnen 24 uur", "Wij beloven u:"),
        ("gratis retour", "Wij beloven u:"),
        ("Ook e.g. in het weekend.", None),
    ]


def test_progress_for_a_file_without_pages(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    read_document(
        write(tmp_path, "a.txt", "Wij leveren snel."), progress=lambda *c: calls.append(c)
    )
    assert calls == [(1, 1)]
