// The entity page's Wikidata decisions: each Accept / Reject button sends {entity, qid, note, author} to
// POST /api/links/accept|reject with the update token the curator typed (kept for this tab only), then
// reloads the page, which reads the records and the rebuilt graph again.
(function () {
  "use strict";
  const form = document.getElementById("link-curation");
  if (!form) return;
  const token = document.getElementById("link-token");
  const author = document.getElementById("link-author");
  const authorLabel = document.getElementById("link-author-label");
  const note = document.getElementById("link-note");
  const other = document.getElementById("link-qid");
  const status = document.getElementById("link-status");
  token.value = sessionStorage.getItem("dispute-kg-token") || "";
  token.addEventListener("change", () => sessionStorage.setItem("dispute-kg-token", token.value));
  author.value = localStorage.getItem("dispute-kg-author") || "";
  author.addEventListener("change", () => localStorage.setItem("dispute-kg-author", author.value));
  authorLabel.value = localStorage.getItem("dispute-kg-author-label") || "";
  authorLabel.addEventListener("change", () => localStorage.setItem("dispute-kg-author-label", authorLabel.value));
  form.hidden = false;
  form.addEventListener("submit", (event) => event.preventDefault());

  const buttons = document.querySelectorAll("button.link-decide");
  async function decide(button) {
    const qid = button.dataset.qid || other.value.trim();
    if (!qid) {
      status.textContent = "Type the item's QID (such as Q17) first.";
      other.focus();
      return;
    }
    const body = { entity: form.dataset.entity, qid: qid, note: note.value };
    if (author.value.trim()) body.author = author.value.trim();
    if (authorLabel.value.trim()) body.author_label = authorLabel.value.trim();
    buttons.forEach((b) => { b.disabled = true; });
    status.textContent = `${button.dataset.action === "accept" ? "Accepting" : "Rejecting"} ${qid}…`;
    try {
      const res = await fetch(form.dataset.api + button.dataset.action, {
        method: "POST",
        headers: { "Content-Type": "application/json", Authorization: `Bearer ${token.value}` },
        body: JSON.stringify(body),
      });
      const answer = await res.json();
      if (res.ok) {
        status.textContent = answer.result.join("; ");
        window.location.reload();
        return;
      }
      status.textContent = `Refused (${res.status}): ${answer.error}`;
    } catch (err) {
      status.textContent = `The server could not be reached: ${err}`;
    }
    buttons.forEach((b) => { b.disabled = false; });
  }
  buttons.forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", () => decide(button));
  });
}());
