"""What an archive PDF must not carry from its original: anything a viewer could run or
extract. The archive is a searchable copy of the pages, served by LEXO; the original, kept
unchanged, is still there for whoever needs its attachments (a Factur-X invoice's XML, say).

Removed: JavaScript (document, page, form and annotation actions, the name tree), actions
that launch, submit, import or open other files, open/close actions, XFA forms, embedded
files (the name tree, file specifications' streams) and the annotations that hold or play
files. Links to web addresses and to pages of the same document stay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pikepdf

#: Keys whose values run or hold something, wherever they appear.
ACTIVE_KEYS = (
    "/OpenAction",
    "/AA",
    "/JavaScript",
    "/JS",
    "/EmbeddedFiles",
    "/EF",
    "/XFA",
    "/RichMediaContent",
)
#: Actions that run code, start programs, send data or open other files.
ACTIVE_ACTIONS = frozenset(
    {
        "/JavaScript",
        "/Launch",
        "/SubmitForm",
        "/ImportData",
        "/GoToE",
        "/GoToR",
        "/Rendition",
        "/Movie",
        "/Sound",
        "/RichMediaExecute",
    }
)
#: Annotations that hold or play files.
ACTIVE_ANNOTATIONS = frozenset(
    {"/FileAttachment", "/Movie", "/Sound", "/Screen", "/RichMedia", "/3D"}
)


def make_inert(pdf: pikepdf.Pdf) -> int:
    """Strip ``pdf`` (in place) of what :data:`ACTIVE_KEYS`, :data:`ACTIVE_ACTIONS` and
    :data:`ACTIVE_ANNOTATIONS` name; how many things were removed."""
    import pikepdf

    removed = 0
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if isinstance(annots, pikepdf.Array):
            kept = [a for a in annots if not _active_annotation(a)]
            removed += len(annots) - len(kept)
            page.obj.Annots = pikepdf.Array(kept)
    # Every indirect object, and the direct objects inside each (not following references:
    # the objects they point to are in the list too).
    for obj in [pdf.trailer, *pdf.objects]:
        stack: list[Any] = [obj]
        while stack:
            item = stack.pop()
            if isinstance(item, pikepdf.Stream):
                item = item.stream_dict
            if isinstance(item, pikepdf.Dictionary):
                removed += _scrub(item)
                stack.extend(v for v in item.values() if _direct(v))
            elif isinstance(item, pikepdf.Array):
                stack.extend(v for v in item if _direct(v))
    return removed


def _direct(value: Any) -> bool:
    import pikepdf

    return isinstance(value, (pikepdf.Dictionary, pikepdf.Array, pikepdf.Stream)) and not (
        value.is_indirect
    )


def _scrub(item: pikepdf.Dictionary) -> int:
    import pikepdf

    removed = 0
    for key in ACTIVE_KEYS:
        if key in item:
            del item[key]
            removed += 1
    action = item.get("/A")
    if isinstance(action, pikepdf.Dictionary) and str(action.get("/S", "")) in ACTIVE_ACTIONS:
        del item["/A"]
        removed += 1
    if str(item.get("/S", "")) in ACTIVE_ACTIONS:  # an action met on its own (a /Next chain)
        for key in list(item.keys()):
            if key != "/Type":
                del item[key]
        item["/S"] = pikepdf.Name.GoTo  # a jump to nowhere: viewers ignore it
        item["/D"] = pikepdf.Array()
        removed += 1
    if "/Next" in item and str(item.get("/Type", "")) == "/Action":
        del item["/Next"]
    return removed


def _active_annotation(annotation: Any) -> bool:
    import pikepdf

    return isinstance(annotation, pikepdf.Dictionary) and (
        str(annotation.get("/Subtype", "")) in ACTIVE_ANNOTATIONS
    )
