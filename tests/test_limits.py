"""Hard limits (ricci.limits): every one refused early with a clear LimitError, and every
RicciError subclass of the code base raised by some input.

The timeout tests use inputs designed to take far longer than the small budgets they get
(their work grows with the order), and assert only that a LimitError is raised — never how
long anything took.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import ricci
from ricci import limits
from ricci.derivation import MAX_ORDER
from ricci.language.parser import MAX_DEPTH, MAX_LENGTH, MAX_NESTING

#: Takes seconds at order 6 (thousands of new nodes, a display of thousands of characters).
SLOW = ("sin(tan(exp(a*b)^a)^b)*cos(sigmoid(a*b^2))^a", "a", 6)


@pytest.mark.parametrize("call, words", [
    (lambda: ricci.parse("x+" * (MAX_LENGTH // 2) + "x"), "characters long; the limit is 10,000"),
    (lambda: ricci.parse("(" * (MAX_NESTING + 1) + "a" + ")" * (MAX_NESTING + 1)), "nest more than 100 deep"),
    (lambda: ricci.parse("-" * (MAX_DEPTH + 1) + "a"), "levels deep; the limit is 300"),
    (lambda: ricci.derivative("x'*x", "x", MAX_ORDER + 1), "order 7 is above the limit of 6"),
    (lambda: ricci.derivative(*SLOW, timeout=0.01), "time budget of 0.01 s"),
    (lambda: ricci.derivative("exp(x'*A*x)*log(sum(exp(A*x)))", "x", 2, max_nodes=20), "more than 20 expression nodes"),
])
def test_every_limit_is_a_limit_error(call, words):
    with pytest.raises(ricci.LimitError) as info:
        call()
    assert words in info.value.message
    assert info.value.kind == "limit"


def test_the_display_has_its_own_budget():
    d = ricci.derivative(*SLOW[:2], 4, timeout=30)  # the derivation fits in 30 s ...
    d._limits = (0.01, None)  # ... its display does not fit in 0.01 s
    with pytest.raises(ricci.LimitError, match="showing the derivative took longer"):
        d.text


def test_a_budget_leaves_nothing_behind():
    with pytest.raises(ricci.LimitError):
        ricci.derivative(*SLOW, timeout=0.01)
    assert limits.current() is None
    d = ricci.derivative("x'*B*x", "x")  # the next derivation is unaffected
    assert d.text == "x'*(B + B')"
    from ricci.ir import build as B

    with limits.budget(None, 10**9) as b:
        B.num(1234.5678125)  # a node made under a budget is counted
    assert b.nodes == 1 and limits.current() is None


def test_no_limit_when_asked():
    d = ricci.derivative("x'*B*x", "x", 2, timeout=None, max_nodes=None)
    assert d.text == "B + B'"


@pytest.mark.parametrize("bad", [0, -1.0, "10", True, float("nan")])
def test_a_bad_timeout_is_a_bad_value(bad):
    with pytest.raises(ricci.BadValueError, match="timeout must be"):
        ricci.derivative("x'*x", "x", timeout=bad)


@pytest.mark.parametrize("bad", [0, 1.5, "10", False])
def test_bad_max_nodes_is_a_bad_value(bad):
    with pytest.raises(ricci.BadValueError, match="max_nodes must be"):
        ricci.derivative("x'*x", "x", max_nodes=bad)


def test_the_command_line_reports_a_limit(capsys):
    from ricci.cli import main

    assert main(["diff", "x'*x", "--wrt", "x", "--order", "9"]) == 2
    assert capsys.readouterr().err.startswith("limit: order 9 is above the limit of 6")


# ------------------------------------------------------------------------------------------------
# every RicciError subclass, raised by an input
# ------------------------------------------------------------------------------------------------

def _codegen_error():
    # a size that no variable fixes cannot become a NumPy shape
    ricci.derivative("sum(matrix(a))", "a").code()


def _missing_dependency(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_matplotlib(name, *args, **kw):
        if name.startswith("matplotlib"):
            raise ImportError("No module named 'matplotlib'")
        return real(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    ricci.plot("x^2", "x", kinds={"x": "scalar"})


#: Each subclass of RicciError defined in src/ricci, with an input that raises it.
TRIGGERS = {
    "RicciSyntaxError": lambda mp: ricci.parse("x +"),
    "UnknownNameError": lambda mp: ricci.parse("foo(x)"),
    "ShapeError": lambda mp: ricci.evaluate("2 + A*x", {"A": np.ones((5, 4)), "x": np.ones(3)}),
    "KindError": lambda mp: ricci.parse("tr(x)", {"x": "vector"}),
    "BadValueError": lambda mp: ricci.evaluate("log(a)", {"a": -1.0}),
    "LimitError": lambda mp: ricci.derivative("x'*x", "x", 7),
    "CodegenError": lambda mp: _codegen_error(),
    "MissingDependencyError": _missing_dependency,
    "ProductError": lambda mp: ricci.derivative("A*x", "x").hvp(),
    # SciPy (the solver's engine) is in the test extra
    "SolveError": lambda mp: ricci.minimize("log(w'*w)", "w", {}, sizes={"n": 3}),
    "UnboundedError": lambda mp: ricci.minimize("-w'*w", "w", {}, sizes={"n": 3}),
    # the differential method differentiates the order below, here a tensor (∂²tr(X³)/∂X²)
    "NoRule": lambda mp: ricci.derivative("u'*expm(X)*v", "X", 1).steps(method="differentials"),
    # an answer tree built outside the raiser whose sides do not fit (x of n × 1 times A of m × n):
    # the structural proofs' rewritten Hessians are typed so, and not read where it is raised
    "Mistyped": lambda mp: _mistyped(),
}


def _mistyped():
    from ricci.language.parser import parse_text
    from ricci.simplify.mtypes import typed_expression

    typed_expression(ricci.parse("A*x"), parse_text("x*A"), ("m", 1), "x*A")


def _subclasses_in_the_source() -> set:
    """Names of the classes of src/ricci that derive from RicciError (directly or not)."""
    src = Path(ricci.__file__).parent
    bases: dict = {}
    for path in src.rglob("*.py"):
        for name, parents in re.findall(r"^class (\w+)\(([^)]*)\)", path.read_text(), re.M):
            bases[name] = {p.strip() for p in parents.split(",")}
    found = {"RicciError"}
    changed = True
    while changed:
        changed = False
        for name, parents in bases.items():
            if name not in found and parents & found:
                found.add(name)
                changed = True
    return found - {"RicciError"}


def test_every_subclass_has_a_trigger():
    missing = _subclasses_in_the_source() - set(TRIGGERS)
    assert not missing, f"add an input that raises each of {sorted(missing)} to TRIGGERS"


#: Subclasses whose trigger meets a known bug (tests/known_core_bugs.md) instead.
KNOWN: dict = {}


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.xfail(reason=KNOWN[n], strict=True))
                                  if n in KNOWN else n for n in sorted(TRIGGERS)])
def test_every_subclass_is_raised(name, monkeypatch):
    with pytest.raises(ricci.RicciError) as info:
        TRIGGERS[name](monkeypatch)
    assert type(info.value).__name__ == name
    assert info.value.message and "\n" not in info.value.message
