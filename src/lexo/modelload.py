"""Loading cached models for real, offline, with one inference each (``lexo models validate``).

Every loader takes a local folder and passes ``local_files_only=True``; the process is put in
offline mode before any ML library is imported, so a missing file is an error naming the file,
never a download. Engines (TrOCR, embedder, NER) load through these same functions.
"""

from __future__ import annotations

import contextlib
import os
import struct
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lexo.errors import LexoError, ModelLoadError, ModelMissingError

OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_IMPLICIT_TOKEN": "1",
    "DO_NOT_TRACK": "1",
}


def enforce_offline() -> None:
    """Put this process (and its children) in offline mode for every ML library.

    Called by each entry point before anything could import transformers, huggingface_hub
    or sentence-transformers, which read these variables once, at import.
    """
    os.environ.update(OFFLINE_ENV)


@dataclass(frozen=True, slots=True)
class LoadReport:
    load_s: float
    inference_s: float
    detail: str
    #: False when the model was only checked, not loaded (GGUF: LEXO has no GGUF runtime, so
    #: only the file's header is read); ``lexo models validate`` must not say "loaded" then.
    loaded: bool = True


def load_transformers(path: Path) -> tuple[Any, Any]:
    """A transformers model and its processor/tokenizer from a local folder.

    Vision-encoder-decoder models (TrOCR) get ``VisionEncoderDecoderModel`` and an image
    processor + tokenizer; others ``AutoModel`` and ``AutoTokenizer``.
    """
    _exists(path)
    enforce_offline()
    import transformers

    config = transformers.AutoConfig.from_pretrained(path, local_files_only=True)
    model: Any
    processor: Any
    if config.model_type == "vision-encoder-decoder":
        model = transformers.VisionEncoderDecoderModel.from_pretrained(path, local_files_only=True)
        processor = transformers.TrOCRProcessor.from_pretrained(path, local_files_only=True)
    else:
        model = transformers.AutoModel.from_pretrained(path, local_files_only=True)
        processor = transformers.AutoTokenizer.from_pretrained(path, local_files_only=True)
    model.eval()
    return model, processor


def load_sentence_transformer(path: Path) -> Any:
    _exists(path)
    enforce_offline()
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(path), device="cpu", local_files_only=True)


def load_spacy(path: Path) -> Any:
    _exists(path)
    with _torch_hidden():
        import spacy

        return spacy.load(path)


@contextlib.contextmanager
def _torch_hidden() -> Iterator[None]:
    """Keep thinc (spaCy's engine) from importing torch, which it only needs for transformer
    pipelines: LEXO's are CNN pipelines run on numpy, and torch alone costs ~230 MB of resident
    memory that is never given back. thinc decides once, at its import, whether torch is
    there; while torch is not imported yet, ``sys.modules["torch"] = None`` makes that import
    fail, and the entry is removed afterwards so that TrOCR can still import torch."""
    if "torch" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


def read_gguf_header(path: Path) -> dict[str, int]:
    """Check a GGUF file's magic and read its version and tensor count (no LLM needed)."""
    _exists(path)
    with path.open("rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[:4] != b"GGUF":
        raise ModelLoadError(f"{path.name} is not a GGUF file (bad magic).")
    version, tensors, metadata = struct.unpack("<IQQ", head[4:24])
    return {"version": version, "tensors": tensors, "metadata_keys": metadata}


def smoke_test(
    kind: str, path: Path, more: dict[str, Callable[[Path], LoadReport]] | None = None
) -> LoadReport:
    """Load a model and run one inference; timings for ``lexo models validate --load``.
    ``more``: loaders of kinds made by LEXO's own stages (ONNX exports), given by the caller
    so that this module stays below them."""
    loader = {**_SMOKE, **(more or {})}.get(kind)
    if loader is None:
        raise ModelLoadError(f"No loader for model kind {kind!r}.")
    try:
        return loader(path)
    except LexoError:
        raise
    except Exception as exc:
        raise ModelLoadError(f"{path.name} did not load: {type(exc).__name__}: {exc}") from exc


def _smoke_transformers(path: Path) -> LoadReport:
    start = time.perf_counter()
    model, processor = load_transformers(path)
    loaded = time.perf_counter() - start
    import torch
    from PIL import Image

    with torch.inference_mode():
        if model.config.model_type == "vision-encoder-decoder":
            pixels = processor(images=Image.new("RGB", (384, 64), "white"), return_tensors="pt")
            out = model.generate(pixels.pixel_values, max_new_tokens=4)
            detail = f"generated {out.shape[-1]} tokens"
        else:
            batch = processor(["Avis d'impôt 2026"], return_tensors="pt")
            out = model(**batch)
            detail = "forward pass ok"
    return LoadReport(loaded, time.perf_counter() - start - loaded, detail)


def _smoke_sentence(path: Path) -> LoadReport:
    start = time.perf_counter()
    model = load_sentence_transformer(path)
    loaded = time.perf_counter() - start
    vectors = model.encode(["Facture d'électricité de mars"])
    return LoadReport(
        loaded, time.perf_counter() - start - loaded, f"dimension {vectors.shape[-1]}"
    )


def _smoke_spacy(path: Path) -> LoadReport:
    start = time.perf_counter()
    nlp = load_spacy(path)
    loaded = time.perf_counter() - start
    doc = nlp("Madame Claire Dubois habite à Lyon et travaille chez Renault.")
    ents = ", ".join(f"{e.text}/{e.label_}" for e in doc.ents)
    return LoadReport(loaded, time.perf_counter() - start - loaded, f"entities: {ents}")


_SMOKE: dict[str, Callable[[Path], LoadReport]] = {
    "transformers": _smoke_transformers,
    "sentence-transformers": _smoke_sentence,
    "spacy": _smoke_spacy,
}


def _exists(path: Path) -> None:
    if not path.exists():
        raise ModelMissingError(
            f"Model files expected at {path} are missing; run 'lexo models migrate'."
        )
