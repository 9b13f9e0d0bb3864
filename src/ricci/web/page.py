"""The page, rendered on the server: the form, filled in from the URL's query string, and the
empty sections the script (``static/app.js``) fills from the JSON API.

The state of a result lives in the query string, so a result can be shared as a link:
``expr`` (the expression), ``wrt`` (a name, or scalars separated by commas), ``order``,
``kind`` (repeated, ``NAME=KIND``, the declared kinds) and ``answer`` (the "your answer" box).
Everything from the request is HTML-escaped; the page has no inline script or style (the
Content-Security-Policy forbids both).
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from urllib.parse import urlencode

from ..derivation import MAX_ORDER  # the order box offers what ricci computes, and no more
from .compute import KINDS


@dataclass(frozen=True)
class Example:
    """One lecture example (shared/LECTURE_CASES.md): what the form is filled with."""

    label: str
    expression: str
    wrt: str
    order: int = 1
    kinds: dict = field(default_factory=dict)

    @property
    def query(self) -> str:
        pairs = [("expr", self.expression), ("wrt", self.wrt)]
        if self.order != 1:
            pairs.append(("order", str(self.order)))
        pairs += [("kind", f"{n}={k}") for n, k in self.kinds.items()]
        return urlencode(pairs)


EXAMPLES = (
    Example("x'a: a linear form", "x'*a", "x", kinds={"a": "vector"}),
    Example("a'Xb by the matrix X", "a'*X*b", "X", kinds={"a": "vector", "b": "vector"}),
    Example("x'Bx: a quadratic form", "x'*B*x", "x"),
    Example("weighted least squares, W symmetric", "(x - A*s)'*W*(x - A*s)", "s",
            kinds={"W": "symmetric matrix"}),
    Example("Ax: the Jacobian", "A*x", "x"),
    Example("least squares (Example 2)", "norm2(y - Phi*theta)^2", "theta"),
    Example("least squares: the Hessian", "norm2(y - Phi*theta)^2", "theta", 2),
    Example("x'Bx: the Hessian", "x'*B*x", "x", 2),
    Example("Ax by the matrix A (Example 3)", "A*x", "A"),
    Example("R'R by the matrix R (Example 4)", "R'*R", "R"),
    Example("the chain rule through x(t) (Example 1)", "exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", "t",
            kinds={"t": "scalar"}),
    Example("the inner Jacobian x(t)", "[t*cos(t); t*sin(t)]", "t", kinds={"t": "scalar"}),
    Example("gradient by two scalars", "exp(x1*x2^2)", "x1,x2"),
    Example("chain rule with (s, t)", "x1^2*x2 where x1 = s*t, x2 = s + t", "s,t"),
    Example("a saddle: x1² − x2²", "x1^2 - x2^2", "x1,x2", 2),
    Example("logistic loss", "sum(log(1 + exp(X*w))) - y'*X*w", "w"),
    Example("log det", "logdet(X)", "X"),
)


def _first(params, name: str, limit: int = 10_000) -> str:
    v = params.get(name) if hasattr(params, "get") else None
    return (v or "")[:limit]


def render(params) -> str:
    """The page for the query parameters ``params`` (a mapping; unknown keys are ignored)."""
    from .. import __version__

    e = html.escape
    expr = _first(params, "expr")
    wrt = _first(params, "wrt", 200)
    # An order out of range is shown as it came (the script refuses it with a message), never
    # quietly replaced by 1: the page must not answer another question than the one asked.
    order = _first(params, "order", 8) or "1"
    answer = _first(params, "answer")
    examples = "\n".join(f'<option value="{e(x.query)}">{e(x.label)}: {e(x.expression)}</option>'
                         for x in EXAMPLES)
    wrt_option = f'<option value="{e(wrt)}" selected>{e(wrt)}</option>' if wrt else ""
    kind_help = ", ".join(KINDS)
    return PAGE.format(expr=e(expr), examples=examples, wrt_option=wrt_option, order=e(order),
                       max_order=MAX_ORDER, answer=e(answer), version=e(__version__), kind_help=e(kind_help))


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ricci · matrix calculus</title>
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
<link rel="stylesheet" href="/static/style.css">
<script src="/static/app.js" defer></script>
</head>
<body>
<a class="skip" href="#result">Skip to the answer</a>
<header>
  <h1>ricci</h1>
  <p>Derivatives of scalar, vector and matrix functions, in matrix notation, as the lecture writes them.
  Everything runs on this machine.</p>
</header>
<main>
<form id="form" method="get" action="/" novalidate>
  <div class="field">
    <label for="expr">Function <var>f</var></label>
    <input id="expr" name="expr" type="text" value="{expr}" autocomplete="off" autocapitalize="off"
           spellcheck="false" placeholder="x'*A*x" aria-describedby="expr-help">
    <p id="expr-help" class="help"><code>'</code> transposes, <code>*</code> multiplies matrices,
    <code>.*</code> entry by entry; <code>norm2</code>, <code>tr</code>, <code>det</code>, <code>inv</code>,
    <code>exp</code>, <code>log</code>, … and <code>where</code> for bindings.</p>
  </div>
  <div id="error" class="error" role="alert" hidden>
    <p class="message"></p>
    <pre class="excerpt"></pre>
  </div>
  <div class="field">
    <label for="examples">Or take an example from the lecture</label>
    <select id="examples" aria-describedby="examples-help">
      <option value="">choose an example…</option>
{examples}
    </select>
    <p id="examples-help" class="help" hidden>Press Enter to load this example (the arrow keys only move
    through the list).</p>
  </div>
  <fieldset id="variables">
    <legend>Variables</legend>
    <div class="table-wrap">
      <table id="vars">
        <thead><tr><th scope="col">name</th><th scope="col">kind</th><th scope="col">size, because</th></tr></thead>
        <tbody></tbody>
      </table>
    </div>
    <p class="help" id="vars-help">Kinds ({kind_help}) are inferred from the expression and the names
    (a–g scalars, h–z vectors, capitals matrices); change one to declare it.</p>
  </fieldset>
  <div class="row">
    <div class="field">
      <label for="wrt">with respect to</label>
      <select id="wrt" name="wrt" aria-describedby="wrt-note">{wrt_option}</select>
    </div>
    <div class="field narrow">
      <label for="order">order</label>
      <input id="order" name="order" type="number" min="1" max="{max_order}" value="{order}" inputmode="numeric">
    </div>
    <button id="go" type="submit">Differentiate</button>
  </div>
  <p id="wrt-note" class="help note" role="status" hidden></p>
</form>
<noscript><p class="error">The answers are computed by this page's script, served by this
server (nothing is loaded from elsewhere). Enable JavaScript, or use the JSON API
(<a href="/openapi.json">schema</a>) or the <code>ricci</code> command.</p></noscript>

<section id="result" aria-labelledby="answer-title" tabindex="-1" hidden>
  <h2 id="answer-title">Derivative</h2>
  <div id="math" class="math" aria-describedby="math-more"></div>
  <p id="math-more" class="help scroll-cue" hidden>The formula is wider than this box: scroll it sideways
  (or focus it and use the arrow keys) for the rest.</p>
  <p class="answer-line"><code id="answer-text"></code>
    <button type="button" class="copy" data-copy="#answer-text">Copy</button></p>
  <p id="shape" class="shape"></p>
  <p id="check" class="badge" hidden></p>
  <details id="latex-box"><summary>LaTeX</summary>
    <pre><code id="latex"></code></pre>
    <button type="button" class="copy" data-copy="#latex">Copy LaTeX</button>
  </details>
  <details id="steps" hidden><summary>Steps</summary>
    <fieldset class="tabs" id="steps-method" hidden><legend>Method</legend>
      <label for="method-jacobians"><input type="radio" name="steps-method" id="method-jacobians" value="jacobians"
        checked> Chain rule (Jacobians)</label>
      <label for="method-differentials"><input type="radio" name="steps-method" id="method-differentials"
        value="differentials"> Differentials (dF, then identify)</label>
    </fieldset>
    <div id="steps-body"></div></details>
  <section id="code" aria-labelledby="code-title" hidden>
    <h3 id="code-title">Code</h3>
    <fieldset class="tabs" id="backends"><legend>Backend</legend></fieldset>
    <pre><code id="code-text"></code></pre>
    <button type="button" class="copy" id="copy-code" data-copy="#code-text">Copy code</button>
  </section>
  <section id="analysis" aria-labelledby="analysis-title" hidden>
    <h3 id="analysis-title">Hessian analysis</h3>
    <pre id="analysis-text"></pre>
  </section>
  <section id="plot" aria-labelledby="plot-title" hidden>
    <h3 id="plot-title">Plot</h3>
    <p id="plot-status" class="help"></p>
    <img id="plot-img" alt="" hidden>
  </section>
  <section id="compare" aria-labelledby="compare-title">
    <h3 id="compare-title">Your answer</h3>
    <form id="compare-form" novalidate>
      <label for="answer">Your derivative, in the same notation — or its differential (df = tr(G'*dX),
        dF = A*dX*B, f'(X)[dX] = …)</label>
      <div class="row">
        <input id="answer" name="answer" type="text" value="{answer}" autocomplete="off" autocapitalize="off"
               spellcheck="false" placeholder="2*x'*A">
        <button type="submit" id="check-answer">Check</button>
      </div>
    </form>
    <div id="verdict" aria-live="polite"></div>
  </section>
  <p class="share"><a id="share" href="/">Link to this result</a>
    <button type="button" class="copy" id="copy-link" data-copy-link>Copy link</button></p>
</section>
</main>
<footer>ricci {version} · <a href="/openapi.json">API schema</a> · works offline</footer>
</body>
</html>
"""
