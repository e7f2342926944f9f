"""The invisible font of the text layer: a TrueType font whose glyphs draw nothing.

Like Tesseract's and OCRmyPDF's "GlyphLessFont": a Type 0 font with the ``Identity-H``
encoding, so every character is written as its UTF-16 code unit (two bytes), a CIDToGIDMap
that sends every one of the 65,536 codes to the same empty glyph, half an em wide, and a
ToUnicode map that reads each code back as itself. Every character a French document holds
(accents, ``œ``, ``€``, ``«»``, ``°``) is therefore covered, and copy, search and selection
in a viewer give back the OCR text. The font program (a few hundred bytes) is built here
rather than shipped, and embedded, as PDF/A and some viewers want.
"""

from __future__ import annotations

import functools
import struct
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pikepdf

#: Font units per em, and the advance of the one glyph: every character is half an em wide
#: before the text layer scales it to the width of its word.
UNITS_PER_EM = 1000
ADVANCE = 500
FONT_NAME = "LexoGlyphLess"

_TOUNICODE = b"""/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end
"""


def add_font(pdf: pikepdf.Pdf) -> pikepdf.Object:
    """The Type 0 font dictionary, added to ``pdf`` as an indirect object (once per file)."""
    import pikepdf
    from pikepdf import Array, Dictionary, Name

    program = glyphless_truetype()
    descriptor = pdf.make_indirect(
        Dictionary(
            Type=Name.FontDescriptor,
            FontName=Name("/" + FONT_NAME),
            Flags=5,  # fixed pitch, symbolic
            FontBBox=Array([0, 0, ADVANCE, UNITS_PER_EM]),
            ItalicAngle=0,
            Ascent=UNITS_PER_EM,
            Descent=0,
            CapHeight=UNITS_PER_EM,
            StemV=80,
            FontFile2=pikepdf.Stream(pdf, program, Length1=len(program)),
        )
    )
    cid_to_gid = pikepdf.Stream(pdf, zlib.compress(b"\x00\x01" * 65536, 9))
    cid_to_gid.Filter = Name.FlateDecode
    descendant = pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.CIDFontType2,
            BaseFont=Name("/" + FONT_NAME),
            CIDSystemInfo=Dictionary(Registry="Adobe", Ordering="Identity", Supplement=0),
            FontDescriptor=descriptor,
            DW=ADVANCE,
            CIDToGIDMap=cid_to_gid,
        )
    )
    return pdf.make_indirect(
        Dictionary(
            Type=Name.Font,
            Subtype=Name.Type0,
            BaseFont=Name("/" + FONT_NAME),
            Encoding=Name("/Identity-H"),
            DescendantFonts=Array([descendant]),
            ToUnicode=pikepdf.Stream(pdf, _TOUNICODE),
        )
    )


@functools.cache
def glyphless_truetype() -> bytes:
    """A valid TrueType font of two glyphs, ``ADVANCE`` units wide, that draw nothing:
    ``.notdef``, empty, and the one every code maps to, whose only contour is a line from
    its bottom left to its top right corner. That encloses no area, so even filled it leaves
    no ink, but gives the glyph a bounding box of one em by half an em: PDF readers (PDFium
    among them) measure characters by their glyph boxes and drop those without one. Ascent
    one em, descent zero, so a viewer's selection covers exactly the box a word is given."""
    glyphs = 2
    diagonal = struct.pack(
        ">hhhhhHHBBhhhh",
        1,  # numberOfContours
        0,
        0,
        ADVANCE,
        UNITS_PER_EM,  # xMin yMin xMax yMax
        1,  # endPtsOfContours[0]: two points
        0,  # instructionLength
        1,
        1,  # flags: both points on the curve, coordinates as 16-bit deltas
        0,
        ADVANCE,  # x deltas
        0,
        UNITS_PER_EM,  # y deltas
    )
    tables = {
        b"cmap": _cmap(),
        b"glyf": diagonal,
        b"head": _head(),
        b"hhea": struct.pack(
            ">IhhhHhhhhhhhhhhhH",
            0x00010000,
            UNITS_PER_EM,  # ascender
            0,  # descender
            0,  # line gap
            ADVANCE,  # advanceWidthMax
            0,  # minLeftSideBearing
            0,  # minRightSideBearing
            0,  # xMaxExtent
            1,  # caretSlopeRise
            0,  # caretSlopeRun
            0,  # caretOffset
            0,
            0,
            0,
            0,  # reserved
            0,  # metricDataFormat
            glyphs,  # numberOfHMetrics
        ),
        b"hmtx": struct.pack(">HhHh", ADVANCE, 0, ADVANCE, 0),
        b"loca": struct.pack(">HHH", 0, 0, len(diagonal) // 2),  # short offsets, in words
        b"maxp": struct.pack(">IH13H", 0x00010000, glyphs, 2, 1, 0, 0, 2, *([0] * 8)),
        b"name": _name(),
        b"post": struct.pack(">IIhhIIIII", 0x00030000, 0, -100, 50, 1, 0, 0, 0, 0),
    }
    return _sfnt(tables)


def _head() -> bytes:
    return struct.pack(
        ">IIIIHHqqhhhhHHhhh",
        0x00010000,  # version
        0x00010000,  # fontRevision
        0,  # checkSumAdjustment, set once the whole font is known
        0x5F0F3CF5,  # magic
        0b1011,  # baseline at y=0, lsb at x=0, integer scaling
        UNITS_PER_EM,
        0,  # created
        0,  # modified
        0,
        0,
        ADVANCE,
        UNITS_PER_EM,  # xMin yMin xMax yMax
        0,  # macStyle
        3,  # lowestRecPPEM
        2,  # fontDirectionHint
        0,  # indexToLocFormat: short
        0,  # glyphDataFormat
    )


def _cmap() -> bytes:
    # One (Windows, Unicode BMP) format 4 subtable holding only the mandatory last segment:
    # characters are never looked up through it (the PDF's CIDToGIDMap does that).
    subtable = struct.pack(">HHHHHHHHHHHH", 4, 24, 0, 2, 2, 0, 0, 0xFFFF, 0, 0xFFFF, 1, 0)
    return struct.pack(">HHHHI", 0, 1, 3, 1, 12) + subtable


def _name() -> bytes:
    records = [(1, "LEXO GlyphLess"), (2, "Regular"), (4, "LEXO GlyphLess"), (6, FONT_NAME)]
    header = struct.pack(">HHH", 0, len(records), 6 + 12 * len(records))
    entries = b""
    strings = b""
    for name_id, text in records:
        data = text.encode("utf-16-be")
        entries += struct.pack(">6H", 3, 1, 0x409, name_id, len(data), len(strings))
        strings += data
    return header + entries + strings


def _sfnt(tables: dict[bytes, bytes]) -> bytes:
    """The font file: offset table, table directory (sorted by tag), 4-byte aligned tables,
    and head's checkSumAdjustment so that the whole file sums to 0xB1B0AFBA."""
    count = len(tables)
    power = 1 << (count.bit_length() - 1)
    header = struct.pack(
        ">IHHHH", 0x00010000, count, power * 16, power.bit_length() - 1, (count - power) * 16
    )
    offset = len(header) + 16 * count
    directory = b""
    body = b""
    head_at = 0
    for tag in sorted(tables):
        data = tables[tag]
        if tag == b"head":
            head_at = offset
        directory += struct.pack(">4sIII", tag, _checksum(data), offset, len(data))
        padded = data + b"\x00" * (-len(data) % 4)
        body += padded
        offset += len(padded)
    font = bytearray(header + directory + body)
    adjustment = (0xB1B0AFBA - _checksum(bytes(font))) & 0xFFFFFFFF
    font[head_at + 8 : head_at + 12] = struct.pack(">I", adjustment)
    return bytes(font)


def _checksum(data: bytes) -> int:
    padded = data + b"\x00" * (-len(data) % 4)
    words: tuple[int, ...] = struct.unpack(f">{len(padded) // 4}I", padded)
    return sum(words) & 0xFFFFFFFF
