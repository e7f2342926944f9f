"""Settings rules, and documentation that cannot drift from the code."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from lexo.errors import ConfigError
from lexo.settings import Settings

from .conftest import ROOT, make_settings


def test_defaults_are_local_and_safe(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    assert s.host == "127.0.0.1" and s.port == 8000 and s.is_loopback
    assert s.database_url == f"sqlite:///{tmp_path / 'data' / 'lexo.db'}"
    assert s.ocr_languages == "fra"


def test_public_bind_requires_a_token(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="LEXO_API_TOKEN"):
        make_settings(tmp_path, host="0.0.0.0")
    assert not make_settings(tmp_path, host="0.0.0.0", api_token="t").is_loopback


def test_inbox_may_not_overlap_data_or_models(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="overlaps"):
        make_settings(tmp_path, inbox_dir=tmp_path / "data" / "in")
    with pytest.raises(ConfigError, match="overlaps"):
        make_settings(tmp_path, inbox_dir=tmp_path, models_dir=tmp_path / "m")


def test_environment_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LEXO_PORT", "9123")
    monkeypatch.setenv("LEXO_INBOX_DIR", str(tmp_path / "boite"))
    s = Settings(_env_file=None, data_dir=tmp_path / "d")  # type: ignore[call-arg]
    assert s.port == 9123 and s.inbox_dir == tmp_path / "boite"


def test_every_setting_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    missing = [n for n in Settings.model_fields if f"`LEXO_{n.upper()}`" not in doc]
    assert not missing, f"document these settings in docs/configuration.md: {missing}"


def test_every_cli_command_is_documented() -> None:
    from lexo.cli import app

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    missing = [n for n in names if f"`lexo {n}" not in readme]
    assert names and not missing, f"document these commands in README.md: {missing}"


def test_every_api_route_is_documented(tmp_path: Path) -> None:
    from lexo.api.app import create_app

    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    app = create_app(make_settings(tmp_path))
    paths = app.openapi()["paths"]
    routes = [(m.upper(), p) for p, ops in paths.items() for m in ops if p.startswith("/api/")]
    missing = [f"{m} {p}" for m, p in routes if f"`{m} {p}`" not in doc]
    assert routes and not missing, f"document these routes in docs/api.md: {missing}"


def test_every_dependency_is_explained() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    doc = (ROOT / "docs" / "dependencies.md").read_text(encoding="utf-8")
    declared = project["dependencies"] + [
        d for ds in project["optional-dependencies"].values() for d in ds
    ]
    names = {re.split(r"[\[<>=!~ ]", d, maxsplit=1)[0].lower() for d in declared}
    missing = sorted(n for n in names if f"`{n}" not in doc.lower())
    assert not missing, f"explain these dependencies in docs/dependencies.md: {missing}"
