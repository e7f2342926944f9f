/* LEXO web page: uploads with progress, live inbox, deadlines marked paid, corrections,
   reprocessing, deletion.
   Hand-written, no dependencies, nothing fetched from anywhere but this server. */
"use strict";
(() => {
  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
  const strings = JSON.parse(($("#lexo-strings") || {}).textContent || "{}");
  const t = (key, values = {}) =>
    (strings[key] || key).replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ""));
  // Sent with every call that changes something: another site can neither read the
  // session's CSRF token (from the page's meta tag) nor add headers (CORS).
  const csrf = (($('meta[name="csrf-token"]') || {}).content) || "";
  const CLIENT = { "X-Lexo-Client": "web", "X-CSRF-Token": csrf };
  // A refusal for want of the CSRF token says so in the page's language.
  const why = (data, status) =>
    (data && data.error && data.error.code === "csrf" && t("csrf")) ||
    (data && data.error && data.error.message) || String(status);
  const FINAL = new Set(["done", "failed"]);

  async function call(method, url, body) {
    const init = { method, headers: { ...CLIENT, Accept: "application/json" }, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (err) {
      return { ok: false, status: 0, data: null, reason: t("network") };
    }
    let data = null;
    try { data = await response.json(); } catch (err) { data = null; }
    const reason = why(data, response.status);
    return { ok: response.ok, status: response.status, data, reason };
  }

  // -- inbox ---------------------------------------------------------------------------
  function inbox() {
    const drop = $("#drop"), input = $("#files"), uploads = $("#uploads"), activity = $("#activity");
    if (!drop || !input) return;
    const watched = new Set();
    let inFlight = 0, timer = null;

    const pending = () =>
      inFlight > 0 || $$("[data-status]", activity).some((li) => !FINAL.has(li.dataset.status));

    async function refresh() {
      timer = null;
      const ids = Array.from(watched).join(",");
      try {
        const response = await fetch(`/inbox/activity?ids=${encodeURIComponent(ids)}`, { credentials: "same-origin" });
        if (response.ok) activity.innerHTML = await response.text();
      } catch (err) { /* retried below */ }
      schedule();
    }
    // Quick while something is being read; slowly otherwise, so files dropped into the
    // inbox folder appear too; not at all while the tab is hidden.
    function schedule() {
      if (timer) return;
      if (pending()) timer = setTimeout(refresh, 800);
      else if (!document.hidden) timer = setTimeout(refresh, 5000);
    }
    document.addEventListener("visibilitychange", schedule);

    function upload(file) {
      const item = document.createElement("li");
      const name = document.createElement("span");
      const bar = document.createElement("progress");
      const state = document.createElement("span");
      name.className = "name"; name.textContent = file.name;
      bar.max = 100; bar.value = 0; bar.setAttribute("aria-label", file.name);
      state.className = "state"; state.textContent = t("uploading", { pct: 0 });
      item.append(name, bar, state);
      uploads.prepend(item);
      const form = new FormData();
      form.append("file", file, file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/api/v1/documents");
      Object.entries(CLIENT).forEach(([name, value]) => xhr.setRequestHeader(name, value));
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const pct = Math.round((100 * e.loaded) / e.total);
        bar.value = pct; state.textContent = t("uploading", { pct });
      });
      xhr.addEventListener("loadend", () => {
        inFlight -= 1;
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (err) { data = null; }
        if (xhr.status === 202 && data) {
          bar.value = 100;
          item.dataset.docId = data.id;
          state.textContent = data.duplicate ? t("duplicate") : t("uploaded");
          item.classList.add("sent");
          watched.add(data.id);
        } else {
          // A type LEXO does not read (415) is said in the page's language, with what it
          // reads; the server's own words (which type it saw) stay in the tooltip.
          const message = data && data.error && data.error.message;
          const reason = (xhr.status === 415 && t("unsupported_file")) ||
            message || (xhr.status ? String(xhr.status) : t("network"));
          state.textContent = t("upload_failed", { reason });
          if (message) state.title = message;
          item.classList.add("error");
        }
        refresh();
      });
      inFlight += 1;
      xhr.send(form);
    }

    const sendAll = (files) => Array.from(files || []).forEach(upload);
    input.addEventListener("change", () => { sendAll(input.files); input.value = ""; });
    ["dragenter", "dragover"].forEach((type) =>
      drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.add("over"); }));
    ["dragleave", "drop"].forEach((type) =>
      drop.addEventListener(type, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
    drop.addEventListener("drop", (e) => sendAll(e.dataTransfer && e.dataTransfer.files));
    schedule();
  }

  // -- deadlines (home page) -----------------------------------------------------------
  function deadlines() {
    const section = $("#deadlines");
    if (!section) return;
    const status = $("#deadlines-status");
    $$(".deadline-paid", section).forEach((button) => button.addEventListener("click", async () => {
      const row = button.closest("tr");
      button.disabled = true;
      // The due date shown is the one marked paid: a date corrected since shows again.
      const result = await call("POST", `/api/v1/deadlines/${row.dataset.docId}/dismiss`,
        { due_date: row.dataset.dueDate });
      if (!result.ok) {
        button.disabled = false;
        status.textContent = t("deadline_failed", { reason: result.reason });
        return;
      }
      const next = row.nextElementSibling || row.previousElementSibling;
      row.remove();
      status.textContent = t("deadline_paid");
      if (next) $(".deadline-paid", next).focus();
      else {
        $(".table-wrap", section).hidden = true;
        $("#deadlines-empty").hidden = false;
        $("#deadlines-title").setAttribute("tabindex", "-1");
        $("#deadlines-title").focus();
      }
    }));
  }

  // -- one document --------------------------------------------------------------------
  function documentPage() {
    $$(".box").forEach((box) => {
      for (const side of ["left", "top", "width", "height"]) box.style[side] = `${box.dataset[side]}%`;
    });
    const edit = $("#edit-form");
    if (edit) edit.addEventListener("submit", (e) => { e.preventDefault(); saveCorrections(edit); });
    const reprocess = $("#reprocess-form");
    if (reprocess) reprocess.addEventListener("submit", (e) => { e.preventDefault(); runAgain(reprocess); });
    const dialog = $("#delete-dialog"), open = $("#delete-open");
    if (dialog && open) {
      open.addEventListener("click", () => dialog.showModal());
      dialog.addEventListener("close", async () => {
        if (dialog.returnValue !== "delete") return;
        const id = $("#delete-confirm").dataset.docId;
        const result = await call("POST", `/documents/${id}/delete`);
        if (result.ok) window.location.assign("/documents");
        else window.alert(t("delete_failed", { reason: result.reason }));
      });
    }
  }

  async function saveCorrections(form) {
    const status = $("#edit-status");
    const body = {};
    const type = form.elements.doc_type, issuer = form.elements.issuer;
    if (type.value && type.value !== type.dataset.initial) body.doc_type = type.value;
    if (issuer.value.trim() !== issuer.defaultValue.trim()) body.issuer = issuer.value.trim() || null;
    const fields = {};
    $$("input[data-field]", form).forEach((input) => {
      if (input.value.trim() !== input.defaultValue.trim()) fields[input.dataset.field] = input.value.trim() || null;
    });
    const newName = $("#new-field-name"), newValue = $("#new-field-value");
    if (newName.value.trim() && newValue.value.trim()) fields[newName.value.trim()] = newValue.value.trim();
    if (Object.keys(fields).length) body.fields = fields;
    status.textContent = t("saving");
    const id = form.dataset.docId;
    const result = await call("PATCH", `/api/v1/documents/${id}`, body);
    if (!result.ok) { status.textContent = t("save_failed", { reason: result.reason }); return; }
    // What the server kept is now the reference for the next change.
    type.dataset.initial = type.value;
    issuer.defaultValue = issuer.value;
    $$("input[data-field]", form).forEach((input) => { input.defaultValue = input.value; });
    status.textContent = t("saved");
    if (newName.value.trim()) window.location.reload();
  }

  async function runAgain(form) {
    const status = $("#reprocess-status");
    const id = form.dataset.docId;
    const result = await call("POST", `/api/v1/documents/${id}/reprocess`, { strategy: form.elements.strategy.value });
    if (!result.ok) { status.textContent = t("reprocess_failed", { reason: result.reason }); return; }
    status.textContent = t("reprocess_queued");
    const poll = async () => {
      const doc = await call("GET", `/api/v1/documents/${id}`);
      if (doc.ok && FINAL.has(doc.data.status)) {
        status.textContent = t("reprocess_done");
        window.location.reload();
        return;
      }
      setTimeout(poll, 800);
    };
    setTimeout(poll, 500);
  }

  // -- system --------------------------------------------------------------------------
  async function models() {
    const section = $("#models");
    if (!section) return;
    const status = $("#models-status"), table = $("table", section);
    const result = await call("GET", section.dataset.url);
    if (!result.ok || !result.data) { status.textContent = t("models_none"); return; }
    const raw = result.data.models || result.data;
    const rows = Array.isArray(raw) ? raw.map((m) => [m.name || m.id, m]) : Object.entries(raw).filter(([, m]) => m && typeof m === "object");
    if (!rows.length) { status.textContent = t("models_empty"); return; }
    const yes = (v) => (v === undefined || v === null ? "—" : v ? t("yes") : t("no"));
    const num = (v, digits) => (typeof v === "number" ? v.toFixed(digits) : "—");
    const mib = (v) => (typeof v === "number" ? `${(v / 1048576).toFixed(0)} MiB` : "—");
    const body = $("tbody", table);
    body.replaceChildren(...rows.map(([name, m]) => {
      const tr = document.createElement("tr");
      const loaded = m.state ? t(`state_${m.state}`) : yes(m.loaded);
      const cells = [name, yes(m.present), yes(m.verified), loaded,
        num(m.load_seconds !== undefined ? m.load_seconds : m.load_time_s, 2), mib(m.memory_bytes)];
      cells.forEach((value, i) => {
        const td = document.createElement("td");
        td.textContent = value;
        if (i >= 4) td.className = "num";
        tr.append(td);
      });
      const problem = m.problem || m.error;
      if (problem) {  // why a model is missing, changed or failed, under its name
        const note = document.createElement("span");
        note.className = "reason small block";
        note.textContent = problem;
        tr.firstChild.append(note);
      }
      return tr;
    }));
    table.hidden = false;
    status.textContent = "";
  }

  document.addEventListener("DOMContentLoaded", () => {
    inbox();
    deadlines();
    documentPage();
    models();
  });
})();
