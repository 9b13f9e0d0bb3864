"""Derivation at scale (issue 21): naming the repeated subterms of an answer (``… where
t = tanh(W1*x), t2 = tanh(W2*t)``, ``ricci.simplify.naming``) walks the answer once.

Before, each name given re-classified and rebuilt the whole answer: a depth-d network's
gradient gets d − 1 names, so the work grew as d².  The work is counted here (never timed:
speed is for ``benchmarks/depth_scaling.py``), and each answer checked against finite
differences of the network itself.
"""

from __future__ import annotations

import numpy as np

import ricci
import ricci.language.ast as ast
from ricci.simplify.matrix import MatrixForms

N = 3


def _network(depth: int, tag: str) -> str:
    inner = "x"
    for k in range(1, depth + 1):
        inner = f"tanh(W{tag}_{k}*{inner})"
    return f"sum({inner})"


def _values(depth: int, tag: str) -> dict:
    rng = np.random.default_rng(depth)
    values = {f"W{tag}_{k}": rng.normal(size=(N, N)) / 2 for k in range(1, depth + 1)}
    values["x"] = rng.normal(size=N)
    return values


def _by_differences(depth: int, tag: str, values: dict) -> np.ndarray:
    """The gradient by central differences of the network computed with NumPy."""
    def f(x):
        for k in range(1, depth + 1):
            x = np.tanh(values[f"W{tag}_{k}"] @ x)
        return x.sum()

    x, h = values["x"], 1e-6
    return np.array([(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(N)])


def _naming_walk(monkeypatch, depth: int, tag: str) -> tuple[int, "ricci.Derivative"]:
    """The subterms visited (``ast.children`` calls) while naming the network's gradient."""
    calls = [0]
    inside = [False]
    children = ast.children
    name_repeats = MatrixForms.name_repeats

    def counting_children(node):
        calls[0] += inside[0]
        return children(node)

    def counting_name_repeats(self, *args, **kwargs):
        inside[0] = True
        try:
            return name_repeats(self, *args, **kwargs)
        finally:
            inside[0] = False

    monkeypatch.setattr(ast, "children", counting_children)
    monkeypatch.setattr(MatrixForms, "name_repeats", counting_name_repeats)
    d = ricci.derivative(_network(depth, tag), "x", timeout=600)
    text = d.text
    monkeypatch.undo()
    # one name per layer but the last (t = tanh(W1*x), t2 = tanh(W2*t) …)
    assert text.count(" = tanh(") == depth - 1, text
    return calls[0], d


def test_naming_a_network_walks_linearly_in_depth(monkeypatch):
    walked = {}
    for depth in (12, 24):
        tag = f"n{depth}"  # names of its own: no node of the other depth is reused
        walked[depth], d = _naming_walk(monkeypatch, depth, tag)
        values = _values(depth, tag)
        got = np.ravel(d.evaluate(values))
        assert np.allclose(got, _by_differences(depth, tag, values), rtol=1e-6, atol=1e-9)
    # twice the depth: twice the subterms (the re-walk per name made it four times)
    assert walked[24] < 2.5 * walked[12], walked
