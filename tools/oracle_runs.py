"""Runs of random derivative problems against an oracle: one problem (:func:`run_problem`), a
seeded campaign of them (:func:`campaign`, which ``tools/campaign.py`` drives from the command
line) and the coverage of the differentiation rules they reach (:class:`RuleCoverage`).

Moved out of ``ricci.testing`` (issue 16, Tidy): that module keeps what users import, the
Hypothesis strategies and the oracle check; this machinery is ricci's own (``tests/test_differential.py``).
Import it with ``tools/`` on ``sys.path``.
"""

from __future__ import annotations

from typing import NamedTuple

from ricci.functions import FUNCTIONS
from ricci.testing import DerivativeProblem, derivative_problems


class Outcome(NamedTuple):
    """What :func:`run_problem` found.  ``status``: ``"ok"``; ``"mismatch"`` (the derivative's
    numbers are wrong); ``"convention"`` (a symmetric wrt: wrong plain partials, right along
    symmetric directions); ``"text mismatch"`` / ``"text error"`` (the answer's text evaluates
    to other numbers / does not parse or evaluate); ``"value mismatch"`` (``ricci.evaluate``
    and the independent evaluator disagree on f itself); ``"error"`` (an exception from ricci);
    ``"no point"`` (no point to check at was found).  ``error`` is the relative error."""

    status: str
    problem: DerivativeProblem
    detail: str = ""
    error: float = 0.0
    matrix_form: bool | None = None
    oracle: str = ""


#: Largest relative error between two exact computations (ricci and the JAX oracle).
ORACLE_RTOL = 1e-7


def run_problem(problem: DerivativeProblem, oracle: str = "jax", rtol: float = ORACLE_RTOL) -> Outcome:
    """Differentiate ``problem`` with ricci and compare with the ``oracle``: ``"jax"`` (JAX's
    autodiff of the original expression, :mod:`ricci.oracle`) or ``"fd"`` (finite differences,
    :func:`ricci.numeric_check.check_at`).  Also checks that the answer's text evaluates to the
    same numbers and that the two evaluators of f agree.  Never raises for ricci's errors:
    they are an outcome."""
    import numpy as np

    from ricci import RicciError, derivative
    from ricci.evaluation import evaluate_expression
    from ricci.numeric_check import ArrayEvaluator, BadValueError, _text_value, check_at, find_point, \
        relative_error, symmetrise_last

    def out(status, detail="", error=0.0, matrix_form=None):
        return Outcome(status, problem, detail, error, matrix_form, oracle)

    try:
        d = derivative(problem.text, problem.wrt_arg, problem.order, problem.kinds)
        has_matrix = d.matrix is not None
    except RicciError as e:
        return out("error", f"ricci.derivative: {type(e).__name__}: {e}")
    expr = d.expression
    rng = np.random.default_rng(problem.seed)
    try:
        # JAX compiles each operation once per shape: fewer sizes, fewer compilations
        values = find_point(expr, rng, spare=1 if oracle == "jax" else 3)
    except BadValueError as e:
        return out("no point", str(e))
    with np.errstate(all="ignore"):
        f_mine = np.asarray(ArrayEvaluator(expr, np)(values), dtype=float)
    try:
        f_ricci = np.asarray(evaluate_expression(expr, values), dtype=float)
    except RicciError as e:
        return out("value mismatch", f"ricci.evaluate: {type(e).__name__}: {e}")
    magnitude = max(1.0, float(np.max(np.abs(f_mine))) if f_mine.size else 0.0)
    verr = relative_error(f_ricci, f_mine, 1e-12 * magnitude)
    if verr > rtol:
        return out("value mismatch", f"ricci.evaluate {f_ricci} vs {f_mine}", verr)
    try:
        got = np.asarray(d.evaluate(values), dtype=float)
    except RicciError as e:
        return out("error", f"d.evaluate: {type(e).__name__}: {e}", matrix_form=has_matrix)
    symmetric = problem.wrt_kind == "symmetric matrix"
    if oracle == "jax":
        from ricci.oracle import jax_derivative

        ref = jax_derivative(expr, d.wrt, values, problem.order)
        err = relative_error(got, ref, 1e-7 * magnitude)
        if err > rtol:
            if symmetric and got.shape == ref.shape:
                gs, rs = got, ref
                for _ in range(problem.order):  # symmetrise every wrt pair of axes
                    gs, rs = symmetrise_last(gs), symmetrise_last(rs)
                    gs, rs = np.moveaxis(gs, (-2, -1), (0, 1)), np.moveaxis(rs, (-2, -1), (0, 1))
                if relative_error(gs, rs, 1e-7 * magnitude) <= rtol:
                    return out("convention", _differ(got, ref), err, has_matrix)
            return out("mismatch", _differ(got, ref), err, has_matrix)
    else:
        for _ in range(5):
            r, why = check_at(d, values, rtol=1e-6, text=False)
            if r is not None:
                break
            values = find_point(expr, rng)
        else:
            return out("no point", why)
        got = np.asarray(d.evaluate(values), dtype=float)  # at the point finally used
        err = r.error
        if err > 1e-6:
            return out("mismatch", f"relative error per order {r.level_errors}", err, has_matrix)
    if has_matrix:
        try:
            tv = _text_value(d, values)
        except RicciError as e:
            return out("text error", f"{d.text!r}: {type(e).__name__}: {e}", 0.0, has_matrix)
        if tv is not None:
            terr = relative_error(tv.reshape(got.shape) if tv.size == got.size else tv, got,
                                  1e-7 * magnitude)
            if terr > rtol:
                return out("text mismatch", f"{d.text!r}: {_differ(tv, got)}", terr, has_matrix)
    note = "no matrix form" if not has_matrix and got.ndim <= 2 else ""
    return out("ok", note, err, has_matrix)


def _differ(got, ref) -> str:
    import numpy as np

    got, ref = np.asarray(got), np.asarray(ref)
    if got.shape != ref.shape:
        return f"shape {got.shape}, expected {ref.shape}"
    k = np.unravel_index(int(np.argmax(np.abs(got - ref))), got.shape) if got.size else ()
    return f"at {tuple(int(i) for i in k)}: {got[k]!r} vs {ref[k]!r} (expected)"


class RuleCoverage:
    """Counts which differentiation rules run, while active (``with RuleCoverage() as cov``):
    each node type of :data:`ricci.diff.RULES`, each matrix function, each elementwise function
    of the table (its derivative formula), the chain rule through a ``where`` binding, a power
    with a variable exponent, and a list of scalar wrt.  ``cov.missing()`` lists what never ran."""

    def __init__(self):
        self.counts: dict[str, int] = {}

    def expected(self) -> list[str]:
        from ricci import diff

        # Pair (the index pairing of vec and kron) only arises from vec/kron, which the random
        # generator does not draw yet (nor expm, eig, …); tests/test_kron_vec.py runs its rule
        # against finite differences at orders 1-3.
        names = [f"rule {t.__name__}" for t in diff.RULES if t.__name__ != "Pair"]
        names += [f"matrix function {f}" for f in ("inv", "det", "logdet")]
        from ricci.ir.build import AS_POWER

        names += [f"elementwise {n}" for n, f in FUNCTIONS.items()
                  if f.family == "elementwise" and n not in AS_POWER]  # sqrt: the power rule
        names += ["chain rule through where", "power with a variable exponent", "list of scalar wrt"]
        return names

    def missing(self) -> list[str]:
        return [n for n in self.expected() if not self.counts.get(n)]

    def _hit(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    def __enter__(self):
        from ricci import diff

        self._saved = (dict(diff.RULES), diff.elementwise_derivative, diff.differentiate_list)
        for t, rule in list(diff.RULES.items()):
            diff.RULES[t] = self._wrap(t, rule)
        original_elem = diff.elementwise_derivative
        original_list = diff.differentiate_list

        def elementwise_derivative(func, arg):
            self._hit(f"elementwise {func}")
            return original_elem(func, arg)

        def differentiate_list(*args, **kw):
            self._hit("list of scalar wrt")
            return original_list(*args, **kw)

        diff.elementwise_derivative = elementwise_derivative
        diff.differentiate_list = differentiate_list
        from ricci import derivation

        self._saved_derivation = derivation.differentiate_list
        derivation.differentiate_list = differentiate_list
        return self

    def _wrap(self, t, rule):
        from ricci import diff
        from ricci.ir import build as B

        def counted(D, node):
            self._hit(f"rule {t.__name__}")
            if t is diff.MatFun:
                self._hit(f"matrix function {node.func}")
            elif t is diff.Var and node.name in D.bindings:
                self._hit("chain rule through where")
            elif t is diff.Pow and not B.is_zero(D(node.exp)):
                self._hit("power with a variable exponent")
            return rule(D, node)

        return counted

    def __exit__(self, *exc):
        from ricci import derivation, diff

        rules, diff.elementwise_derivative, diff.differentiate_list = self._saved
        diff.RULES.clear()
        diff.RULES.update(rules)
        derivation.differentiate_list = self._saved_derivation
        return False

    def report(self) -> str:
        lines = [f"{n:38s} {self.counts.get(n, 0):8d}" for n in self.expected()]
        return "\n".join(lines)


def campaign(n: int, seed: int = 0, oracle: str = "jax", orders=(1, 2), max_depth: int = 3,
             on_outcome=None) -> list[Outcome]:
    """Run :func:`run_problem` on ``n`` problems of :func:`derivative_problems`, drawn
    deterministically from ``seed`` (the same seed, the same problems).  Every outcome is kept
    (the run does not stop at the first failure); an exception other than a ``RicciError`` is
    an outcome ``"crash"`` with its traceback.  ``on_outcome(outcome)`` is called after each."""
    import traceback

    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    outcomes: list[Outcome] = []

    @settings(max_examples=n, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @hypothesis_seed(seed)
    @given(derivative_problems(orders, max_depth))
    def run(problem):
        try:
            o = run_problem(problem, oracle)
        except Exception as e:  # noqa: BLE001 - a crash is what the campaign looks for
            o = Outcome("crash", problem, f"{type(e).__name__}: {e}\n{traceback.format_exc()}",
                        oracle=oracle)
        outcomes.append(o)
        if on_outcome is not None:
            on_outcome(o)

    run()
    return outcomes
