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
    ["focusin", "mouseover", "click"].forEach(function (type) {
      text.addEventListener(type, function (ev) {
        var mark = ev.target.closest && ev.target.closest("mark.cite");
        if (mark) show(mark);
      });
    });
    var close = panel.querySelector(".span-close");
    if (close) close.addEventListener("click", function () {
      panel.hidden = true;
      active.forEach(function (m) { m.classList.remove("is-active"); });
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

  // SPARQL page: YASGUI's editor (Yasqe) in place of the textarea, which stays the form's field and is
  // kept in sync; examples load without leaving the page; Ctrl/Cmd+Enter runs the query.
  function sparqlEditor() {
    var examples = readJSON("example-data");
    var area = document.getElementById("query");
    if (!area) return;
    var form = area.form;
    function submit() { form.requestSubmit ? form.requestSubmit() : form.submit(); }
    var editor = null;
    var Yasqe = window.Yasgui && window.Yasgui.Yasqe;
    if (Yasqe) {
      // read by the vendored Yasqe's tokenizer (a one-line patch, see VENDORED.md): no false
      // "prefix not defined" errors for the prefixes the server declares in front of every query
      window.YASQE_PREDECLARED_PREFIXES = readJSON("prefix-data") || {};
      var holder = document.createElement("div");
      holder.className = "yasqe-holder";
      area.parentNode.insertBefore(holder, area);
      editor = new Yasqe(holder, {
        value: area.value, persistenceId: null, showQueryButton: false, createShareableLink: null,
        autocompleters: ["prefixes", "variables"], resizeable: true, editorHeight: "22rem",
        extraKeys: { "Ctrl-Enter": submit, "Cmd-Enter": submit }
      });
      editor.setValue(area.value);
      // above Yasqe's own Ctrl-Enter (which would send the query itself, without the form)
      editor.addKeyMap({ "Ctrl-Enter": submit, "Cmd-Enter": submit });
      var input = editor.getInputField && editor.getInputField();
      if (input) {
        input.setAttribute("aria-label", "SPARQL query");
        input.setAttribute("aria-describedby", "query-hint");
      }
      area.hidden = true;
      area.classList.add("synced");
      editor.on("change", function () { area.value = editor.getValue(); });
      form.addEventListener("submit", function () { area.value = editor.getValue(); });
      window.dkEditor = editor;
    }
    if (examples) {
      document.querySelectorAll("a[data-example]").forEach(function (a) {
        a.addEventListener("click", function (ev) {
          var text = examples[a.dataset.example];
          if (typeof text !== "string") return;
          ev.preventDefault();
          area.value = text;
          if (editor) { editor.setValue(text); editor.focus(); }
          else { area.rows = Math.max(8, Math.min(28, text.split("\n").length + 1)); area.focus(); }
        });
      });
    }
    area.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) {
        ev.preventDefault();
        submit();
      }
    });
  }

  // Map and timeline: a frame narrower than the drawing (a phone) opens on what matters, the
  // disputed islands and the latest events, not on the drawing's west or early end.
  function scrollFrames() {
    var map = document.querySelector(".map-wrap");
    if (map && map.scrollWidth > map.clientWidth) {
      var places = map.querySelectorAll("a.place circle");
      var box = map.getBoundingClientRect(), xs = [];
      places.forEach(function (c) { var r = c.getBoundingClientRect(); xs.push(r.left + r.width / 2 - box.left); });
      if (xs.length) {
        var mid = (Math.min.apply(null, xs) + Math.max.apply(null, xs)) / 2;
        map.scrollLeft = Math.max(0, mid - map.clientWidth / 2);
      }
    }
    var tl = document.querySelector(".timeline-wrap");
    if (tl && tl.scrollWidth > tl.clientWidth) tl.scrollLeft = tl.scrollWidth;
  }

  // Browse: on a phone the filters start folded, so the table is on the first screen.
  function foldFilters() {
    var box = document.querySelector(".facet-box");
    if (box && window.matchMedia && window.matchMedia("(max-width: 48rem)").matches && !/[?&][^_][^=]*=/.test(location.search)) {
      box.open = false;
    }
  }

  ready(function () {
    foldFilters();
    scrollFrames();
    sourceView();
    sparqlEditor();
  });
})();
