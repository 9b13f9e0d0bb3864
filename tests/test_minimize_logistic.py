"""L2-regularised logistic regression from its expression (issue 19): the answer against
scikit-learn's ``LogisticRegression`` and a tight SciPy solve of a NumPy-written f, and the
evaluations ricci's L-BFGS-B spends against SciPy's L-BFGS-B with scikit-learn's own settings
(no timings here: those are in benchmarks/minimize.py).
"""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("scipy")  # the solve extra; before anything imports it

import scipy.optimize as so  # noqa: E402

import ricci  # noqa: E402
from ricci.language.errors import BadValueError  # noqa: E402

LOGISTIC = "sum(log(1 + exp(-y .* (X*w)))) + lambda*w'*w"
#: scikit-learn's lbfgs solver (sklearn/linear_model/_logistic.py) passes SciPy ftol = 64·eps
SKLEARN_FTOL = 64 * np.finfo(float).eps


def _data(m, n, seed):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, n))
    w_true = rng.standard_normal(n) / np.sqrt(n)
    y = np.where(rng.random(m) < 1 / (1 + np.exp(-3 * X @ w_true)), 1.0, -1.0)
    return X, y


def _f_and_grad(X, y, lam):
    """f and ∇f written in NumPy (logaddexp, the logistic sigmoid), independently of ricci."""
    def fg(w):
        z = -y * (X @ w)
        return float(np.sum(np.logaddexp(0, z)) + lam * w @ w), 2 * lam * w - (y * (0.5 + 0.5 * np.tanh(z / 2))) @ X
    return fg


def _tight(X, y, lam):
    fg = _f_and_grad(X, y, lam)
    return so.minimize(fg, np.zeros(X.shape[1]), jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-11, "ftol": 0.0, "maxiter": 10_000, "maxcor": 30})


@pytest.mark.parametrize("m, n, lam, seed", [(400, 10, 1.0, 0), (2000, 50, 0.1, 1), (1000, 30, 1.0, 1)])
def test_logistic_regression_reaches_a_tight_scipy_solve(m, n, lam, seed):
    X, y = _data(m, n, seed)
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": lam}, tol=1e-9)
    ref = _tight(X, y, lam)
    f = _f_and_grad(X, y, lam)(r.x["w"])[0]
    assert r.success and r.convex
    assert abs(f - ref.fun) <= 1e-12 * abs(ref.fun)
    assert abs(r.fun - f) <= 1e-12 * abs(f)
    np.testing.assert_allclose(r.x["w"], ref.x, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("m, n, seed", [(3000, 40, 2), (1000, 5, 3)])
def test_logistic_regression_against_scikit_learn(m, n, seed):
    linear_model = pytest.importorskip("sklearn.linear_model")
    import warnings

    X, y = _data(m, n, seed)
    lam = 1.0
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": lam}, tol=1e-9, certify=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # C = 1/(2λ): scikit-learn's penalty is ‖w‖²/(2C)
        model = linear_model.LogisticRegression(C=1 / (2 * lam), fit_intercept=False, solver="lbfgs", tol=1e-10,
                                                max_iter=10_000).fit(X, y)
    fg = _f_and_grad(X, y, lam)
    f_ricci, f_sk = fg(r.x["w"])[0], fg(model.coef_.ravel())[0]
    assert abs(f_ricci - f_sk) <= 1e-6 * abs(f_sk)
    assert f_ricci <= f_sk + 1e-12 * abs(f_sk)
    np.testing.assert_allclose(r.x["w"], model.coef_.ravel(), rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("m, n, seed", [(1000, 30, 1), (2000, 50, 2), (2000, 100, 0), (500, 20, 0)])
def test_no_more_evaluations_than_scipy_with_scikit_learns_settings(m, n, seed):
    """L-BFGS-B's relative reduction test (ftol) below the rounding of f made line searches chase
    rounding at the optimum: 23 evaluations where 16 reach the same objective (1000×30), 25 for
    15 (2000×50).  Against SciPy's L-BFGS-B on a NumPy-written f with scikit-learn's settings
    (ftol = 64·eps, the same gtol and memory): no more evaluations, the same objective."""
    X, y = _data(m, n, seed)
    r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": 1.0}, tol=1e-9, certify=False)
    peer = so.minimize(_f_and_grad(X, y, 1.0), np.zeros(n), jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-9, "ftol": SKLEARN_FTOL, "maxcor": 20, "maxiter": 10_000})
    ref = _tight(X, y, 1.0)
    assert r.success
    assert r.nfev <= peer.nfev, (r.nfev, peer.nfev)
    assert abs(r.fun - ref.fun) <= 1e-12 * abs(ref.fun)


def test_data_finite_check_names_the_entry_and_accepts_a_sum_that_overflows():
    """The data's finiteness is checked by one sum (finite: every entry is), and entry by entry
    only when the sum is not finite: an inf and a -inf (the sum is nan) are still found and
    named; finite entries whose sum overflows are accepted."""
    X, y = _data(50, 3, 0)
    bad = X.copy()
    bad[7, 1], bad[9, 2] = np.inf, -np.inf
    with pytest.raises(BadValueError, match=r"X is not finite at index \(7, 1\)"):
        ricci.minimize(LOGISTIC, "w", {"X": bad, "y": y, "lambda": 1.0}, certify=False)
    nan_y = y.copy()
    nan_y[3] = np.nan
    with pytest.raises(BadValueError, match=r"y is not finite at index 3"):
        ricci.minimize(LOGISTIC, "w", {"X": X, "y": nan_y, "lambda": 1.0}, certify=False)
    # 1e308 + 1e308 overflows, but every entry is a finite number: the data is valid
    big = np.full(4, 1e308)
    r = ricci.minimize("norm2(w - a*c)^2", "w", {"c": big, "a": 1e-300}, certify=False)
    with np.errstate(over="ignore"):
        assert np.sum(big) == np.inf and np.isfinite(big).all()
    np.testing.assert_allclose(r.x["w"], np.full(4, 1e8), rtol=1e-9)


def _blas_threads(threadpoolctl):
    """{filepath: threads} of every BLAS loaded, and the filepaths of those in SciPy's own wheel
    folder (scipy.libs, scipy/.dylibs): SciPy's private copy, which NumPy never calls."""
    import os

    import scipy

    root = os.path.dirname(os.path.abspath(scipy.__file__))
    libs = threadpoolctl.ThreadpoolController().select(user_api="blas").lib_controllers
    private = {lib.filepath for lib in libs
               if os.path.abspath(lib.filepath).startswith((root + ".libs", os.path.join(root, ".dylibs")))}
    return {lib.filepath: lib.num_threads for lib in libs}, private


@pytest.mark.parametrize("uses_scipy", [False, True])
def test_l_bfgs_b_runs_scipys_private_blas_on_one_thread(uses_scipy):
    """L-BFGS-B's bookkeeping calls SciPy's BLAS on vectors of n entries many times an iteration;
    a threaded BLAS wakes its threads for each (under load, 0.2 ms an iteration became 1 to 3
    ms).  During an L-BFGS-B solve SciPy's private BLAS runs one thread, NumPy's (the generated
    code's X @ w) keeps the user's, and both are as before afterwards; where the generated code
    calls SciPy itself (expm) nothing is limited."""
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):
        before, private = _blas_threads(threadpoolctl)
        if not private or min(before[p] for p in private) < 2:
            pytest.skip("no private SciPy BLAS with two threads here: nothing to limit")
        seen = []

        def record(*_):
            seen.append(_blas_threads(threadpoolctl)[0])

        if uses_scipy:
            r = ricci.minimize("tr(expm(X)) + norm2(X - A)^2", "X", {"A": np.eye(3)}, certify=False, callback=record)
        else:
            X, y = _data(500, 10, 0)
            r = ricci.minimize(LOGISTIC, "w", {"X": X, "y": y, "lambda": 1.0}, certify=False, callback=record)
        after = _blas_threads(threadpoolctl)[0]
    assert r.success and seen
    for threads in seen:
        for path, n in threads.items():
            assert n == (1 if path in private and not uses_scipy else before[path]), (path, n)
    assert after == before
