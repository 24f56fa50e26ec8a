// dispute-kg: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  function readJSON(id) {
    var el = document.getElementById(id);
    if (!el) return null;
    try { return JSON.parse(el.textContent); } catch (e) { return null; }
  }

  // Source view: a side panel listing the assertions of the focused or hovered passage, with links,
  // and the span a link points at (#span-S-E) marked as the target.
  function sourceView() {
    var spans = readJSON("span-data");
    var panel = document.getElementById("span-panel");
    if (!spans || !panel) return;
    var body = panel.querySelector(".span-panel-body");
    var active = [];

    function show(mark) {
      active.forEach(function (m) { m.classList.remove("is-active"); });
      active = [mark];
      mark.classList.add("is-active");
      body.textContent = "";
      (mark.dataset.spans || "").split(" ").forEach(function (key) {
        var span = spans[key];
        if (!span) return;
        var h = document.createElement("p");
        var a = document.createElement("a");
        a.href = "#span-" + key;
        a.textContent = "characters " + key.replace("-", "–");
        h.appendChild(a);
        var q = document.createElement("span");
        q.className = "q";
        q.textContent = " “" + span.exact + "”";
        h.appendChild(q);
        body.appendChild(h);
        var ul = document.createElement("ul");
        span.assertions.forEach(function (item) {
          var li = document.createElement("li");
          var link = document.createElement(item.href ? "a" : "span");
          if (item.href) link.href = item.href;
          link.textContent = item.label;
          li.appendChild(link);
          if (item.kind) li.appendChild(document.createTextNode(" (" + item.kind + ")"));
          ul.appendChild(li);
        });
        body.appendChild(ul);
      });
      panel.hidden = false;
    }

    var text = document.querySelector(".source-text");
    ["focusin", "mouseover"].forEach(function (type) {
      text.addEventListener(type, function (ev) {
        var mark = ev.target.closest && ev.target.closest("mark.cite");
        if (mark) show(mark);
      });
    });

    function markTarget() {
      document.querySelectorAll("mark.is-target").forEach(function (m) { m.classList.remove("is-target"); });
      var m = /^#span-(\d+-\d+)$/.exec(window.location.hash);
      if (!m) return;
      var marks = document.querySelectorAll("mark.s-" + m[1]);
      marks.forEach(function (el) { el.classList.add("is-target"); });
      if (marks.length) show(marks[0]);
    }
    window.addEventListener("hashchange", markTarget);
    markTarget();
  }

  // SPARQL page: load an example into the editor without leaving the page; Ctrl/Cmd+Enter runs.
  function sparqlEditor() {
    var examples = readJSON("example-data");
    var area = document.getElementById("query");
    if (!area) return;
    if (examples) {
      document.querySelectorAll("a[data-example]").forEach(function (a) {
        a.addEventListener("click", function (ev) {
          var text = examples[a.dataset.example];
          if (typeof text !== "string") return;
          ev.preventDefault();
          area.value = text;
          area.rows = Math.max(8, Math.min(28, text.split("\n").length + 1));
          area.focus();
        });
      });
    }
    area.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        area.form.requestSubmit ? area.form.requestSubmit() : area.form.submit();
      }
    });
  }

  ready(function () {
    sourceView();
    sparqlEditor();
  });
})();
