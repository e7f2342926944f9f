"""The OCR engine interface, the registry of engines, and the lazy holder of loaded ones.

An engine is anything with a ``name``, ``recognize(image, dpi=...)`` and ``close()``;
a factory (usually the engine class) builds one from :class:`Settings`. Built-in engines
register through :func:`register_engine` exactly as a third-party one would. A factory may
also offer ``describe(settings) -> dict``: facts shown in health reports before loading.

The layout engine (``Settings.ocr_engine``) may also hand its reading to a :data:`Refiner` (the
hybrid reading's TrOCR pass) on the image as it read it, before mapping boxes back onto the
page as given: an engine that can declares ``refines = True`` and accepts ``refine=``
(:class:`RefiningEngine`). :func:`recognize` calls any engine either way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol, cast

from lexo.document import Line
from lexo.errors import ConfigError
from lexo.lazy import Lazy

if TYPE_CHECKING:
    from PIL import Image

    from lexo.settings import Settings


@dataclass(slots=True)
class OcrResult:
    """What an engine read on one page image."""

    text: str
    confidence: float | None  # mean word confidence 0..100; None when no words
    lines: list[Line] = field(default_factory=list)
    seconds: float = 0.0  # time spent recognizing
    #: Degrees the page image was turned (counter-clockwise) before it was read; the boxes
    #: of ``lines`` are mapped back onto the image as given, of ``size`` (width, height).
    rotation: float = 0.0
    size: tuple[int, int] | None = None
    notes: list[str] = field(default_factory=list)
    #: Which engines produced the text (``tesseract``, ``tesseract+trocr``…); None: the
    #: engine's own name.
    engine: str | None = None

    @property
    def word_count(self) -> int:
        return sum(len(line.words) for line in self.lines)


class OcrEngine(Protocol):
    """One OCR engine, loaded and ready. ``recognize`` may be called from several threads."""

    name: str

    def recognize(self, image: Image.Image, *, dpi: int | None = None) -> OcrResult: ...

    def close(self) -> None: ...


#: Called by a :class:`RefiningEngine` on the image it read (turned upright, straightened)
#: and its reading, before the boxes are mapped back onto the page as given.
Refiner = Callable[["Image.Image", OcrResult], OcrResult]


class RefiningEngine(OcrEngine, Protocol):
    """An engine that lets a :data:`Refiner` rework its reading; it says so with
    ``refines = True``."""

    refines: ClassVar[Literal[True]]

    def recognize(
        self, image: Image.Image, *, dpi: int | None = None, refine: Refiner | None = None
    ) -> OcrResult: ...


def recognize(
    engine: OcrEngine, image: Image.Image, *, dpi: int | None, refine: Refiner
) -> OcrResult:
    """``engine``'s reading of ``image``, reworked by ``refine``: inside the engine when it
    declares it can (:class:`RefiningEngine`), else afterwards, on the page as given."""
    if getattr(engine, "refines", False) is True:
        return cast(RefiningEngine, engine).recognize(image, dpi=dpi, refine=refine)
    return refine(image, engine.recognize(image, dpi=dpi))


EngineFactory = Callable[["Settings"], OcrEngine]

#: Engine name → factory. Extended with :func:`register_engine`.
ENGINES: dict[str, EngineFactory] = {}


def register_engine(name: str, factory: EngineFactory) -> None:
    """Make an engine available under ``name`` (replacing any engine of that name)."""
    ENGINES[name] = factory


class Engines:
    """One :class:`Lazy` per registered engine: nothing loads until :meth:`get` is called.

    A failed load is retried on the next :meth:`get`, so installing missing language data
    fixes a running server; :meth:`status` keeps the last error until then.
    """

    def __init__(
        self, settings: Settings, registry: dict[str, EngineFactory] | None = None
    ) -> None:
        factories = dict(ENGINES if registry is None else registry)
        self._settings = settings
        self._factories = factories
        self._lazies: dict[str, Lazy[OcrEngine]] = {
            name: Lazy(name, partial(factory, settings), retry=True)
            for name, factory in factories.items()
        }

    @property
    def names(self) -> list[str]:
        return list(self._lazies)

    def get(self, name: str) -> OcrEngine:
        """The engine called ``name``, loaded on first use."""
        lazy = self._lazies.get(name)
        if lazy is None:
            known = ", ".join(self._lazies) or "none"
            raise ConfigError(f"Unknown OCR engine {name!r}; available: {known}.")
        return lazy.get()

    @property
    def initialized(self) -> bool:
        """True once any engine is loaded and ready."""
        return any(lazy.loaded for lazy in self._lazies.values())

    def status(self) -> dict[str, dict[str, Any]]:
        """Per engine: ``state``, ``load_seconds``, ``error``, plus what its factory describes."""
        out: dict[str, dict[str, Any]] = {}
        for name, lazy in self._lazies.items():
            item = lazy.status()
            describe = getattr(self._factories[name], "describe", None)
            if callable(describe):
                try:
                    item.update(describe(self._settings))
                except Exception as exc:  # a health report must never fail
                    item["describe_error"] = str(exc)
            out[name] = item
        return out

    def close(self) -> None:
        """Close every loaded engine; a later :meth:`get` loads it again."""
        for lazy in self._lazies.values():
            engine = lazy.reset()
            if engine is not None:
                engine.close()
