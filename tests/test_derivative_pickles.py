"""A Derivative goes to another process (a worker pool, a cache) before and after its text is
shown; pickled after ``d.text`` it held a local lambda (the index notation written on first
use) and could not be pickled."""

import pickle

import numpy as np

import ricci


def test_a_derivative_pickles_after_its_text_and_keeps_its_answers():
    d = ricci.derivative("x'*A*x + tanh(W*x)'*x", "x")
    text = d.text
    back = pickle.loads(pickle.dumps(d))
    assert back.text == text
    assert back.index_notation == d.index_notation
    rng = np.random.default_rng(0)
    values = {"x": rng.standard_normal(3), "A": rng.standard_normal((3, 3)), "W": rng.standard_normal((3, 3))}
    np.testing.assert_allclose(back.evaluate(values), d.evaluate(values), rtol=1e-12)
