"""HTML, DOCX, Jupyter notebooks and e-mail."""

from __future__ import annotations

import json
import time
import zipfile
from pathlib import Path

import pytest

from sleuth.extractors import docx
from sleuth.extractors.base import Document, ExtractionError
from sleuth.extractors.html import decode_html, html_to_text
from sleuth.extractors.registry import extract
from sleuth.extractors.validate import document_problems

FIXTURES = Path(__file__).parent / "fixtures" / "extractors"

W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def titles(document: Document) -> list[str]:
    return [section.title for section in document.sections]


def section_texts(document: Document) -> list[str]:
    return [document.text[s.start : s.end] for s in document.sections]


# HTML ----------------------------------------------------------------------------------


def test_html_page() -> None:
    document = extract(FIXTURES / "page.html")
    assert document.kind == "html"
    assert not document.verbatim
    assert document.title == "Sleuth & Friends"
    text = document.text
    assert text.startswith("Sleuth & Friends\n\nWelcome\n\n")
    assert "Sleuth finds files — fast." in text
    for hidden in ("color: red", "do not index", "enable javascript", "svg text", "icon title",
                   "template text"):  # fmt: skip
        assert hidden not in text
    assert "- Local\n- Private" in text
    assert "line one\n    indented   line\n" in text
    assert "First\nsecond" in text
    assert "Name | Value\na | 1" in text
    assert "\n\n\n" not in text
    assert titles(document) == [
        "Welcome",
        "Welcome > Features",
        "Welcome > Features > Details",
        "Welcome > FAQ",
    ]
    assert section_texts(document)[-1] == "FAQ\n\nQuestions."
    assert document_problems(document) == []


def test_html_without_title_uses_first_h1() -> None:
    converted = html_to_text("<h2>Sub</h2><p>x</p><h1>Main</h1><p>y</p>")
    assert converted.title == "Main"
    assert converted.text == "Sub\n\nx\n\nMain\n\ny"
    assert [s.title for s in converted.sections] == ["Sub", "Main"]


def test_html_unclosed_title_does_not_swallow_the_body() -> None:
    converted = html_to_text("<title>Oops<body><p>Body text</p>")
    assert converted.title == "Oops"
    assert "Body text" in converted.text


def test_html_entities_and_broken_markup() -> None:
    converted = html_to_text("<p>a &lt; b &#x263A; &bogus; <b>bold</p><div>unclosed")
    assert converted.text == "a < b ☺ &bogus; bold\n\nunclosed"
    assert html_to_text("<![foo[bar]]>after").text == "after"
    assert html_to_text("<!DOCTYPE [weird]><p>x").text == "x"


def test_html_decoding_honours_meta_charset() -> None:
    raw = '<meta charset="koi8-r"><p>Привет</p>'.encode("koi8-r")
    assert "Привет" in decode_html(raw)
    assert decode_html("<p>é</p>".encode()) == "<p>é</p>"
    assert decode_html(b"<p>caf\xe9</p>") == "<p>café</p>"


def test_html_with_nul_is_binary(tmp_path: Path) -> None:
    path = tmp_path / "x.html"
    path.write_bytes(b"<p>a\x00b</p>")
    with pytest.raises(ExtractionError, match="binary"):
        extract(path)


# DOCX ----------------------------------------------------------------------------------


def paragraph(text: str, style: str | None = None) -> str:
    props = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f'<w:p>{props}<w:r><w:t xml:space="preserve">{text}</w:t></w:r></w:p>'


def make_docx(
    path: Path,
    body: str,
    *,
    title: str | None = None,
    styles: str | None = None,
    document_name: str = "word/document.xml",
) -> Path:
    """A minimal .docx: just enough parts for our extractor (and for Word to be lenient)."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<w:document xmlns:w="{W}"><w:body>{body}<w:sectPr/></w:body></w:document>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(document_name, document)
        if styles is not None:
            archive.writestr("word/styles.xml", f'<w:styles xmlns:w="{W}">{styles}</w:styles>')
        if title is not None:
            archive.writestr(
                "docProps/core.xml",
                '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
                'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/">'
                f"<dc:title>{title}</dc:title></cp:coreProperties>",
            )
    return path


def test_docx_paragraphs_headings_and_title(tmp_path: Path) -> None:
    body = (
        paragraph("Annual Report", "Title")
        + paragraph("Intro text.")
        + paragraph("Overview", "Heading1")
        + "<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr>"
        "<w:r><w:t>Name</w:t><w:tab/><w:t>Value</w:t><w:br/><w:t>next line</w:t></w:r></w:p>"
        + "<w:p/>"
        + paragraph("Details", "Heading2")
        + "<w:tbl><w:tr><w:tc>" + paragraph("cell one") + "</w:tc><w:tc>"
        + paragraph("cell two") + "</w:tc></w:tr></w:tbl>"
        + "<w:p><w:r><w:delText>deleted</w:delText></w:r><w:r><w:t>kept</w:t></w:r></w:p>"
        + paragraph("Summary", "Heading1")
        + paragraph("Done &amp; dusted.")
    )  # fmt: skip
    path = make_docx(tmp_path / "report.docx", body, title="Report 2024")
    document = extract(path)
    assert document.kind == "docx"
    assert not document.verbatim
    assert document.title == "Report 2024"
    assert document.text == (
        "Annual Report\nIntro text.\nOverview\nName\tValue\nnext line\nDetails\n"
        "cell one\ncell two\nkept\nSummary\nDone & dusted."
    )
    assert titles(document) == [
        "Annual Report",
        "Annual Report > Overview",
        "Annual Report > Overview > Details",
        "Annual Report > Summary",
    ]
    assert section_texts(document)[2] == "Details\ncell one\ncell two\nkept\n"
    assert document_problems(document) == []


def test_docx_localised_heading_styles_and_fallback_title(tmp_path: Path) -> None:
    styles = (
        '<w:style w:type="paragraph" w:styleId="berschrift1"><w:name w:val="heading 1"/>'
        '</w:style><w:style w:type="paragraph" w:styleId="Titel"><w:name w:val="Title"/>'
        "</w:style>"
    )
    body = paragraph("Bericht", "Titel") + paragraph("Kapitel", "berschrift1") + paragraph("x")
    document = extract(make_docx(tmp_path / "de.docx", body, styles=styles))
    assert document.title == "Bericht"
    assert titles(document) == ["Bericht", "Bericht > Kapitel"]


def test_docx_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    not_zip = tmp_path / "not.docx"
    not_zip.write_bytes(b"PK\x03\x04 but not really a zip")
    with pytest.raises(ExtractionError, match="corrupt DOCX"):
        extract(not_zip)

    wrong = make_docx(tmp_path / "wrong.docx", paragraph("x"), document_name="word/other.xml")
    with pytest.raises(ExtractionError, match=r"no word/document\.xml"):
        extract(wrong)

    bad_xml = tmp_path / "badxml.docx"
    with zipfile.ZipFile(bad_xml, "w") as archive:
        archive.writestr("word/document.xml", "<w:document><unclosed>")
    with pytest.raises(ExtractionError, match="corrupt DOCX"):
        extract(bad_xml)

    dtd = tmp_path / "dtd.docx"
    with zipfile.ZipFile(dtd, "w") as archive:
        archive.writestr(
            "word/document.xml",
            '<!DOCTYPE d [<!ENTITY a "aaaa">]><d>&a;&a;</d>',
        )
    with pytest.raises(ExtractionError, match="DTD"):
        extract(dtd)

    big = make_docx(tmp_path / "big.docx", paragraph("x" * 5000))
    monkeypatch.setattr(docx, "MAX_PART_BYTES", 1000)
    with pytest.raises(ExtractionError, match="too large"):
        extract(big)


def test_docx_zip_bomb_is_refused_without_inflating(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    with (
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open("word/document.xml", "w", force_zip64=True) as stream,
    ):
        chunk = b"<" * (1 << 20)
        for _ in range(docx.MAX_PART_BYTES // len(chunk) + 1):
            stream.write(chunk)
    assert path.stat().st_size < 200_000
    with pytest.raises(ExtractionError, match="too large"):
        extract(path)


# Jupyter -------------------------------------------------------------------------------


def test_notebook_cells() -> None:
    document = extract(FIXTURES / "notebook.ipynb")
    assert document.kind == "ipynb"
    assert not document.verbatim
    assert document.title == "Analysis"
    assert titles(document) == ["markdown cell 1", "code cell 2", "markdown cell 5"]
    assert section_texts(document) == [
        "# Analysis\n\nSome notes.",
        "import math\nprint(math.pi)",
        "## Results\nDone.",
    ]
    assert document.text == "\n\n".join(section_texts(document))
    assert "OUTPUT SHOULD NOT APPEAR" not in document.text
    assert "raw cell" not in document.text


def test_notebook_nbformat3_and_metadata_title(tmp_path: Path) -> None:
    notebook = {
        "metadata": {"title": "Old notebook"},
        "worksheets": [
            {"cells": [{"cell_type": "code", "input": ["x = 1\n", "y = 2"]}]},
            {"cells": [{"cell_type": "markdown", "source": "text"}]},
        ],
    }
    path = tmp_path / "old.ipynb"
    path.write_text(json.dumps(notebook))
    document = extract(path)
    assert document.title == "Old notebook"
    assert document.text == "x = 1\ny = 2\n\ntext"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "invalid notebook JSON"),
        ("[1, 2]", "not a notebook"),
        ('{"cells": 3}', "not a notebook"),
        ('{"cells": [5]}', "not a notebook"),
        ('{"cells": [{"cell_type": "code", "source": 7}]}', "not a notebook"),
        ('{"worksheets": [{"nocells": 1}]}', "not a notebook"),
        ("[" * 100_000, "invalid notebook JSON"),
    ],
)
def test_notebook_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.ipynb"
    path.write_text(content)
    with pytest.raises(ExtractionError, match=message):
        extract(path)


def test_notebook_lone_surrogate_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "s.ipynb"
    path.write_text('{"cells": [{"cell_type": "markdown", "source": "a\\ud800b"}]}')
    assert extract(path).text == "a\ufffdb"


# E-mail --------------------------------------------------------------------------------


def test_email_prefers_plain_text() -> None:
    document = extract(FIXTURES / "message.eml")
    assert document.kind == "eml"
    assert not document.verbatim
    assert document.title == "Quarterly résumé"
    assert document.text == (
        "Subject: Quarterly résumé\n"
        "From: Alice Example <alice@example.com>\n"
        "To: Bob <bob@example.com>\n"
        "Date: Tue, 04 Mar 2025 10:00:00 +0000\n"
        "\n"
        "Hello Bob,\n\nThe résumé is attached."
    )


def test_email_html_only_body_is_converted() -> None:
    document = extract(FIXTURES / "html_only.eml")
    assert document.title == "Newsletter"
    assert document.text == (
        "Subject: Newsletter\nFrom: news@example.com\n\nNews\n\nBig\u00a0news today."
    )


def test_email_malformed_does_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "bad.eml"
    path.write_bytes(
        b'Subject: =?utf-8?q?broken\r\nFrom: <<<@@@>>>\r\nTo: "unterminated\r\n'
        b"Date: not a date\r\nContent-Type: text/plain; charset=no-such-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n%%%not base64\xff\xfe"
    )
    document = extract(path)
    assert document.text.startswith("Subject: ")
    assert document_problems(document) == []


@pytest.mark.parametrize(
    "markup", ["<a " * 20_000, "<!-- >" * 20_000, "<![CDATA[ >" * 20_000, "</a " * 20_000]
)
def test_html_unterminated_constructs_stay_linear(markup: str) -> None:
    # html.parser alone needs minutes for these (it rescans to the end from each "<").
    started = time.monotonic()
    converted = html_to_text(markup)
    assert time.monotonic() - started < 10
    assert "\x00" not in converted.text
