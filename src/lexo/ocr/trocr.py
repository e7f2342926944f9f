"""TrOCR: a transformer line recogniser (``VisionEncoderDecoderModel``) from the model cache.

TrOCR reads one text line per image; it does not find lines. LEXO uses it to re-read the
lines Tesseract found but read with low confidence (:mod:`lexo.ocr.hybrid`). The model is
loaded from ``MODELS_DIR/transformers/<OCR_TROCR_MODEL>`` only, offline — a model missing
from the cache is a clear "unavailable" with the reason, never a download. torch and
transformers are imported when the engine is built, never at API start.

Calls from several OCR threads are serialised: one batched ``generate`` already uses every
core through torch's own threads, and two at once would only fight over them.
"""

from __future__ import annotations

import importlib.util
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lexo.document import Line, Word
from lexo.errors import ModelLoadError, ModelMissingError
from lexo.ocr.engine import OcrResult

if TYPE_CHECKING:
    from PIL import Image

    from lexo.settings import Settings

#: Tokens generated per line at most: a printed line of a French form is ~10–40 words.
MAX_NEW_TOKENS = 96


@dataclass(frozen=True, slots=True)
class LineReading:
    """TrOCR's text for one line image, and its confidence 0..100: the geometric mean of
    the probabilities of the tokens it chose (end-of-line token included)."""

    text: str
    confidence: float


def model_dir(settings: Settings) -> Path:
    """Where the TrOCR model of the settings is expected."""
    return settings.models_dir / "transformers" / settings.ocr_trocr_model


def unavailable_reason(settings: Settings) -> str | None:
    """Why TrOCR cannot be used with these settings (None when it can be tried).

    Cheap and without imports: a few ``stat`` calls and module look-ups.
    """
    folder = model_dir(settings)
    if not (folder / "config.json").is_file():
        return (
            f"The TrOCR model {settings.ocr_trocr_model!r} is not in the model cache "
            f"({folder}); copy it there with 'lexo models migrate' (from a Hugging Face cache "
            "holding e.g. microsoft/trocr-base-printed). Pages are read by Tesseract alone."
        )
    missing = [m for m in ("torch", "transformers") if importlib.util.find_spec(m) is None]
    if missing:
        return (
            f"TrOCR needs {' and '.join(missing)}, which are not installed; install LEXO "
            "with its [ml] extra. Pages are read by Tesseract alone."
        )
    return None


class TrOCREngine:
    """A TrOCR model, loaded once, reading batches of line images."""

    name = "trocr"

    def __init__(self, settings: Settings) -> None:
        reason = unavailable_reason(settings)
        if reason is not None:
            raise ModelMissingError(reason)
        from lexo.modelload import load_transformers

        start = time.perf_counter()
        self.path = model_dir(settings)
        model, processor = load_transformers(self.path)
        if model.config.model_type != "vision-encoder-decoder":
            raise ModelLoadError(
                f"{self.path} holds a {model.config.model_type!r} model, not a TrOCR "
                "(vision-encoder-decoder) model."
            )
        self.model: Any = model
        self.processor: Any = processor
        self.batch_size = settings.ocr_trocr_batch_size
        positions = getattr(model.config.decoder, "max_position_embeddings", None) or 512
        self.max_new_tokens = max(1, min(MAX_NEW_TOKENS, positions - 2))
        self.load_seconds = time.perf_counter() - start
        self._lock = threading.Lock()

    @classmethod
    def describe(cls, settings: Settings) -> dict[str, Any]:
        """Facts for health reports, read without loading anything."""
        reason = unavailable_reason(settings)
        return {
            "model": settings.ocr_trocr_model,
            "path": str(model_dir(settings)),
            "available": reason is None,
            "unavailable_reason": reason,
        }

    def read_lines(self, images: list[Image.Image]) -> list[LineReading]:
        """One reading per line image, in order, read ``batch_size`` at a time."""
        out: list[LineReading] = []
        for first in range(0, len(images), self.batch_size):
            out.extend(self._batch(images[first : first + self.batch_size]))
        return out

    def recognize(self, image: Image.Image, *, dpi: int | None = None) -> OcrResult:
        """The image read as one text line (TrOCR finds no layout)."""
        start = time.perf_counter()
        (reading,) = self.read_lines([image])
        box = (0, 0, image.width, image.height)
        words = tuple(Word(w, reading.confidence, None) for w in reading.text.split())
        lines = [Line(reading.text, reading.confidence, box, words)] if words else []
        return OcrResult(
            text=reading.text if words else "",
            confidence=reading.confidence if words else None,
            lines=lines,
            seconds=time.perf_counter() - start,
            size=(image.width, image.height),
            engine=self.name,
        )

    def close(self) -> None:
        with self._lock:
            self.model = None
            self.processor = None

    def _batch(self, images: list[Image.Image]) -> list[LineReading]:
        import torch

        rgb = [im if im.mode == "RGB" else im.convert("RGB") for im in images]
        with self._lock, torch.inference_mode():
            if self.model is None:
                raise ModelLoadError("The TrOCR engine was closed.")
            pixels = self.processor(images=rgb, return_tensors="pt").pixel_values
            out = self.model.generate(
                pixels,
                max_new_tokens=self.max_new_tokens,
                num_beams=1,
                do_sample=False,
                output_scores=True,
                return_dict_in_generate=True,
            )
            # Log-probability of each chosen token, from the normalised logits.
            scores = self.model.compute_transition_scores(
                out.sequences, out.scores, normalize_logits=True
            )
            texts = self.processor.batch_decode(out.sequences, skip_special_tokens=True)
        generated = out.sequences[:, -scores.shape[1] :]
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos])
        return [
            LineReading(" ".join(text.split()), _confidence(tokens.tolist(), row.tolist(), eos_ids))
            for text, tokens, row in zip(texts, generated, scores, strict=True)
        ]


def _confidence(tokens: list[int], logprobs: list[float], eos_ids: set[int | None]) -> float:
    """exp(mean log-probability) × 100 of the tokens up to and including the first end."""
    kept: list[float] = []
    for token, logprob in zip(tokens, logprobs, strict=True):
        kept.append(logprob if math.isfinite(logprob) else -50.0)
        if token in eos_ids:
            break
    if not kept:
        return 0.0
    return round(100.0 * math.exp(sum(kept) / len(kept)), 2)
