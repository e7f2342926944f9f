"""Reading order from Tesseract's paragraphs (lexo.ocr.order), on hand-placed boxes.

The pages below are laid out as Tesseract 5.5 cuts real ones: a form's labels and values in
separate blocks, a table's columns one after the other, a totals block after the footer.
"""

from __future__ import annotations

from lexo.document import Line, Word
from lexo.ocr.order import arrange

LINE_HEIGHT = 30


def line(text: str, x: int, y: int, *, char: int = 18) -> Line:
    """A line of ``text`` whose box starts at (x, y), each word boxed in turn."""
    words, at = [], x
    for token in text.split():
        words.append(Word(token, 90.0, (at, y, at + char * len(token), y + LINE_HEIGHT)))
        at += char * (len(token) + 1)
    return Line(text, 90.0, (x, y, at - char, y + LINE_HEIGHT), tuple(words))


def texts(paragraphs: list[list[Line]]) -> list[list[str]]:
    return [[ln.text for ln in para] for para in paragraphs]


def test_labels_and_values_in_separate_blocks_are_read_row_by_row() -> None:
    labels = [line(t, 100, 300 + 50 * i) for i, t in enumerate(("Date :", "Client :", "Total :"))]
    values = [[line(t, 600, 300 + 50 * i)] for i, t in enumerate(("12/03/2025", "C-42", "9,90"))]
    out = arrange([[line("FACTURE", 100, 100)], labels, *values])
    assert texts(out) == [
        ["FACTURE"],
        ["Date : 12/03/2025", "Client : C-42", "Total : 9,90"],
    ]
    merged = out[1][0]
    assert [w.text for w in merged.words] == ["Date", ":", "12/03/2025"]
    assert merged.box == (100, 300, 600 + 18 * 10, 330)


def test_table_read_column_by_column_becomes_rows() -> None:
    rubriques = [line(t, 100, 500 + 40 * i) for i, t in enumerate(("Salaire de base", "Prime"))]
    montants = [line(t, 900, 500 + 40 * i) for i, t in enumerate(("2 100,00", "150,00"))]
    out = arrange([rubriques, montants])
    assert texts(out) == [["Salaire de base 2 100,00", "Prime 150,00"]]


def test_two_columns_of_prose_keep_their_order() -> None:
    left = [line("un deux trois quatre cinq six sept", 100, 200 + 40 * i) for i in range(6)]
    right = [line("alpha beta gamma delta epsilon zeta", 1300, 200 + 40 * i) for i in range(6)]
    out = arrange([left, right])
    assert texts(out) == texts([left, right])


def test_heading_beside_prose_is_not_a_row() -> None:
    heading = [line("Conditions", 100, 200)]
    prose = [line("le locataire paie le loyer chaque mois", 700, 200 + 40 * i) for i in range(5)]
    out = arrange([heading, prose])
    assert texts(out) == texts([heading, prose])


def test_two_address_blocks_stay_blocks() -> None:
    sender = [line(t, 100, 200 + 40 * i) for i, t in enumerate(("ACME SARL", "rue Haute"))]
    recipient = [line(t, 1200, 200 + 40 * i) for i, t in enumerate(("Jean Dupont", "rue Basse"))]
    assert texts(arrange([sender, recipient])) == texts([sender, recipient])


def test_right_hand_block_comes_before_the_footer_under_it() -> None:
    table = [line("Abonnement 12,00", 100, 1000)]
    footer = [line("SARL au capital de 10 000 euros", 100, 3000, char=55)]  # page-wide
    totals = [line("Total TTC 14,40", 1400, 1200)]
    out = arrange([table, footer, totals])
    assert texts(out) == [["Abonnement 12,00"], ["Total TTC 14,40"], footer_text(footer)]


def footer_text(footer: list[Line]) -> list[str]:
    return [ln.text for ln in footer]


def test_lines_without_boxes_are_left_alone() -> None:
    paras = [[Line("a", 90.0, None, ())], [Line("b", 90.0, None, ())]]
    assert texts(arrange(paras)) == [["a"], ["b"]]


def test_a_header_is_read_before_the_body_under_it() -> None:
    recipient = [line(t, 100, 300 + 40 * i) for i, t in enumerate(("Mme Sophie Martin", "Lyon"))]
    title = [line("Facture n° FA8585243", 100, 600)]  # three lines under the header
    issuer = [line(t, 1300, 150 + 40 * i) for i, t in enumerate(("ÉNERGIES", "Val", "Nantes"))]
    out = arrange([recipient, title, issuer])
    assert texts(out) == texts([recipient, issuer, title])
    # A heading one line under the paragraphs beside it stays where Tesseract put it.
    close = [line("Facture n° FA8585243", 100, 400)]
    assert texts(arrange([recipient, close, issuer])) == texts([recipient, close, issuer])
