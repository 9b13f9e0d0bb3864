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
    wantWrt: null,     // wrt to select once the variables are known
    parsedFor: null,   // the expression the variables table belongs to
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

  function order() {
    const n = parseInt($("#order").value, 10);
    return Number.isInteger(n) && n >= 1 && n <= 6 ? n : 1;
  }

  function declaredKinds(names) {
    const out = {};
    for (const [n, k] of Object.entries(state.declared)) if (!names || names.includes(n)) out[n] = k;
    return Object.keys(out).length ? out : null;
  }

  // -- errors, with the caret under the faulty part ---------------------------------------------------
  function showError(error, box = $("#error")) {
    box.hidden = false;
    box.querySelector(".message").textContent = `${error.kind}: ${error.message}`;
    const pre = box.querySelector(".excerpt");
    pre.replaceChildren();
    if (error.excerpt != null && error.caret != null) {
      const col = error.caret.indexOf("^");
      const width = error.caret.length - col;
      const line = error.excerpt;
      pre.append(line.slice(0, col), el("mark", { text: line.slice(col, col + width) }),
        line.slice(col + width), "\n", el("span", { class: "carets", text: error.caret }));
      pre.hidden = false;
    } else {
      pre.hidden = true;
    }
    if (box.id === "error") $("#expr").setAttribute("aria-invalid", String(error.field === "expression"));
  }

  function hideError() {
    $("#error").hidden = true;
    $("#expr").removeAttribute("aria-invalid");
  }

  // -- the variables table and the wrt choice ---------------------------------------------------------
  function renderVariables(kinds) {
    const body = $("#vars tbody");
    body.replaceChildren();
    for (const [name, info] of Object.entries(kinds)) {
      const select = el("select", { id: `kind-${name}`, "aria-label": `kind of ${name}` });
      for (const k of KINDS) {
        const option = el("option", { value: k, text: k });
        if (k === (state.declared[name] || info.kind)) option.selected = true;
        select.append(option);
      }
      select.addEventListener("change", () => {
        state.declared[name] = select.value;
        refreshVariables().then((ok) => { if (ok) run(); });
      });
      const source = state.declared[name] ? "declared" : info.source;
      const size = info.dims.length ? info.dims.join("×") : "1";
      body.append(el("tr", {}, el("th", { scope: "row", text: name }), el("td", {}, select),
        el("td", {}, el("span", { class: "size", text: size }), " ", el("span", { class: "source", text: source }))));
    }
  }

  function renderWrt(names, scalars, preferred) {
    const select = $("#wrt");
    const current = state.wantWrt || select.value;
    select.replaceChildren();
    const values = [...names];
    if (scalars.length >= 2) values.push(scalars.join(","));
    for (const v of values) {
      const label = v.includes(",") ? `${v.split(",").join(", ")} (the row of partials)` : v;
      select.append(el("option", { value: v, text: label }));
    }
    if (current && !values.includes(current)) select.append(el("option", { value: current, text: current }));
    select.value = current || preferred || values[0] || "";
    state.wantWrt = null;
  }

  async function refreshVariables() {
    const expr = expression();
    if (!expr) {
      $("#vars tbody").replaceChildren();
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
    renderVariables(r.data.kinds);
    renderWrt(Object.keys(r.data.kinds), r.data.scalars, r.data.default_wrt);
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
    $("#answer-text").textContent = r.text;
    $("#shape").textContent = `Shape: ${r.shape_text}`;
    $("#latex").textContent = r.latex;
    renderVariables(r.kinds);
    renderCheck(r.check);
    renderSteps(r.steps);
    renderCode(r.code);
    renderAnalysis(r.analysis);
    renderPlot(r);
  }

  function renderCheck(check) {
    const badge = $("#check");
    badge.className = "badge";
    if (!check) { badge.hidden = true; return; }
    badge.hidden = false;
    if (check.error) {
      badge.textContent = `numerical check: ${check.error.message}`;
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

  function renderSteps(steps) {
    const box = $("#steps");
    const body = $("#steps-body");
    body.replaceChildren();
    if (!steps) { box.hidden = true; return; }
    box.hidden = false;
    if (steps.error) { body.append(el("p", { text: steps.error.message })); return; }
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
    $("#analysis-text").textContent = analysis.error ? analysis.error.message : analysis.text;
  }

  async function renderPlot(r) {
    const box = $("#plot");
    const img = $("#plot-img");
    if (!r.plot || r.plot.error) { box.hidden = true; return; }
    box.hidden = false;
    img.hidden = true;
    $("#plot-status").textContent = "drawing…";
    const res = await api("/api/plot", { expression: r.expression, wrt: r.plot.wrt, kinds: declaredKinds() });
    if (!res.ok) { $("#plot-status").textContent = res.data.error.message; return; }
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
    out.append(el("p", { class: `verdict verdict-${v.verdict.split(" ")[0]}` }, el("strong", { text: words })),
      el("p", { text: v.message }));
    if (v.fix) out.append(el("p", {}, "Corrected: ", el("code", { text: v.fix })));
    if (v.verdict !== "equal") out.append(el("p", {}, "ricci's answer: ", el("code", { text: v.right_answer })));
    updateURL();
  }

  // -- the state in the URL ----------------------------------------------------------------------------
  function updateURL() {
    const p = new URLSearchParams();
    p.set("expr", expression());
    if ($("#wrt").value) p.set("wrt", $("#wrt").value);
    if (order() !== 1) p.set("order", String(order()));
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
  async function run() {
    clearTimeout(state.timer);
    const expr = expression();
    if (!expr) return;
    if (state.parsedFor !== expr && !(await refreshVariables())) {
      $("#result").hidden = true;
      state.last = null;
      return;
    }
    const wrt = wrtValue();
    if (!wrt || (Array.isArray(wrt) && !wrt.length)) {
      showError({ kind: "input", message: "choose the variable to differentiate by" });
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

  // -- wiring ---------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    $("#form").addEventListener("submit", (event) => { event.preventDefault(); run(); });
    $("#expr").addEventListener("input", () => {
      if (state.last && state.last.expression !== expression()) $("#result").classList.add("stale");
      clearTimeout(state.timer);
      state.timer = setTimeout(refreshVariables, 350);
    });
    $("#wrt").addEventListener("change", () => { if (state.last) run(); });
    $("#order").addEventListener("change", () => { if (state.last) run(); });
    $("#examples").addEventListener("change", async () => {
      const query = $("#examples").value;
      if (!query) return;
      $("#answer").value = "";
      $("#verdict").replaceChildren();
      readURL(query);
      if (!new URLSearchParams(query).has("order")) $("#order").value = "1";
      if (await refreshVariables()) run();
    });
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
    if (expression()) refreshVariables().then((ok) => { if (ok) run(); });
  });
})();
