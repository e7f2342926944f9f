"""OCR engines behind one small interface; see :mod:`lexo.ocr.engine`.

Importing this package registers the built-in engines; none of them is loaded (and no
OCR library imported) until :meth:`Engines.get` is first called. The strategies that
combine them (``fast``, ``accurate``, ``auto``) are in :mod:`lexo.ocr.hybrid`.
"""

from lexo.ocr.engine import (
    ENGINES,
    Engines,
    OcrEngine,
    OcrResult,
    Refiner,
    RefiningEngine,
    register_engine,
)
from lexo.ocr.hybrid import STRATEGIES, check_strategy, read_page
from lexo.ocr.tesseract import TesseractEngine
from lexo.ocr.trocr import TrOCREngine

register_engine(TesseractEngine.name, TesseractEngine)
register_engine(TrOCREngine.name, TrOCREngine)

__all__ = [
    "ENGINES",
    "STRATEGIES",
    "Engines",
    "OcrEngine",
    "OcrResult",
    "Refiner",
    "RefiningEngine",
    "TesseractEngine",
    "TrOCREngine",
    "check_strategy",
    "read_page",
    "register_engine",
]
