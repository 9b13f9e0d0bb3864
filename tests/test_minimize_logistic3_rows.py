"""Logistic regression's L-BFGS-B over blocks of rows (issue 19, logistic3; solve/rows.py): where
f is a sum over the rows of large data and NumPy's BLAS runs one thread, f and ∇f are evaluated
block by block, exact to rounding, and a solve reaches an independent Newton solve's minimum.
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra; before anything imports it

import ricci  # noqa: E402
from test_minimize_logistic3 import LOGISTIC, _data, _f, _newton  # noqa: E402


@pytest.fixture
def one_blas_thread():
    """NumPy's BLAS on one thread, where blocks of rows are used (solve/rows.py)."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        yield


def _objective(X, y, lam):
    from ricci.solve.objective import Objective
    from ricci.solve.problem import build

    problem, start = build(LOGISTIC, "w", {"X": X, "y": y, "lambda": lam}, None, None, None, "python", None, set())
    return Objective(problem, start)


def test_blocked_f_and_gradient_equal_numpys_and_the_whole_evaluation(one_blas_thread):
    # 12000×100 floats (9.6 MB): above BLOCKED_FROM, so the objective runs over blocks of rows
    from ricci.solve import rows

    X, y = _data(12000, 100, 5)
    assert X.nbytes + y.nbytes >= rows.BLOCKED_FROM
    obj = _objective(X, y, 0.5)
    fn = obj._grads[0]
    assert isinstance(fn, rows._Blocked) and len(fn.blocks) >= 2
    assert all(np.shares_memory(b["X"], X) for b in fn.blocks)  # row slices: views, not copies
    w = np.random.default_rng(6).standard_normal(100) / 10
    f, g = obj.value_and_grad(w)
    assert abs(f - _f(X, y, 0.5, w)) <= 1e-13 * f
    np.testing.assert_allclose(g, w - (y * (0.5 + 0.5 * np.tanh(-y * (X @ w) / 2))) @ X, rtol=1e-11,
                               atol=1e-12 * np.abs(g).max())
    whole = fn.fn(y=y, X=X, w=w, lambda_=np.float64(0.5))
    assert abs(f - whole[0]) <= 1e-14 * f


def test_with_blas_threads_or_small_data_the_evaluation_is_whole():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    from ricci.solve import rows

    X, y = _data(12000, 100, 5)
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        assert not isinstance(_objective(X, y, 0.5)._grads[0], rows._Blocked)
    with threadpoolctl.threadpool_limits(limits=1, user_api="blas"):
        assert isinstance(_objective(X, y, 0.5)._grads[0], rows._Blocked)
        assert not isinstance(_objective(X[:2000], y[:2000], 0.5)._grads[0], rows._Blocked)


def test_two_variables_over_blocks_reach_newtons_minimum(one_blas_thread, monkeypatch):
    # an intercept b beside w: each gradient (the fused f and ∇_w, and ∇_b) runs over the blocks
    from ricci.solve import rows

    calls = []
    blocked_call = rows._Blocked.__call__
    monkeypatch.setattr(rows._Blocked, "__call__", lambda self, **a: calls.append(1) or blocked_call(self, **a))
    X, y = _data(12000, 100, 7)
    text = "sum(log(1 + exp(-y .* (X*w + b)))) + lambda*w'*w"
    r = ricci.minimize(text, "w,b", {"X": X, "y": y, "lambda": 1.0}, method="L-BFGS-B", tol=1e-6,
                       certify=False)
    assert r.success
    assert len(calls) >= 2 * r.nfev  # both gradients over the blocks at every evaluation
    Xb = np.column_stack([X, np.ones(len(y))])
    v = _newton(Xb, y, 1.0, np.concatenate([np.ones(100), [0.0]]))
    f_newton = _f(Xb, y, 1.0, v) - v[-1] ** 2
    assert abs(r.fun - f_newton) <= 1e-10 * f_newton
    np.testing.assert_allclose(np.concatenate([r.x["w"], [r.x["b"]]]), v, atol=1e-5)
