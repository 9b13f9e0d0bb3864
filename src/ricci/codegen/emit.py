"""Assemble the Python source of a derivative: signature, shape asserts, body, docstring.

The body is the plan (:mod:`.plan`) printed in dependency order: a node used more than once is
computed once into a temporary ``t_0, t_1, …`` (a ``where`` binding keeps its own name), a node
used once is written inline where it is used (unless its text grows too long), and the few
operations that write into a buffer are statements.  Names never collide: the parameters are
the variables' names; dimensions, temporaries and the module alias avoid them.
"""

from __future__ import annotations

import keyword

from ..ir.stable import stable
from ..language.kinds import SCALAR, SYMMETRIC
from .backends import ATOM, Code, Printer
from .printers import BACKENDS
from .from_index import to_plan
from .from_matrix import CodegenError, MatrixToPlan
from .plan import Op, Plan
from .solves import factor_solves

#: A single-use expression longer than this gets its own line.
MAX_INLINE = 72
#: Operations that never need their own line when used again (no work to repeat).
TRIVIAL = {"var", "num", "dim"}
#: Operations whose result can be a view of an argument (NumPy: returned copies).
VIEWS = {"var", "T", "expand", "permute", "diagonal", "reshape"}
#: Operations that produce a new array of their own (safe to write into).
FRESH = {"add", "sub", "mul", "div", "pow", "neg", "func", "matmul", "outer", "full", "diag",
         "inv", "solve", "stack", "stackn", "add_diag", "scatter"}


class Names:
    """Identifiers of the generated function, each unique."""

    def __init__(self, taken, soft=()):
        self.taken = set(taken) | set(keyword.kwlist) | {"float", "print", "len", "range"}
        #: names that temporaries avoid but that their owner (a where binding) may claim once
        self.soft = set(soft) - self.taken
        self.counter = 0
        self.arrays: dict = {}
        self.pre_lines: list[str] = []

    def fresh(self, stem: str = "t") -> str:
        while True:
            name = f"{stem}_{self.counter}"
            self.counter += 1
            if name not in self.taken and name not in self.soft:
                self.taken.add(name)
                return name

    def own(self, wanted: str) -> str:
        name = wanted if wanted.isidentifier() else "v"
        self.soft.discard(name)
        base, k = name, 1
        while name in self.taken:
            name = f"{base}_{k}"
            k += 1
        self.taken.add(name)
        return name

    def index_array(self, n: str, printer: Printer) -> str:
        """A name for ``arange(n)``, defined once before its first use."""
        if n not in self.arrays:
            name = self.own(f"r_{n}" if n.isidentifier() else "r")
            self.arrays[n] = name
            self.pre_lines.append(f"{name} = {printer.index_array(n)}")
        return self.arrays[n]


def python_name(name: str) -> str:
    """The parameter name of a variable: its own name, or with ``_`` appended when it is a
    Python keyword (``lambda`` → ``lambda_``, as PEP 8 advises)."""
    return name + "_" if keyword.iskeyword(name) else name


def default_name(d, with_value: bool) -> str:
    scalar_f = not d.expression.shape
    if d.order == 1:
        what = "gradient" if scalar_f else "jacobian"
    elif d.order == 2 and scalar_f:
        what = "hessian"
    else:
        what = "derivative"
    return f"value_and_{what}" if with_value else what


def _dimmap(d, ans) -> dict:
    """Dimension names of the re-parsed answer → those of the original expression."""
    out: dict = {}
    orig = d.expression.variables
    for name, v in ans.variables.items():
        if name in orig:
            for a, b in zip(v.dims, orig[name].dims):
                out.setdefault(a, b)
    for a, b in zip(ans.type.shape, d.shape):
        out.setdefault(a, b)
    # a product of dimensions (kron's sides, vec's length) is the original's of the same factors
    theirs = {tuple(f): n for n, f in d.expression._checked.products.items()}
    for a, factors in ans._checked.products.items():
        mapped = tuple(f if isinstance(f, int) else out.get(f) for f in factors)
        if mapped in theirs:
            out.setdefault(a, theirs[mapped])
    return out


def build_plan(d, printer: Printer, with_value: bool) -> tuple[Plan, Op | None, Op]:
    variables = d.expression.variables
    sym = frozenset(n for n, v in variables.items() if v.kind == SYMMETRIC)
    plan = Plan(symmetric=sym, scale_results=printer.name != "jax")
    # softplus and sigmoid of one argument share exp(-|x|) where the backend has no exact
    # functions of its own for them (MatrixToPlan._elementwise)
    plan.shared_exp = {} if printer.name in ("numpy", "array_api") else None
    plan.exp_branch = printer.name == "numpy"
    names = set(variables)
    value = None
    if with_value:
        identity = {dim: dim for v in variables.values() for dim in v.dims}
        identity.update({dim: dim for dim in d.expression._checked.products})
        for dim in d.expression.shape:
            identity.setdefault(dim, dim)
        value = MatrixToPlan(plan, d.expression, identity, names).convert(d.expression.tree)
    ans = d.as_expression() if d.matrix is not None else None
    if ans is not None:
        deriv = MatrixToPlan(plan, ans, _dimmap(d, ans), names).convert(ans.tree)
        expected = tuple(d.shape)
        if deriv.ndim != len(expected):  # e.g. a constant answer such as 0 of a tensor shape
            deriv = plan.full(deriv, expected) if deriv.ndim == 0 else None
        if deriv is None:
            raise CodegenError("the answer's matrix form does not have the derivative's shape")
    else:
        # the stable forms of ricci.ir.stable, as d.evaluate computes them (docs/numerics.md)
        bindings = {k: (stable(ir), br, bc) for k, (ir, br, bc) in d.lowered.bindings.items()}
        deriv = to_plan(plan, stable(d.node), tuple(d.out), bindings, names, einsum=printer.einsum)
    return plan, value, deriv


class Emitter:
    def __init__(self, printer: Printer, names: Names, dims: dict):
        self.p = printer
        self.names = names
        self.dims = dims
        self.lines: list[str] = []
        self.code: dict[int, Code] = {}
        self.uses: dict[int, int] = {}
        #: id(op) → the name its line should have (the argument of a where binding)
        self.preferred: dict[int, str] = {}
        #: id(softplus block) → {output read from it ("sp", "sp_sum", "sig", "sig_neg"): its
        #: pick}, and the names the block's lines give them
        self.picked: dict[int, dict] = {}
        self.block_names: dict[int, dict] = {}

    def count(self, roots) -> None:
        self.roots = {id(r) for r in roots}
        seen = set()
        todo = list(roots)
        for r in roots:
            self.uses[id(r)] = self.uses.get(id(r), 0) + 1
        while todo:
            op = todo.pop()
            if id(op) in seen:
                continue
            seen.add(id(op))
            if op.kind == "pick":
                self.picked.setdefault(id(op.args[0]), {})[op.attrs[0]] = op
            for a in op.args:
                self.uses[id(a)] = self.uses.get(id(a), 0) + 1
                todo.append(a)

    def needs_line(self, op: Op, text: Code) -> bool:
        if op.kind in TRIVIAL:
            return False
        if op.kind == "T" and op.args[0].kind == "var":
            return False
        if self.uses.get(id(op), 0) > 1 or id(op) in self.preferred:
            return True
        return len(text.text) > MAX_INLINE and id(op) not in self.roots

    def emit(self, op: Op) -> Code:
        """The code of ``op``: its inline text, or the name of the temporary holding it."""
        got = self.code.get(id(op))
        if got is not None:
            return got
        # children first (iteratively, so deep plans are fine)
        stack = [(op, False)]
        while stack:
            node, ready = stack.pop()
            if id(node) in self.code:
                continue
            if not ready:
                stack.append((node, True))
                stack.extend((a, False) for a in reversed(node.args) if id(a) not in self.code)
                continue
            self.code[id(node)] = self._emit_one(node)
        return self.code[id(op)]

    def _emit_one(self, op: Op) -> Code:
        args = [self.code[id(a)] for a in op.args]
        k = op.kind
        if k == "var":
            return Code(python_name(op.attrs[0]))
        if k == "dim":
            if op.attrs[0] not in self.dims:
                raise CodegenError(
                    f"the size of dimension {op.attrs[0]} is not fixed by any variable, so the "
                    "generated function could not know it; add a variable of that size")
            return Code(self.dims[op.attrs[0]])
        if k == "sumsq" and op.args[0].kind not in TRIVIAL:
            # the argument appears twice in the text: give it a name first
            args = [self._to_line(op.args[0], args[0])]
        if k == "add_diag":
            target = self.names.fresh()
            base = op.args[0]
            # written in place when nothing else reads the buffer (else on a copy)
            fresh = base.kind in FRESH and self.uses.get(id(base), 0) == 1
            n = self.dims[op.shape[0]] if not isinstance(op.shape[0], int) else str(op.shape[0])
            self.lines += self.p.add_diag_lines(target, args[0], fresh, args[1], n)
            return Code(target)
        if k == "scatter":
            return self._scatter(op, args)
        if k == "logdet":
            target = self.names.fresh()
            sign = self.names.fresh("sign")
            self.lines += self.p.logdet_lines(target, sign, args[0])
            return Code(target)
        if k == "shift":  # softmax's and logsumexp's: max(x), or 0 where no shift is needed
            target = self.names.fresh()
            self.lines += self.p.shift_lines(target, args[0])
            return Code(target)
        if k == "softplus_block":  # softplus and sigmoid of one x: a branch (softplus_lines)
            picks = self.picked.get(id(op), {})
            out = {name: self.names.own(self.preferred[id(picks[name])]) if id(picks[name]) in self.preferred
                   else self.names.fresh() for name in sorted(picks)}
            e, v = self.names.fresh(), self.names.fresh()
            self.lines += self.p.softplus_lines(out, e, v, args[0], args[1], op.args[0] is not op.args[1],
                                                op.ndim == 0)
            self.block_names[id(op)] = out
            return Code(e)
        if k == "pick":  # an output of a softplus block: the name its lines gave it
            return Code(self.block_names[id(op.args[0])][op.attrs[0]])
        if k == "hypot":  # Plan.norm2, a branch: its argument named first, as both sides read it
            x = self._to_line(op.args[0], args[0]) if op.args[0].kind not in TRIVIAL else args[0]
            target = self.names.fresh()
            self.lines += self.p.norm2_lines(target, op.args[0], x, self.names)
            return Code(target)
        text = self.p.expr(op, args, self.dims)
        if self.needs_line(op, text):
            return self._to_line(op, text)
        return text

    def _to_line(self, op: Op, text: Code) -> Code:
        if text.prec == ATOM and text.text.isidentifier():
            return text
        wanted = self.preferred.get(id(op))
        name = self.names.own(wanted) if wanted else self.names.fresh()
        self.lines.append(f"{name} = {text.text}")
        self.code[id(op)] = Code(name)
        return Code(name)

    def _scatter(self, op: Op, args: list[Code]) -> Code:
        target = self.names.fresh()
        shape = self.p.shape_text(op.shape, self.dims)
        entries = []
        for code, (pattern, letters) in zip(args, op.attrs[0]):
            gdims = {}
            for pos, g in enumerate(pattern):
                d = op.shape[pos]
                gdims[g] = str(d) if isinstance(d, int) else self.dims[d]
            entries.append((code, pattern, letters, gdims))
        before = len(self.names.pre_lines)
        body = self.p.scatter_lines(target, shape, entries, self.names)
        self.lines += self.names.pre_lines[before:]
        self.lines += body
        return Code(target)


def _docstring(d, with_value: bool, params: list[str], printer: Printer) -> list[str]:
    what = default_name(d, False)
    wrt = d.wrt if isinstance(d.wrt, str) else "[" + ", ".join(d.wrt) + "]"
    head = f"{what.capitalize()} of {d.expression.text} by {wrt}"
    if d.order > 1 and what == "derivative":
        head = f"Derivative of order {d.order} of {d.expression.text} by {wrt}"
    lines = [head + ".", "", d.text, ""]
    kinds = []
    for n, v in d.expression.variables.items():
        dims = "×".join(str(x) for x in v.dims)
        kinds.append(f"{n}: {v.kind}" + (f" ({dims})" if dims else ""))
    lines.append("; ".join(kinds) + ".")
    shape = "(" + ", ".join(str(s) for s in d.shape) + ("," if len(d.shape) == 1 else "") + ")"
    ret = "a scalar" if not d.shape else f"an array of shape {shape}"
    lines.append(f"Returns {ret}" + (", after the value of the function." if with_value else "."))
    if printer.name == "array_api":
        lines.append("xp: the array namespace (default: that of the first argument).")
    lines.append("Generated by ricci.")
    text = "\n".join(("    " + ln) if ln else "" for ln in lines).lstrip()
    text = text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')
    return [f'"""{text}', '"""']


def generate(d, backend: str = "numpy", name: str | None = None, with_value: bool = False,
             check_finite: bool = False) -> str:
    """The Python source of a function computing ``d`` (and the function's value first);
    ``check_finite``: the function raises FloatingPointError rather than return a NaN or an
    infinity (off by default: the check reads every entry once more)."""
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    if name is None:
        name = default_name(d, with_value)
    if not name.isidentifier() or keyword.iskeyword(name):
        raise ValueError(f"{name!r} is not a valid Python function name")
    variables = d.expression.variables
    params = [python_name(p) for p in variables]
    if len(set(params)) != len(params):
        raise CodegenError(f"two variables have the same Python name: {', '.join(params)}")
    alias = BACKENDS[backend].module
    while alias in params:
        alias = "_" + alias
    printer = BACKENDS[backend](alias)
    bound = _bound_names(d)
    names = Names(params + [alias, name], bound)
    # dimension names
    dims: dict = {}
    for v in variables.values():
        for dim in v.dims:
            if not isinstance(dim, int) and dim not in dims:
                dims[dim] = names.own(str(dim))
    products = {k: v for k, v in d.expression._checked.products.items() if k not in dims}
    for dim in products:  # vec(X)'s length mn, from m and n (written after the variables' sizes)
        dims[dim] = names.own(str(dim))
    for dim in d.shape:
        if not isinstance(dim, int) and dim not in dims:  # pragma: no cover - every dim is a variable's
            raise CodegenError(f"the size {dim} is not fixed by any variable")
    # dtype reference: the first array parameter (constants made inside take its dtype)
    arrays = [python_name(n) for n, v in variables.items() if v.kind != SCALAR]
    printer.dtype_ref = (arrays or params or [None])[0]
    if backend == "jax" and printer.dtype_ref and not arrays:
        printer.dtype_ref = None

    plan, value, deriv = build_plan(d, printer, with_value)
    value, deriv = factor_solves(plan, [value, deriv])  # one factorisation per matrix (solves.py)
    em = Emitter(printer, names, dims)
    em.preferred = {k: name for k, (name, _) in plan.labels.items()}
    roots = [value, deriv] if value is not None else [deriv]
    em.count(roots)
    out_codes = [em.emit(r) for r in roots]
    results = []
    for r, c in zip(roots, out_codes):
        if r.ndim == 0 and printer.float_scalars:
            c = printer.scalar_result(c)
        elif r.ndim > 0 and (r.kind in VIEWS or (r.kind == "T" and r.args[0].kind in VIEWS)
                             or (r.kind == "einsum" and len(r.args) == 1)):
            c = printer.copy(c)
        results.append(c.text)

    lines = []
    lines += printer.import_lines()
    if lines:
        lines += ["", ""]
    sig = ", ".join(params)
    if backend == "array_api":
        sig += (", " if sig else "") + f"{alias}=None"
    lines.append(f"def {name}({sig}):")
    body = _docstring(d, with_value, params, printer)
    if backend == "array_api":
        first = params[0] if params else None
        if first:
            body.append(f"if {alias} is None:")
            body.append(f"    {alias} = {first}.__array_namespace__()")
    body += _shape_lines(variables, dims)
    body += [f"{dims[k]} = {' * '.join(str(f) if isinstance(f, int) else dims[f] for f in v)}"
             for k, v in products.items() if all(isinstance(f, int) or f in dims for f in v)]
    if check_finite:
        checks, results = _finite_lines(d, printer, names, results)
        body += _singular_refused(d, printer, em.lines + checks)
    else:
        body += em.lines
    body.append("return " + ", ".join(results))
    lines += [("    " + ln) if ln else "" for ln in body]
    return "\n".join(lines) + "\n"


def _finite_lines(d, printer: Printer, names: Names, results: list[str]) -> tuple[list[str], list[str]]:
    """Each result named, and checked finite: never a silent NaN (docs/numerics.md).  The lines
    (three per result, the first the assignment) and the results' names."""
    whats = ["value", default_name(d, False)][-len(results):]
    lines, targets = [], []
    for text, what in zip(results, whats):
        message = (f"the {what} of {d.expression.text} is not finite (NaN or inf) at these values; "
                   + ("ricci.evaluate(expression, values)" if what == "value" else "d.evaluate(values)")
                   + " names the term that is not")
        target = names.fresh("result")
        finite = f"{printer.m('isfinite')}({target})"
        test = f"{finite}.all()" if printer.name == "torch" else f"{printer.m('all')}({finite})"
        lines += [f"{target} = {text}", f"if not {test}:", f"    raise FloatingPointError({message!r})"]
        targets.append(target)
    return lines, targets


def _singular_refused(d, printer: Printer, lines: list[str]) -> list[str]:
    """``lines``, where they solve with or invert a matrix (NumPy, PyTorch), inside a try whose
    except turns the library's LinAlgError at a singular matrix (det(X'*A*X) by X at entries of
    1e-150, whose X'*A*X underflows to 0) into the FloatingPointError of check_finite, as
    d.evaluate refuses there with its BadValueError (docs/numerics.md)."""
    error = {"numpy": "linalg.LinAlgError", "torch": "linalg.LinAlgError"}.get(printer.name)
    if error is None or not any(printer.m("linalg.") in ln for ln in lines):
        return lines
    message = (f"the {default_name(d, False)} of {d.expression.text} is not defined at these values: a matrix "
               "it solves with or inverts is singular; d.evaluate(values) names the term")
    return (["try:"] + [("    " + ln) if ln else "" for ln in lines]
            + [f"except {printer.m(error)} as e:", f"    raise FloatingPointError({message!r} + f' ({{e}})') from None"])


def _bound_names(d) -> list[str]:
    out = list(d.lowered.bindings)
    from ..language import ast as A

    if d.matrix is not None:
        for node in A.walk(d.matrix):
            if isinstance(node, A.Where):
                out += [n for n, _ in node.bindings]
    return out


def _shape_lines(variables: dict, dims: dict) -> list[str]:
    lines = []
    known: set = set()
    for n, v in variables.items():
        if v.kind == SCALAR:
            continue
        n = python_name(n)
        new = [dim for dim in v.dims if not isinstance(dim, int) and dim not in known]
        texts = [str(x) if isinstance(x, int) else dims[x] for x in v.dims]
        shape = "(" + ", ".join(texts) + ("," if len(texts) == 1 else "") + ")"
        if len(new) == len(v.dims) and len(set(new)) == len(new):
            target = f"({texts[0]},)" if len(texts) == 1 else ", ".join(texts)
            lines.append(f"{target} = {n}.shape")
        else:
            for k, dim in enumerate(v.dims):
                if dim in new and dim not in known:
                    lines.append(f"{dims[dim]} = {n}.shape[{k}]")
                    known.add(dim)
            lines.append(f'assert {n}.shape == {shape}, "{n} must have shape {shape}"')
        known.update(new)
    return lines


def compile_function(source: str, name: str):
    """Compile generated source (never user text) and return the function it defines."""
    namespace: dict = {}
    exec(compile(source, f"<ricci generated {name}>", "exec"), namespace)  # noqa: S102 - our own code
    return namespace[name]
