"""Sentence embeddings on ONNX Runtime: ``lexo models optimize`` makes them, search uses them.

The PyTorch path (sentence-transformers) costs seconds to start and hundreds of MB, mostly
importing and initialising torch. An ONNX export of the same transformer runs on ONNX
Runtime with the model's own ``tokenizers`` tokenizer and mean pooling in NumPy: torch is
never imported. ``optimize`` exports the cached sentence-transformers model with
``torch.onnx.export`` (once, at the user's request) and, by default, quantises its matrix
products to int8 per channel (``onnxruntime.quantization.quantize_dynamic``), which keeps
vectors within a cosine of ~0.99 of PyTorch's (measured by ``bench/embed.py``). The result
goes into the model cache as ``onnx/<name>/`` with its SHA-256 manifest entry, like any model.

Both export and quantisation are deterministic; the embedder's ``name`` is the source
model's, so passages embedded by either path stay searchable by the other.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import threading
import time
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lexo.errors import ModelLoadError, ModelMissingError
from lexo.modelload import LoadReport

if TYPE_CHECKING:
    import numpy as np

    from lexo.modelcache import ModelCache, ModelEntry

KIND = "onnx"
SOURCE_KIND = "sentence-transformers"
META = "lexo-onnx.json"
MODEL_FILE = "model.onnx"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
BATCH_SIZE = 32
#: ONNX opset of the export: supported by every ONNX Runtime of the last years.
OPSET = 17


def optimized_path(cache: ModelCache, name: str) -> Path | None:
    """The ONNX export of sentence-transformers model ``name``, if ``optimize`` made one."""
    folder = cache.path(KIND, name)
    return folder if (folder / META).is_file() and (folder / MODEL_FILE).is_file() else None


def optimize(cache: ModelCache, name: str, *, quantize: bool = True) -> ModelEntry:
    """Export the cached sentence-transformers model ``name`` to ONNX (int8 when
    ``quantize``) into ``onnx/<name>/`` of the cache, and record it in the manifest."""
    source = cache.require(SOURCE_KIND, name)
    pooling = _pooling(source)
    if pooling != "mean":
        raise ModelLoadError(
            f"{name} pools its tokens by {pooling!r}; only mean pooling is exported to ONNX."
        )
    entry = cache.entries().get(f"{SOURCE_KIND}/{name}")
    with tempfile.TemporaryDirectory(prefix="lexo-onnx-") as tmp:
        work = Path(tmp)
        out = work / "model"
        out.mkdir()
        dimension = _export(source, work / "fp32.onnx")
        if quantize:
            from onnxruntime.quantization import QuantType, quantize_dynamic

            # Per-channel int8 weights of the matrix products only: cosine ~0.99 to the
            # float model; per-tensor or every op type fell to ~0.95 (bench/embed.py).
            quantize_dynamic(
                work / "fp32.onnx",
                out / MODEL_FILE,
                weight_type=QuantType.QInt8,
                per_channel=True,
                op_types_to_quantize=["MatMul"],
            )
        else:
            shutil.copy2(work / "fp32.onnx", out / MODEL_FILE)
        shutil.copy2(source / "tokenizer.json", out / "tokenizer.json")
        meta = {
            "source": f"{SOURCE_KIND}/{name}",
            "source_revision": entry.revision if entry else None,
            "dimension": dimension,
            "max_seq_length": _max_length(source),
            "pooling": "mean",
            "normalize": True,
            "quantized": "int8" if quantize else None,
            "inputs": list(INPUTS),
            "opset": OPSET,
        }
        (out / META).write_text(json.dumps(meta, indent=2) + "\n")
        return cache.add(
            KIND,
            name,
            out,
            source=f"lexo-optimize:{SOURCE_KIND}/{name}",
            revision="int8" if quantize else "fp32",
        )


class OnnxEmbedder:
    """An :class:`~lexo.index.embedders.Embedder` on ONNX Runtime (no torch); the class is
    its backend in the registry (:func:`~lexo.index.embedders.register_embedder`)."""

    kind = KIND

    def __init__(self, name: str, folder: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        try:
            self.meta: dict[str, Any] = json.loads((folder / META).read_text())
        except (OSError, ValueError) as exc:
            raise ModelMissingError(
                f"{folder} has no readable {META}; run 'lexo models optimize' again."
            ) from exc
        self.name = name
        self.dimension = int(self.meta["dimension"])
        self.quantized = self.meta.get("quantized")
        options = onnxruntime.SessionOptions()
        options.log_severity_level = 3  # warnings about unused initialisers are noise
        # One thread. A query is a few tokens (3 ms), and a second intra-op thread spins
        # after each run, taking the other core and the memory bandwidth from what follows
        # it in a search (the exact vector scan of 100k passages: 13 ms -> 26 ms on the
        # 2-core machine, bench/search.py); passages went faster on one thread too while
        # other work kept the cores busy (21 vs 15 a second).
        options.intra_op_num_threads = 1
        try:
            self._session = onnxruntime.InferenceSession(
                str(folder / MODEL_FILE), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own types for corrupt files
            raise ModelLoadError(f"{folder / MODEL_FILE} did not load: {exc}") from exc
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.enable_truncation(int(self.meta.get("max_seq_length") or 256))
        self._tokenizer.enable_padding()
        self._lock = threading.Lock()  # the tokenizer's padding state is per object

    @classmethod
    def present(cls, cache: ModelCache, name: str) -> bool:
        """Whether ``lexo models optimize`` exported model ``name`` into the cache."""
        return optimized_path(cache, name) is not None

    @classmethod
    def load(cls, cache: ModelCache, name: str) -> OnnxEmbedder:
        folder = optimized_path(cache, name)
        if folder is None:
            raise ModelMissingError(
                f"No ONNX export of {name} in the model cache; run 'lexo models optimize'."
            )
        return cls(name, folder)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        out = [self._batch(texts[i : i + BATCH_SIZE]) for i in range(0, len(texts), BATCH_SIZE)]
        if not out:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.concatenate(out).astype(np.float32, copy=False)

    def _batch(self, texts: Sequence[str]) -> np.ndarray:
        import numpy as np

        with self._lock:
            encoded = self._tokenizer.encode_batch(list(texts))
        arrays = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        feeds = {k: v for k, v in arrays.items() if k in self._inputs}
        hidden = self._session.run(None, feeds)[0]
        mask = arrays["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: np.ndarray = pooled / np.maximum(norms, 1e-12)
        return result


def smoke(path: Path) -> LoadReport:
    """Load an export and embed one sentence (``lexo models validate --load``)."""
    start = time.perf_counter()
    model = OnnxEmbedder(path.name, path)
    loaded = time.perf_counter() - start
    vectors = model.encode(["Facture d'électricité de mars"])
    quantized = model.quantized or "float32"
    return LoadReport(
        loaded, time.perf_counter() - start - loaded, f"dimension {vectors.shape[-1]}, {quantized}"
    )


def _export(source: Path, target: Path) -> int:
    """The transformer of a sentence-transformers folder as ONNX (token embeddings out);
    returns the embedding dimension."""
    from lexo.modelload import enforce_offline

    enforce_offline()
    import torch
    from transformers import AutoModel, AutoTokenizer

    # Plain attention ops trace without shape-dependent branches (SDPA's would be frozen).
    model = AutoModel.from_pretrained(
        source, local_files_only=True, attn_implementation="eager"
    ).eval()
    tokenizer = AutoTokenizer.from_pretrained(source, local_files_only=True)
    sample = tokenizer(
        ["Facture d'électricité", "Avis d'impôt 2026"], return_tensors="pt", padding=True
    )
    names = [n for n in INPUTS if n in sample]

    class Tokens(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *tensors: Any) -> Any:
            return self.inner(**dict(zip(names, tensors, strict=True))).last_hidden_state

    axes = {n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]}
    # The tracer warns about shape checks of the attention mask that are constant for
    # these inputs (padding is always as long as the batch); tests check mixed lengths.
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Tokens(model),
            tuple(sample[n] for n in names),
            str(target),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,  # the TorchScript exporter: needs no onnxscript, handles BERTs well
        )
    return int(model.config.hidden_size)


def _pooling(source: Path) -> str:
    try:
        modules = json.loads((source / "modules.json").read_text())
    except (OSError, ValueError):
        return "mean"  # a bare transformer folder: sentence-transformers pools by mean
    for module in modules:
        if str(module.get("type", "")).endswith("Pooling"):
            config_path = source / module.get("path", "") / "config.json"
            try:
                config = json.loads(config_path.read_text())
            except (OSError, ValueError):
                return "mean"
            modes = [k for k, v in config.items() if k.startswith("pooling_mode") and v]
            if modes == ["pooling_mode_mean_tokens"]:
                return "mean"
            return ",".join(modes) or "none"
    return "mean"


def _max_length(source: Path) -> int:
    try:
        config = json.loads((source / "sentence_bert_config.json").read_text())
        return int(config.get("max_seq_length") or 256)
    except (OSError, ValueError):
        return 256
