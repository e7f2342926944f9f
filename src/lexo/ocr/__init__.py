"""OCR engines behind one small interface; see :mod:`lexo.ocr.engine`.

Importing this package registers the built-in engines; none of them is loaded (and no
OCR library imported) until :meth:`Engines.get` is first called.
"""

from lexo.ocr.engine import ENGINES, Engines, OcrEngine, OcrResult, register_engine
from lexo.ocr.tesseract import TesseractEngine

register_engine(TesseractEngine.name, TesseractEngine)

__all__ = ["ENGINES", "Engines", "OcrEngine", "OcrResult", "TesseractEngine", "register_engine"]
