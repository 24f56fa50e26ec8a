// The review page: pick a candidate, accept / edit / reject it, make new assertions from a selection, and
// send the decisions to POST /review/<slug>/accept (validated there as one addition, with the update token).
(function () {
  "use strict";
  const root = document.getElementById("review");
  if (!root) return;
  const data = JSON.parse(root.dataset.candidates);
  const byId = Object.fromEntries(data.map((c) => [c.id, c]));
  const edits = {};
  const news = [];
  const text = document.getElementById("review-text");
  const token = document.getElementById("token");
  token.value = sessionStorage.getItem("dispute-kg-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("dispute-kg-token", token.value));
  let current = null;
  let selection = null;

  function spansOf(id) { return text.querySelectorAll(`span[data-c~="${id}"]`); }
  function decision(id) {
    const checked = document.querySelector(`input[name="d-${id}"]:checked`);
    return checked ? checked.value : "";
  }
  function mark(id) {
    const d = decision(id);
    spansOf(id).forEach((s) => {
      s.classList.toggle("accepted", d === "accept");
      s.classList.toggle("rejected", d === "reject");
    });
  }
  function pick(id) {
    if (current) spansOf(current).forEach((s) => s.classList.remove("is-current"));
    current = id;
    spansOf(id).forEach((s) => s.classList.add("is-current"));
    const c = byId[id];
    const fields = edits[id] || c.fields;
    document.getElementById("editor-id").textContent = `${id} (${c.kind} ${c.type || ""})`;
    const box = document.getElementById("fields");
    box.replaceChildren();
    Object.entries(fields).forEach(([prop, values]) => {
      values.forEach((v, i) => {
        const label = document.createElement("label");
        label.textContent = prop + " ";
        const input = document.createElement("input");
        input.type = "text";
        input.dataset.prop = prop;
        input.dataset.index = i;
        input.dataset.shape = JSON.stringify(v);
        input.value = v.iri || v.text || v.value || "";
        if (v.iri) input.setAttribute("list", "entities");
        label.appendChild(input);
        box.appendChild(label);
      });
    });
    document.getElementById("editor").hidden = false;
    document.getElementById(`cand-${id}`).scrollIntoView({ block: "nearest" });
  }
  document.getElementById("save-edit").addEventListener("click", () => {
    if (!current) return;
    const fields = {};
    document.querySelectorAll("#fields input").forEach((input) => {
      const shape = JSON.parse(input.dataset.shape);
      const value = input.value.trim();
      if (!value) return;
      const v = shape.iri !== undefined ? { iri: value } : shape.text !== undefined ? { text: value, lang: shape.lang || "en" }
        : { value: value, datatype: shape.datatype };
      (fields[input.dataset.prop] = fields[input.dataset.prop] || []).push(v);
    });
    edits[current] = fields;
    const accept = document.querySelector(`input[name="d-${current}"][value="accept"]`);
    accept.checked = true;
    mark(current);
  });
  document.getElementById("candidates").addEventListener("click", (ev) => {
    const li = ev.target.closest("li[data-id]");
    if (!li) return;
    if (ev.target.classList.contains("pick")) { ev.preventDefault(); pick(li.dataset.id); }
    if (ev.target.matches("input[type=radio]")) mark(li.dataset.id);
  });
  text.addEventListener("click", (ev) => {
    const span = ev.target.closest("span[data-c]");
    if (span && !window.getSelection().toString()) pick(span.dataset.c.split(" ")[0]);
  });
  document.getElementById("accept-all").addEventListener("click", () => {
    data.forEach((c) => {
      const r = document.querySelector(`input[name="d-${c.id}"][value="accept"]`);
      if (!document.querySelector(`input[name="d-${c.id}"]:checked`)) { r.checked = true; mark(c.id); }
    });
  });

  // character offsets of the stored text (code points, as Python counts them)
  function offset(node, off) {
    const span = node.nodeType === 3 ? node.parentElement.closest("span[data-start]") : node.closest("span[data-start]");
    if (!span) return null;
    const before = node.nodeType === 3 ? node.textContent.slice(0, off) : "";
    return Number(span.dataset.start) + Array.from(before).length;
  }
  text.addEventListener("mouseup", () => {
    const sel = window.getSelection();
    if (!sel.rangeCount || sel.isCollapsed) return;
    const r = sel.getRangeAt(0);
    const start = offset(r.startContainer, r.startOffset);
    const end = offset(r.endContainer, r.endOffset);
    if (start === null || end === null || end <= start) return;
    selection = { start, end, text: sel.toString() };
    document.getElementById("selection-text").textContent = `${start}–${end}: “${selection.text}”`;
    document.getElementById("new-label").value = selection.text;
    document.getElementById("from-selection").hidden = false;
  });
  document.getElementById("add-new").addEventListener("click", () => {
    if (!selection) return;
    const type = document.getElementById("new-type").value;
    const label = document.getElementById("new-label").value.trim();
    const actor = document.getElementById("new-actor").value.trim();
    const stance = document.getElementById("new-stance").value;
    const dk = "https://w3id.org/dispute-kg/def#";
    const fields = { label: [{ text: label, lang: "en" }] };
    if (type === "Position" || type === "Claim") {
      fields[type === "Claim" ? "claimant" : "holder"] = [{ iri: actor }];
      fields.stanceKind = [{ iri: dk + stance }];
      fields.stance = [{ text: selection.text, lang: "en" }];
    } else if (type === "Statement") {
      fields.speaker = [{ iri: actor }];
      fields.speechMode = [{ iri: dk + "ReportedSpeech" }];
      fields.quote = [{ value: selection.text, datatype: "string" }];
    }
    news.push({ type, start: selection.start, end: selection.end, fields });
    const li = document.createElement("li");
    li.textContent = `${type} ${selection.start}–${selection.end}: ${label}`;
    document.getElementById("new-list").appendChild(li);
    document.getElementById("from-selection").hidden = true;
  });

  document.getElementById("submit").addEventListener("click", async () => {
    const accept = data.filter((c) => decision(c.id) === "accept").map((c) => c.id);
    const reject = data.filter((c) => decision(c.id) === "reject").map((c) => c.id);
    const body = { accept, reject, edits: Object.fromEntries(Object.entries(edits).filter(([k]) => accept.includes(k))), new: news };
    const verdict = document.getElementById("verdict");
    const messages = document.getElementById("messages");
    messages.replaceChildren();
    text.querySelectorAll(".has-problem").forEach((s) => s.classList.remove("has-problem"));
    verdict.textContent = "validating…";
    verdict.className = "";
    const res = await fetch(root.dataset.accept, {
      method: "POST", headers: { "Content-Type": "application/json", Authorization: `Bearer ${token.value}` },
      body: JSON.stringify(body),
    });
    const out = await res.json();
    if (out.error) { verdict.textContent = out.error; return; }
    (out.problems || []).forEach((p) => {
      const li = document.createElement("li");
      li.className = (p.severity || "Violation").toLowerCase();
      li.textContent = `${p.candidate || p.focus}: ${p.message}${p.path ? " (" + p.path + ")" : ""}`;
      if (p.candidate && li.className !== "info") {
        li.dataset.candidate = p.candidate;
        spansOf(p.candidate).forEach((s) => s.classList.add("has-problem"));
      }
      messages.appendChild(li);
    });
    if (out.conforms) {
      verdict.textContent = `added ${out.addition.id}: ${out.addition.triples} triple(s); ${out.rejected} rejection(s) remembered`;
      verdict.className = "ok";
    } else {
      verdict.textContent = out.message || `refused: ${(out.problems || []).length} problem(s)`;
    }
  });
})();
