// The assistant page: sends the question to POST /api/v1/ask with "stream": true and shows
// the checked sentences as they arrive (Server-Sent Events read from the fetch body), then
// the citations, each a link to its document's page. No inline script (the CSP forbids it).
"use strict";
(() => {
  const $ = (sel) => document.querySelector(sel);
  const strings = JSON.parse(($("#lexo-strings") || {}).textContent || "{}");
  const t = (key, values = {}) =>
    (strings[key] || key).replace(/\{(\w+)\}/g, (_, k) => (k in values ? values[k] : ""));
  const form = $("#ask-form");
  if (!form) return;
  const input = $("#ask-q");
  const box = $("#ask-answer");
  const text = $("#ask-text");
  const how = $("#ask-how");
  const list = $("#ask-citations");
  const button = form.querySelector("button[type=submit]");

  for (const example of document.querySelectorAll(".ask-example")) {
    example.addEventListener("click", () => {
      input.value = example.textContent;
      form.requestSubmit();
    });
  }

  function showAnswer(answer) {
    text.textContent = answer.answer;
    const parts = [answer.method === "facts" ? t("ask_facts") : t("ask_found")];
    if (answer.grounded) parts.push(t("ask_checked"));
    if (answer.model) parts.push(t("ask_worded", { model: answer.model }));
    how.textContent = parts.join(" · ");
    list.replaceChildren();
    answer.citations.forEach((c, i) => {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = `/documents/${c.document_id}` + (c.page ? `#page-${c.page}` : "");
      link.textContent = t("ask_source", { n: i + 1, id: c.document_id, page: c.page || "?" });
      const quote = document.createElement("q");
      quote.textContent = c.quote;
      item.append(link, " ", quote);
      list.append(item);
    });
  }

  async function ask(question) {
    const response = await fetch("/api/v1/ask", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-Lexo-Client": "web",
        "X-CSRF-Token": ((document.querySelector('meta[name="csrf-token"]') || {}).content) || "",
      },
      body: JSON.stringify({ question, stream: true }),
    });
    if (!response.ok) {
      let message = `${response.status}`;
      try {
        const error = (await response.json()).error;
        message = error.code === "csrf" ? t("csrf") : error.message;
      } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const name = (frame.match(/^event: (.*)$/m) || [])[1];
        const data = JSON.parse((frame.match(/^data: (.*)$/m) || [])[1] || "{}");
        if (name === "delta") text.textContent += data.text;
        else if (name === "answer") showAnswer(data);
        else if (name === "error") throw new Error(data.message);
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const question = input.value.trim();
    if (!question) return;
    box.hidden = false;
    text.textContent = "";
    how.textContent = t("ask_thinking");
    list.replaceChildren();
    button.disabled = true;
    try {
      await ask(question);
    } catch (error) {
      how.textContent = t("ask_failed", { reason: error.message });
    } finally {
      button.disabled = false;
    }
  });
})();
