"""Health: cheap, never loads a model."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from lexo.api.deps import RuntimeDep

router = APIRouter(prefix="/api/v1/health", tags=["health"])


@router.get("", summary="Database, queue, watcher, worker, version and uptime")
def health(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.health()


@router.get("/ocr", summary="OCR engines: loaded or not (they load on first use)")
def health_ocr(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.ocr_health()


@router.get(
    "/models",
    summary="Models in ml_models/: present, verified (SHA-256), loaded, load time, memory",
)
def health_models(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.models_health()


@router.get(
    "/llm",
    summary="The language model: back-end, model, loaded, load time, last tokens per second",
)
def health_llm(runtime: RuntimeDep) -> dict[str, Any]:
    return runtime.llm_health()
