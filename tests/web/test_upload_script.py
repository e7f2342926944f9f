"""The page's upload script (static/app.js) run by Node on the server's real answers.

The script is evaluated as the browser would load it, over a small stand-in for the DOM and
XMLHttpRequest: the upload gets the answer the API really gave, and the test reads what the
page then shows. The browser tests (tests/e2e) cover the same in Chromium where it exists.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lexo.settings import Settings
from tests.web.conftest import serving

NODE = shutil.which("node")
EN = {"Accept-Language": "en-GB,en;q=0.9"}

#: Stands in for the page around #drop, #files, #uploads and #activity; one upload of
#: notes.txt answered with the given status and body; prints the upload's line.
HARNESS = r"""
const fs = require("fs"), vm = require("vm");
const given = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
class El {
  constructor(tag) {
    Object.assign(this, { tagName: tag, children: [], listeners: {}, dataset: {}, style: {},
                          attributes: {}, textContent: "", className: "", title: "" });
    this.classList = { add: (c) => { this.className = `${this.className} ${c}`.trim(); },
                       remove() {}, contains() { return false; } };
  }
  append(...els) { this.children.push(...els); }
  prepend(el) { this.children.unshift(el); }
  addEventListener(type, f) { (this.listeners[type] ||= []).push(f); }
  fire(type) { (this.listeners[type] || []).forEach((f) => f({ preventDefault() {} })); }
  setAttribute(k, v) { this.attributes[k] = v; }
  querySelector() { return null; }
  querySelectorAll() { return []; }
}
const found = { "lexo-strings": new El("script"), drop: new El("div"), files: new El("input"),
                uploads: new El("ul"), activity: new El("ul") };
found["lexo-strings"].textContent = given.strings;
const onDocument = {};
const sent = [];
class XMLHttpRequest {
  constructor() { this.upload = new El("upload"); this.listeners = {}; this.headers = {}; }
  open(method, url) { this.method = method; this.url = url; }
  setRequestHeader(k, v) { this.headers[k] = v; }
  addEventListener(type, f) { (this.listeners[type] ||= []).push(f); }
  send() {
    sent.push(this);
    this.status = given.status;
    this.responseText = given.body;
    (this.listeners.loadend || []).forEach((f) => f());
  }
}
const document = {
  hidden: true,
  querySelector: (sel) => (sel.startsWith("#") ? found[sel.slice(1)] || null : null),
  querySelectorAll: () => [],
  createElement: (tag) => new El(tag),
  addEventListener: (type, f) => { onDocument[type] = f; },
};
const context = { document, XMLHttpRequest, FormData: class { append() {} },
                  fetch: async () => ({ ok: false }), setTimeout: () => 0, console, JSON };
vm.runInNewContext(fs.readFileSync(given.script, "utf8"), context);
onDocument.DOMContentLoaded();
found.files.files = [{ name: "notes.txt" }];
found.files.fire("change");
const line = found.uploads.children[0], state = line.children[2];
console.log(JSON.stringify({ url: sent[0].method + " " + sent[0].url, text: state.textContent,
                             title: state.title, className: line.className }));
"""


def _strings(html: str) -> str:
    found = re.search(r'<script type="application/json" id="lexo-strings">(.*?)</script>', html)
    assert found, "the page carries its script's strings"
    return found.group(1)


def _shown(tmp_path: Path, script: str, page: str, answer: Any) -> dict[str, str]:
    """What the inbox page's upload line says once the server gave ``answer``."""
    (tmp_path / "app.js").write_text(script, encoding="utf-8")
    given = {
        "script": str(tmp_path / "app.js"),
        "strings": _strings(page),
        "status": answer.status_code,
        "body": answer.text,
    }
    (tmp_path / "given.json").write_text(json.dumps(given), encoding="utf-8")
    (tmp_path / "harness.js").write_text(HARNESS, encoding="utf-8")
    assert NODE is not None
    out = subprocess.run(
        [NODE, str(tmp_path / "harness.js"), str(tmp_path / "given.json")],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    shown: dict[str, str] = json.loads(out.stdout)
    return shown


@pytest.mark.skipif(NODE is None, reason="needs Node.js to run the page's script")
def test_a_refused_type_is_said_in_the_page_language(
    web_settings: Settings, tmp_path: Path
) -> None:
    with serving(web_settings) as (client, _runtime):
        client: TestClient  # type: ignore[no-redef]
        refused = client.post("/api/v1/documents", files={"file": ("notes.txt", b"du texte\n")})
        empty = client.post("/api/v1/documents", files={"file": ("vide.pdf", b"")})
        french, english = client.get("/").text, client.get("/", headers=EN).text
        script = client.get("/static/app.js").text
    assert refused.status_code == 415 and empty.status_code == 422
    message = refused.json()["error"]["message"]

    shown = _shown(tmp_path, script, french, refused)
    assert shown["url"] == "POST /api/v1/documents" and shown["className"] == "error"
    assert shown["text"] == (
        "échec de l'envoi : type de fichier non pris en charge "
        "(LEXO lit les PDF et les images JPEG, PNG, TIFF, WebP, BMP, GIF)"
    )
    assert shown["title"] == message  # the server's own words: which type it saw
    shown = _shown(tmp_path, script, english, refused)
    assert shown["text"].startswith("upload failed: file type not supported (LEXO reads PDF")
    # Other refusals show the server's message, as before.
    shown = _shown(tmp_path, script, french, empty)
    assert shown["text"] == f"échec de l'envoi : {empty.json()['error']['message']}"
