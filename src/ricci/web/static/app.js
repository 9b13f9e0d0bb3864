// ricci's page: fills the server-rendered form's sections from the JSON API (/api/...).
// No framework, no build step, nothing from another origin.  Text from the server is put in
// with textContent; MathML is parsed as XML and rebuilt element by element from an allow-list,
// so no markup string ever becomes part of the page.
"use strict";

(() => {
  const $ = (sel) => document.querySelector(sel);
  const KINDS = ["scalar", "vector", "matrix", "symmetric matrix"];
  const MATHML = "http://www.w3.org/1998/Math/MathML";
  const MATH_TAGS = new Set(["math", "mi", "mn", "mo", "ms", "mtext", "mrow", "msup", "msub", "msubsup",
    "mfrac", "msqrt", "mroot", "mtable", "mtr", "mtd", "mover", "munder", "munderover", "mspace",
    "mstyle", "mpadded", "mphantom", "menclose", "semantics", "annotation", "mfenced"]);
  const MATH_ATTRS = new Set(["mathvariant", "display", "stretchy", "fence", "separator", "lspace",
    "rspace", "accent", "accentunder", "columnalign", "rowspacing", "columnspacing", "linethickness",
    "form", "movablelimits", "largeop", "symmetric", "minsize", "maxsize", "width", "height", "depth",
    "scriptlevel", "displaystyle", "encoding", "notation", "open", "close", "separators", "columnlines",
    "rowlines", "frame", "align"]);

  const state = {
    declared: {},      // name -> kind the user chose (sent as kinds)
    wantWrt: null,     // wrt asked for by the URL or an example, to select once the variables are known
    parsedFor: null,   // the expression the variables table belongs to
    names: [],         // that expression's variables: the only names the page differentiates by
    example: "",       // the example last loaded (its query), so that it is loaded once
    last: null,        // the last derivative request that succeeded
    seq: 0,            // request counter: a late answer to an old request is dropped
    timer: null,
    plotURL: null,
  };

  // -- the API ---------------------------------------------------------------------------------
  async function api(path, body) {
    let response;
    try {
      response = await fetch(path, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch (e) {
      return { ok: false, data: { error: { kind: "connection", message: "the server does not answer" } } };
    }
    const type = response.headers.get("Content-Type") || "";
    const data = type.includes("application/json") ? await response.json() : await response.blob();
    if (!response.ok && !(data && data.error)) {
      return { ok: false, data: { error: { kind: "error", message: `HTTP ${response.status}` } } };
    }
    return { ok: response.ok, status: response.status, data };
  }

  // -- small helpers ----------------------------------------------------------------------------
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") node.textContent = v;
      else node.setAttribute(k, v);
    }
    for (const c of children) node.append(c);
    return node;
  }

  function expression() { return $("#expr").value.trim(); }

  function wrtValue() {
    const w = $("#wrt").value;
    return w.includes(",") ? w.split(",").map((s) => s.trim()).filter(Boolean) : w;
  }

  // The order box: a whole number from its min to its max (the server's limit, which page.py
  // writes into the box).  Anything else is refused with a message, never replaced by 1.
  function order() {
    const box = $("#order");
    const raw = box.value.trim();
    const max = parseInt(box.max, 10);
    const n = /^[0-9]+$/.test(raw) ? parseInt(raw, 10) : NaN;
    return n >= 1 && n <= max ? n : null;
  }

  function orderError() {
    const box = $("#order");
    const raw = box.value.trim() || (box.validity && box.validity.badInput ? "that" : "");
    const what = raw ? `${raw} is not an order ricci computes` : "the order box is empty";
    return { kind: "order", field: "order",
      message: `${what}: type a whole number from 1 to ${box.max} in the order box (1: the derivative, 2: the Hessian)` };
  }

  function declaredKinds(names) {
    const out = {};
    for (const [n, k] of Object.entries(state.declared)) if (!names || names.includes(n)) out[n] = k;
    return Object.keys(out).length ? out : null;
  }

  // -- errors, with the caret under the faulty part ---------------------------------------------------
  // The faulty part marked and a caret line under it, in a <pre> (monospace, lines kept), as
  // the command line prints it: in a <p> the two lines would collapse into one.
  function fillExcerpt(pre, excerpt, caret) {
    pre.replaceChildren();
    if (excerpt == null || caret == null || !caret.includes("^")) { pre.hidden = true; return; }
    const col = caret.indexOf("^");
    const width = caret.trimEnd().length - col;
    pre.append(excerpt.slice(0, col), el("mark", { text: excerpt.slice(col, col + width) }),
      excerpt.slice(col + width), "\n", el("span", { class: "carets", text: caret }));
    pre.hidden = false;
  }

  // A message whose last two lines are an excerpt and its caret line (as ricci.compare words an
  // answer it cannot read): the prose, and the excerpt with its caret apart.
  function splitCaret(message) {
    const lines = message.split("\n");
    const n = lines.length;
    if (n < 3 || !/^ *\^+ *$/.test(lines[n - 1])) return { prose: message, excerpt: null, caret: null };
    const indent = Math.min(...[lines[n - 2], lines[n - 1]].map((l) => l.length - l.trimStart().length));
    return { prose: lines.slice(0, n - 2).join("\n"), excerpt: lines[n - 2].slice(indent),
      caret: lines[n - 1].slice(indent) };
  }

  const FIELDS = { expression: "#expr", order: "#order", wrt: "#wrt" };

  function showError(error, box = $("#error")) {
    box.hidden = false;
    box.querySelector(".message").textContent = `${error.kind}: ${pageMessage(error)}`;
    fillExcerpt(box.querySelector(".excerpt"), error.excerpt, error.caret);
    if (box.id === "error") {
      for (const [field, sel] of Object.entries(FIELDS)) {
        if (error.field === field) $(sel).setAttribute("aria-invalid", "true");
        else $(sel).removeAttribute("aria-invalid");
      }
    }
  }

  function hideError() {
    $("#error").hidden = true;
    for (const sel of Object.values(FIELDS)) $(sel).removeAttribute("aria-invalid");
  }

  // The message in the page's words: where it gives advice, the server sends it also as
  // page_message, naming this page's controls (the Variables table, the order box) instead of
  // the API's request fields or Python's keywords (docs/web.md, "Advice").
  function pageMessage(error) {
    return typeof error.page_message === "string" ? error.page_message : error.message;
  }

  // -- the variables table and the wrt choice ---------------------------------------------------------
  // The table is updated in place, row by row: rebuilding it would take the focus from a kind
  // just changed with the keyboard (its <select> would leave the page) and drop it on the body.
  function variableRow(name) {
    const select = el("select", { id: `kind-${name}`, "aria-label": `kind of ${name}` });
    for (const k of KINDS) select.append(el("option", { value: k, text: k }));
    select.addEventListener("change", () => {
      state.declared[name] = select.value;
      refreshVariables().then((ok) => { if (ok) run(); });
    });
    const row = el("tr", {}, el("th", { scope: "row", text: name }), el("td", {}, select),
      el("td", {}, el("span", { class: "size" }), " ", el("span", { class: "source" })));
    row.dataset.name = name;
    return row;
  }

  function renderVariables(kinds) {
    const body = $("#vars tbody");
    const rows = new Map([...body.rows].map((r) => [r.dataset.name, r]));
    for (const [name, row] of rows) if (!(name in kinds)) row.remove();
    let previous = null;
    for (const [name, info] of Object.entries(kinds)) {
      const row = rows.get(name) || variableRow(name);
      row.querySelector("select").value = state.declared[name] || info.kind;
      row.querySelector(".size").textContent = info.dims.length ? info.dims.join("×") : "1";
      row.querySelector(".source").textContent = state.declared[name] ? "declared" : info.source;
      const place = previous ? previous.nextSibling : body.firstChild;
      if (row !== place) body.insertBefore(row, place);  // moves a row only when the order changed
      previous = row;
    }
  }

  // "x1,x2": several variables of the expression, each once (the row of partials; the list makes
  // them scalars, as in exp(x1*x2^2) by x1, x2, whose names alone would make vectors).
  function nameList(value, names) {
    const parts = value.split(",").map((s) => s.trim());
    return parts.length >= 2 && new Set(parts).size === parts.length && parts.every((p) => names.includes(p));
  }

  // The choices are the current expression's variables (and its scalars as a list), nothing
  // else: a selection left from an earlier expression, or a URL's wrt that is not in this one,
  // is dropped (the page never differentiates by a name f does not contain, which would "answer"
  // 0 and add the name to the variables), and the server's default for this expression is chosen.
  function renderWrt(names, scalars, preferred) {
    const select = $("#wrt");
    const wanted = state.wantWrt;
    const current = select.value;
    state.wantWrt = null;
    const values = [...names];
    if (scalars.length >= 2) values.push(scalars.join(","));
    const fits = (v) => !!v && (values.includes(v) || (v.includes(",") && nameList(v, names)));
    const choice = fits(wanted) ? wanted : fits(current) ? current : preferred || values[0] || "";
    if (choice.includes(",") && !values.includes(choice)) values.push(choice);
    select.replaceChildren(...values.map((v) => el("option", {
      value: v, text: v.includes(",") ? `${v.split(",").join(", ")} (the row of partials)` : v })));
    select.value = choice;
    const note = $("#wrt-note");
    if (wanted && !fits(wanted)) {
      note.textContent = `f has no variable ${wanted} (its variables: ${names.join(", ")}), ` +
        `so "with respect to" is ${choice || "empty"}.`;
      note.hidden = false;
    } else {
      note.hidden = true;
    }
  }

  async function refreshVariables() {
    const expr = expression();
    if (!expr) {
      $("#vars tbody").replaceChildren();
      $("#wrt").replaceChildren();
      state.names = [];
      state.parsedFor = expr;
      return false;
    }
    const seq = ++state.seq;
    const r = await api("/api/parse", { expression: expr, kinds: declaredKinds() });
    if (seq !== state.seq) return false;
    if (!r.ok) {
      showError(r.data.error);
      return false;
    }
    hideError();
    for (const n of Object.keys(state.declared)) if (!(n in r.data.kinds)) delete state.declared[n];
    state.names = Object.keys(r.data.kinds);
    renderVariables(r.data.kinds);
    renderWrt(state.names, r.data.scalars, r.data.default_wrt);
    state.parsedFor = expr;
    return true;
  }

  // -- MathML, rebuilt from an allow-list ------------------------------------------------------------
  function mathml(markup) {
    const doc = new DOMParser().parseFromString(markup, "application/xml");
    if (doc.getElementsByTagName("parsererror").length) return null;
    const copy = (node) => {
      if (node.nodeType === Node.TEXT_NODE) return document.createTextNode(node.nodeValue);
      if (node.nodeType !== Node.ELEMENT_NODE || !MATH_TAGS.has(node.localName)) return null;
      const out = document.createElementNS(MATHML, node.localName);
      for (const a of node.attributes) if (MATH_ATTRS.has(a.name)) out.setAttribute(a.name, a.value);
      for (const c of node.childNodes) {
        const k = copy(c);
        if (k) out.append(k);
      }
      if (node.localName === "mtext") {  // MathML trims the spaces of a token: keep them
        out.textContent = out.textContent.replace(/^ +| +$/g, (m) => "\u00a0".repeat(m.length));
      }
      return out;
    };
    const root = copy(doc.documentElement);
    return root && root.localName === "math" ? root : null;
  }

  // -- the answer ------------------------------------------------------------------------------------
  function renderResult(r) {
    const result = $("#result");
    result.hidden = false;
    result.classList.remove("stale");
    const wrt = Array.isArray(r.wrt) ? r.wrt.join(", ") : r.wrt;
    $("#answer-title").textContent = r.order > 1
      ? `Derivative of order ${r.order} with respect to ${wrt}` : `Derivative with respect to ${wrt}`;
    const math = $("#math");
    const m = r.mathml ? mathml(r.mathml) : null;
    math.replaceChildren(m || el("code", { class: "tex", text: r.latex }));
    markOverflow(math);
    $("#answer-text").textContent = r.text;
    $("#shape").textContent = `Shape: ${r.shape_text}`;
    $("#latex").textContent = r.latex;
    // only the expression's own variables (an answer never adds one to the table)
    renderVariables(Object.fromEntries(Object.entries(r.kinds).filter(([n]) => state.names.includes(n))));
    renderCheck(r.check);
    renderSteps(r.steps);
    renderCode(r.code);
    renderAnalysis(r.analysis);
    renderPlot(r);
  }

  // A formula wider than its box scrolls sideways inside it; the box says so (a shadow at the
  // hidden edge, and the words under it), and takes the focus so the arrow keys scroll it.
  function markOverflow(box) {
    const wide = box.scrollWidth > box.clientWidth + 1;
    box.classList.toggle("overflowing", wide);
    if (wide) box.setAttribute("tabindex", "0"); else box.removeAttribute("tabindex");
    const cue = $(`#${box.id}-more`);
    if (cue) cue.hidden = !wide;
  }

  function renderCheck(check) {
    const badge = $("#check");
    badge.className = "badge";
    if (!check) { badge.hidden = true; return; }
    badge.hidden = false;
    if (check.error) {
      badge.textContent = `numerical check: ${pageMessage(check.error)}`;
      return;
    }
    const err = check.max_relative_error != null ? `, max relative error ${check.max_relative_error.toExponential(1)}` : "";
    if (check.passed === false) {
      badge.classList.add("bad");
      badge.textContent = `✗ the numerical check failed${err}`;
    } else {
      badge.classList.add("good");
      badge.textContent = `✓ checked numerically${err}`;
    }
    badge.title = check.text || "";
  }

  // The Method choice above the steps: the lecture's chain rule (Jacobians) or the differential
  // method (dF rule by rule, the standard form, the identification); both come with the answer.
  function renderSteps(all) {
    const box = $("#steps");
    const methods = $("#steps-method");
    if (!all) { box.hidden = true; return; }
    box.hidden = false;
    const chosen = (methods.querySelector("input:checked") || {}).value || "jacobians";
    methods.hidden = !all.differentials;
    const show = (method) => renderStepsOf(method === "differentials" && all.differentials ? all.differentials : all);
    methods.querySelectorAll("input").forEach((input) => {
      input.checked = input.value === chosen;
      input.onchange = () => show(input.value);
    });
    show(chosen);
  }

  function renderStepsOf(steps) {
    const body = $("#steps-body");
    body.replaceChildren();
    if (steps.error) { body.append(el("p", { text: pageMessage(steps.error) })); return; }
    const formula = (markup, text) => (markup && mathml(markup)) || el("code", { text: text || "" });
    if (steps.heading) body.append(el("p", { class: "steps-heading" }, formula(steps.heading_mathml, steps.heading)));
    if (steps.items && steps.items.length) {
      const list = el("ol", { class: "steps" });
      for (const s of steps.items) {
        const item = el("li", { class: `depth-${Math.min(s.depth, 4)}` },
          el("span", { class: "number", text: `${s.number}.` }), " ", el("strong", { text: s.title }));
        if (s.formula) item.append(": ", formula(s.formula_mathml, s.formula));
        if (s.note) item.append(el("div", { class: "note" }, formula(s.note_mathml, s.note)));
        list.append(item);
      }
      body.append(list);
    } else {
      body.append(el("pre", { text: steps.text || "" }));
    }
  }

  function renderCode(code) {
    const box = $("#code");
    const tabs = $("#backends");
    if (!code || code.error) { box.hidden = true; return; }
    box.hidden = false;
    const chosen = (tabs.querySelector("input:checked") || {}).value || "numpy";
    tabs.querySelectorAll("label").forEach((n) => n.remove());
    const show = (backend) => {
      const c = code[backend];
      $("#code-text").textContent = c.source || `# ${c.error || "not available"}`;
    };
    for (const [backend, c] of Object.entries(code)) {
      const input = el("input", { type: "radio", name: "backend", value: backend, id: `backend-${backend}` });
      input.checked = backend === (chosen in code ? chosen : "numpy");
      input.addEventListener("change", () => show(backend));
      tabs.append(el("label", { for: `backend-${backend}` }, input, ` ${c.label}`));
    }
    show(chosen in code ? chosen : Object.keys(code)[0]);
  }

  function renderAnalysis(analysis) {
    const box = $("#analysis");
    if (!analysis) { box.hidden = true; return; }
    box.hidden = false;
    $("#analysis-text").textContent = analysis.error ? pageMessage(analysis.error)
      : typeof analysis.page_text === "string" ? analysis.page_text : analysis.text;
  }

  async function renderPlot(r) {
    const box = $("#plot");
    const img = $("#plot-img");
    if (!r.plot || r.plot.error) { box.hidden = true; return; }
    box.hidden = false;
    img.hidden = true;
    $("#plot-status").textContent = "drawing…";
    const res = await api("/api/plot", { expression: r.expression, wrt: r.plot.wrt, kinds: declaredKinds() });
    if (!res.ok) { $("#plot-status").textContent = pageMessage(res.data.error); return; }
    if (state.plotURL) URL.revokeObjectURL(state.plotURL);
    state.plotURL = URL.createObjectURL(res.data);
    img.src = state.plotURL;
    img.alt = `Plot of f = ${r.expression}: its values, slopes and curvature`;
    img.hidden = false;
    $("#plot-status").textContent = "";
  }

  // -- your answer ------------------------------------------------------------------------------------
  async function compare() {
    const answer = $("#answer").value.trim();
    const out = $("#verdict");
    out.replaceChildren();
    if (!answer || !state.last) return;
    const r = await api("/api/compare", { ...state.last, answer });
    if (!r.ok) {
      const box = el("div", { class: "error" }, el("p", { class: "message" }), el("pre", { class: "excerpt" }));
      out.append(box);
      showError(r.data.error, box);
      return;
    }
    const v = r.data;
    const words = v.kind_of_slip ? `${v.verdict}: ${v.kind_of_slip}` : v.verdict;
    const { prose, excerpt, caret } = splitCaret(pageMessage(v));
    out.append(el("p", { class: `verdict verdict-${v.verdict.split(" ")[0]}` }, el("strong", { text: words })),
      el("p", { class: "verdict-message", text: prose }));
    if (excerpt != null) {
      const pre = el("pre", { class: "excerpt" });
      fillExcerpt(pre, excerpt, caret);
      out.append(el("div", { class: "error" }, pre));
    }
    if (v.fix) out.append(el("p", {}, "Corrected: ", el("code", { text: v.fix })));
    if (v.verdict !== "equal") out.append(el("p", {}, "ricci's answer: ", el("code", { text: v.right_answer })));
    updateURL();
  }

  // -- the state in the URL ----------------------------------------------------------------------------
  function updateURL() {
    const p = new URLSearchParams();
    p.set("expr", expression());
    if ($("#wrt").value) p.set("wrt", $("#wrt").value);
    if (order() && order() !== 1) p.set("order", String(order()));
    for (const [n, k] of Object.entries(declaredKinds() || {})) p.append("kind", `${n}=${k}`);
    const answer = $("#answer").value.trim();
    if (answer) p.set("answer", answer);
    const url = `${location.pathname}?${p}`;
    history.replaceState(null, "", url);
    $("#share").href = url;
  }

  function readURL(search) {
    const p = new URLSearchParams(search);
    state.declared = {};
    for (const item of p.getAll("kind")) {
      const i = item.indexOf("=");
      if (i > 0) state.declared[item.slice(0, i).trim()] = item.slice(i + 1).trim();
    }
    if (p.has("expr")) $("#expr").value = p.get("expr");
    if (p.has("order")) $("#order").value = p.get("order");
    if (p.has("answer")) $("#answer").value = p.get("answer");
    state.wantWrt = p.get("wrt");
  }

  // -- running -------------------------------------------------------------------------------------
  function refuse(error) {
    showError(error);
    $("#result").hidden = true;
    state.last = null;
  }

  async function run() {
    clearTimeout(state.timer);
    const expr = expression();
    if (!expr) {
      refuse({ kind: "input", field: "expression",
        message: "type a function in the Function f box (for example x'*A*x), or take an example from the list under it" });
      return;
    }
    if (state.parsedFor !== expr && !(await refreshVariables())) {
      $("#result").hidden = true;
      state.last = null;
      return;
    }
    const wrt = wrtValue();
    if (!wrt || (Array.isArray(wrt) && !wrt.length)) {
      refuse({ kind: "input", field: "wrt", message: "choose the variable to differentiate by in the \"with respect to\" list" });
      return;
    }
    if (!order()) {
      refuse(orderError());
      return;
    }
    const request = { expression: expr, wrt, order: order(), kinds: declaredKinds() };
    const seq = ++state.seq;
    $("#go").disabled = true;
    $("#result").setAttribute("aria-busy", "true");
    // the answer first; the analysis (the slowest part) follows in a second request
    const r = await api("/api/derivative", { ...request, include: ["mathml", "steps", "check", "code", "plot"] });
    $("#go").disabled = false;
    $("#result").removeAttribute("aria-busy");
    if (seq !== state.seq) return;
    updateURL();
    if (!r.ok) {
      showError(r.data.error);
      $("#result").hidden = true;
      state.last = null;
      return;
    }
    hideError();
    state.last = request;
    renderResult(r.data);
    if ($("#answer").value.trim()) compare();
    if (r.data.function_shape.length === 0) loadAnalysis(request, seq);
  }

  async function loadAnalysis(request, seq) {
    $("#analysis").hidden = false;
    $("#analysis-text").textContent = "analysing…";
    const r = await api("/api/derivative", { ...request, include: ["analysis"] });
    if (seq !== state.seq) return;
    renderAnalysis(r.ok ? r.data.analysis : r.data);
  }

  async function copy(text, button) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const area = el("textarea", { class: "offscreen", "aria-hidden": "true" });
      area.value = text;
      document.body.append(area);
      area.select();
      document.execCommand("copy");
      area.remove();
    }
    const label = button.dataset.label || button.textContent;
    button.dataset.label = label;
    button.textContent = "Copied";
    setTimeout(() => { button.textContent = label; }, 2000);
  }

  // -- the examples list -----------------------------------------------------------------------------
  // A closed <select> fires "change" on every arrow key, so loading on "change" computed every
  // example the keyboard passed.  An example is loaded when the choice is committed: a click (or
  // a pick from the open list), Enter, or leaving the list; arrowing only moves the selection.
  const MOVES = new Set(["ArrowUp", "ArrowDown", "ArrowLeft", "ArrowRight", "Home", "End", "PageUp", "PageDown"]);

  async function loadExample() {
    const query = $("#examples").value;
    if (!query || query === state.example) return;
    state.example = query;
    $("#examples-help").hidden = true;
    $("#answer").value = "";
    $("#verdict").replaceChildren();
    readURL(query);
    if (!new URLSearchParams(query).has("order")) $("#order").value = "1";
    if (await refreshVariables()) run();
  }

  function wireExamples() {
    const list = $("#examples");
    let keyed = false;  // the change under way comes from a key that moves the selection
    list.addEventListener("keydown", (event) => {
      if (event.key === "Enter") {
        event.preventDefault();
        loadExample();
        return;
      }
      keyed = MOVES.has(event.key) || (event.key.length === 1 && !event.ctrlKey && !event.metaKey);
    });
    list.addEventListener("keyup", () => { keyed = false; });
    list.addEventListener("change", () => {
      if (!keyed) { loadExample(); return; }
      $("#examples-help").hidden = !list.value || list.value === state.example;
    });
    list.addEventListener("blur", () => { loadExample(); });
  }

  // -- wiring ---------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    $("#form").addEventListener("submit", (event) => { event.preventDefault(); run(); });
    $("#expr").addEventListener("input", () => {
      if (state.last && state.last.expression !== expression()) $("#result").classList.add("stale");
      if ($("#examples").value) { $("#examples").value = ""; state.example = ""; }  // no longer that example
      clearTimeout(state.timer);
      state.timer = setTimeout(refreshVariables, 350);
    });
    $("#wrt").addEventListener("change", () => { if (state.last) run(); });
    $("#order").addEventListener("change", () => { if (state.last) run(); });
    wireExamples();
    $("#compare-form").addEventListener("submit", (event) => { event.preventDefault(); compare(); });
    document.addEventListener("click", (event) => {
      const button = event.target.closest("button.copy");
      if (!button) return;
      const text = button.hasAttribute("data-copy-link")
        ? new URL($("#share").getAttribute("href"), location.href).href
        : $(button.dataset.copy).textContent;
      copy(text, button);
    });
    readURL(location.search);
    window.addEventListener("resize", () => markOverflow($("#math")));
    if (expression()) refreshVariables().then((ok) => { if (ok) run(); });
  });
})();
