"""Entities with spaCy's French model from the model cache, loaded only when first needed."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from lexo.modelcache import ModelCache
from lexo.understand import understand
from lexo.understand.entities import NO_MODEL_NOTE, EntityRecognizer


@dataclass
class TextPage:
    number: int
    text: str


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model cache holding the installed fr_core_news_md, as 'lexo models migrate' makes."""
    fr_core_news_md = pytest.importorskip("fr_core_news_md")
    package = Path(fr_core_news_md.__file__).parent
    folder = next(p for p in package.iterdir() if (p / "config.cfg").exists())
    root = tmp_path_factory.mktemp("ml_models")
    ModelCache(root).add("spacy", "fr_core_news_md", folder, source="test")
    return root


def test_people_organisations_and_places(models_dir: Path) -> None:
    recognizer = EntityRecognizer(models_dir)
    assert recognizer.status()["state"] == "not_loaded"
    text = "Madame Claire Dubois habite à Lyon et travaille chez Renault depuis 2019."
    found = understand([TextPage(1, text)], entities=recognizer)
    assert recognizer.status()["state"] == "ready"
    by_label = {(e.label, e.text) for e in found.entities}
    assert ("PER", "Claire Dubois") in by_label
    assert ("LOC", "Lyon") in by_label
    person = next(e for e in found.entities if e.text == "Claire Dubois")
    assert text[person.start : person.end] == "Claire Dubois" and person.page == 1
    assert NO_MODEL_NOTE not in found.notes


def test_without_a_cached_model_rules_still_work(tmp_path: Path) -> None:
    recognizer = EntityRecognizer(tmp_path / "empty")
    found = understand([TextPage(1, "FACTURE\nTotal TTC 12,00 €")], entities=recognizer)
    assert found.doc_type == "facture" and found.values()["amount_total"] == 12.0
    assert found.entities == [] and NO_MODEL_NOTE in found.notes


def test_an_organisation_found_by_spacy_fills_a_missing_issuer() -> None:
    class Fake:
        def recognize(self, pages: object) -> tuple[list[object], None]:
            from lexo.understand.results import Entity

            return [Entity("Renault", "ORG", 1, 0, 7)], None

    found = understand([TextPage(1, "12/03/2026")], entities=Fake())  # type: ignore[arg-type]
    assert found.fields["issuer"].value == "Renault"
    assert found.fields["issuer"].source == "entities"


def test_importing_the_pipeline_loads_no_nlp_library() -> None:
    code = (
        "import sys, lexo.pipeline, lexo.understand, lexo.api.app; "
        "print(sorted({'spacy', 'sklearn', 'torch', 'thinc'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_person_found_by_spacy_fills_a_missing_employee() -> None:
    class Fake:
        def recognize(self, pages: object) -> tuple[list[object], None]:
            from lexo.understand.results import Entity

            return [Entity("Léa Aubrée", "PER", 1, 63, 73)], None

    text = "BULLETIN DE PAIE\nTransports Gérard\nSARL au capital de 10 000 €\nLéa Aubrée\n"
    found = understand([TextPage(1, text)], entities=Fake())  # type: ignore[arg-type]
    assert found.fields["employee"].value == "Léa Aubrée"
    assert found.fields["employee"].source == "entities"


def test_the_spacy_model_loads_without_torch_which_stays_importable(models_dir: Path) -> None:
    """thinc imports torch when it can (~230 MB resident, never given back), though LEXO's CNN
    pipelines run on numpy: the model is loaded with torch hidden, and torch can be imported
    afterwards (TrOCR needs it)."""
    code = (
        "import sys; from pathlib import Path; "
        "from lexo.understand.entities import EntityRecognizer; "
        f"r = EntityRecognizer(Path({str(models_dir)!r})); "
        "nlp = r.model.get(); "
        "ents = [e.text for e in nlp('Madame Claire Dubois habite à Lyon.').ents]; "
        "print('torch' in sys.modules, 'Claire Dubois' in ents); "
        "import torch; print(torch.tensor([1]).item())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True", "1"], out.stdout + out.stderr
