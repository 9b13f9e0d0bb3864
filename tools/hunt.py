"""An independent bug hunt: random expressions that ricci's own generator does not make.

    python tools/hunt.py --n 2000 --seed 0 [--jax] [--out hunt-0.jsonl] [--minutes 5]

This generator is written from ARCHITECTURE §2 alone and shares nothing with
``ricci.testing``: it builds an expression tree with *concrete* sizes together with its value
at one point (its own NumPy reading of the language), so that every domain is checked on the
actual numbers rather than guaranteed by construction.  That reaches what a
construction-by-domain generator avoids: ``inv``/``det``/``logdet`` of non-symmetric matrices,
negative divisors, ``log`` of expressions that merely happen to be positive, deep ``exp``,
sizes fixed only by literals, precedence printed with the fewest parentheses, ``2.^x`` without
spaces, ``a^-2``, Greek names, bindings reused and chained, symmetric matrices declared for
ordinary names, orders up to 3.

Each problem checks

* ``ricci.parse`` accepts it (kinds all declared, or left to the naming rule) and
  ``ricci.evaluate`` equals this module's own evaluation of the tree;
* ``ricci.derivative(text, wrt, order, kinds)``: no exception (a ``RicciError`` only where a
  size-less constant leaves a size open); ``len(d.shape)`` is right; ``d.latex`` is not empty;
* ``d.evaluate`` against central differences of ``ricci.evaluate`` (order 1; Richardson
  extrapolated), against ricci's own order k−1 differenced (orders 2, 3), and with ``--jax``
  against JAX's automatic differentiation of *this module's* tree (all orders);
* where the answer has a matrix form, ``d.text`` parsed again with the same kinds evaluates to
  the same numbers.

A symmetric wrt is compared on symmetric directions only (both sides symmetrised in each wrt
pair of axes), the plain-partial convention being one extension among many.  Failures are
written, one JSON object a line, with the Python lines that reproduce them.
"""

from __future__ import annotations

import argparse
import collections
import json
import math
import random
import re
import sys
import time
import traceback

import numpy as np

SCALARS = ["a", "b", "c", "alpha", "lambda"]
VECTORS = ["x", "y", "z", "w", "theta", "v", "p", "u"]
MATRICES = ["A", "B", "C", "X", "Phi", "M", "P", "Q", "D"]
SYMMETRIC = ["W", "S"]
BINDINGS = ["q", "s1", "G", "beta", "K_2", "u_1", "H"]
UNARY = ["exp", "log", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "tanh", "sqrt",
         "abs", "sign", "relu", "sigmoid"]
KINKS = {"abs", "sign", "relu"}

# precedence levels of the grammar (tightest last)
SUM, PRODUCT, UNARYP, POWER, POSTFIX, ATOM = 1, 2, 3, 4, 5, 6


class Reject(Exception):
    """A subtree whose value leaves a domain: the generator tries another."""


class Node:
    __slots__ = ("op", "kids", "arg", "shape", "val", "prec")

    def __init__(self, op, kids, arg, shape, val, prec):
        self.op, self.kids, self.arg, self.shape, self.val, self.prec = op, kids, arg, shape, val, prec


# --------------------------------------------------------------------------- evaluation

def _sigmoid(xp, u):
    return 1.0 / (1.0 + xp.exp(-u))


def apply(op, arg, shape, vals, xp):
    """The value of one node from its children's values (2-D arrays; scalars are 1×1)."""
    if op == "num":
        return xp.full((1, 1), float(arg))
    if op == "T":
        return vals[0].T
    if op == "neg":
        return -vals[0]
    if op == "add":
        return vals[0] + vals[1]
    if op == "sub":
        return vals[0] - vals[1]
    if op in ("mul", "matmul"):
        u, v = vals
        if u.shape == (1, 1) or v.shape == (1, 1):
            if u.shape == (1, 1) and v.shape == (1, 1):
                return u * v
            return u * v
        return u @ v
    if op == "div":
        return vals[0] / vals[1]
    if op == "had":
        return vals[0] * vals[1]
    if op == "ediv":
        return vals[0] / vals[1]
    if op in ("pow", "epow"):
        return vals[0] ** vals[1]
    if op == "fn":
        u = vals[0]
        if arg == "relu":
            return xp.maximum(u, 0.0)
        if arg == "sigmoid":
            return _sigmoid(xp, u)
        return getattr(xp, arg)(u)
    if op == "sum":
        return xp.reshape(xp.sum(vals[0]), (1, 1))
    if op == "tr":
        return xp.reshape(xp.trace(vals[0]), (1, 1))
    if op == "norm2":
        return xp.reshape(xp.sqrt(xp.sum(vals[0] ** 2)), (1, 1))
    if op == "norm1":
        return xp.reshape(xp.sum(xp.abs(vals[0])), (1, 1))
    if op == "det":
        return xp.reshape(xp.linalg.det(vals[0]), (1, 1))
    if op == "logdet":
        return xp.reshape(xp.log(xp.linalg.det(vals[0])), (1, 1))
    if op == "inv":
        return xp.linalg.inv(vals[0])
    if op == "mpow":
        return xp.linalg.matrix_power(vals[0], int(arg))
    if op == "diagv":
        return xp.diag(vals[0][:, 0])
    if op == "diagm":
        return xp.reshape(xp.diag(vals[0]), (shape[0], 1))
    if op == "vecc":
        return xp.ones(shape) * vals[0]
    if op == "matc":
        return xp.ones(shape) * vals[0]
    if op == "eye":
        return xp.eye(shape[0])
    if op == "lit":
        rows, cols = arg
        entries = [v[0, 0] for v in vals]
        return xp.reshape(xp.stack(entries), (rows, cols))
    raise AssertionError(op)


def evaluate_tree(problem, env, xp):
    """Value of the problem's body, bindings first, at ``env`` (name → 2-D array)."""
    env = dict(env)
    for name, node in problem.bindings:
        env[name] = _ev(node, env, xp)
    return _ev(problem.body, env, xp)


def _ev(node, env, xp):
    if node.op in ("var", "ref"):
        return env[node.arg]
    return apply(node.op, node.arg, node.shape, [_ev(k, env, xp) for k in node.kids], xp)


# --------------------------------------------------------------------------- printing

def text_of(node, rng=None, parens=0.0) -> str:
    """The input-language text of ``node``: the fewest parentheses the grammar needs, and now
    and then (``parens``) a redundant pair."""

    def wrap(child, need):
        t = text_of(child, rng, parens)
        if child.prec < need or (rng is not None and child.prec < ATOM and rng.random() < parens):
            return "(" + t + ")"
        return t

    op, k = node.op, node.kids
    if op in ("var", "ref"):
        return node.arg
    if op == "num":
        return node.arg
    if op == "T":
        return wrap(k[0], POSTFIX + (1 if k[0].op == "num" else 0)) + ("'" if node.arg == "'" else ".T")
    if op == "neg":
        return "-" + wrap(k[0], UNARYP)
    if op in ("add", "sub"):
        return wrap(k[0], SUM) + (" + " if op == "add" else " - ") + wrap(k[1], PRODUCT)
    if op in ("mul", "matmul", "div", "had", "ediv"):
        sym = {"mul": "*", "matmul": " @ ", "div": "/", "had": " .* ", "ediv": " ./ "}[op]
        if node.arg == "tight":
            sym = sym.strip()
        return wrap(k[0], PRODUCT) + sym + wrap(k[1], UNARYP)
    if op in ("pow", "epow"):
        sym = node.arg if op == "pow" else ".^"
        right = k[1]
        rt = text_of(right, rng, parens)
        if right.op == "neg" and right.kids[0].prec >= POSTFIX:
            pass  # 2^-x: the grammar takes a signed exponent
        elif right.prec < POSTFIX:
            rt = "(" + rt + ")"
        return wrap(k[0], POWER) + sym + rt
    if op == "fn":
        return f"{node.arg}({text_of(k[0], rng, parens)})"
    if op == "mpow":
        return wrap(k[0], POWER) + rng.choice(["^", "**"]) + node.arg
    if op in ("sum", "tr", "norm2", "norm1", "det", "logdet", "inv"):
        return f"{op}({text_of(k[0], rng, parens)})"
    if op in ("diagv", "diagm"):
        return f"diag({text_of(k[0], rng, parens)})"
    if op == "vecc":
        return f"vector({text_of(k[0], rng, parens)})"
    if op == "matc":
        return f"matrix({text_of(k[0], rng, parens)})"
    if op == "eye":
        return node.arg
    if op == "lit":
        rows, cols = node.arg
        ts = [text_of(e, rng, parens) for e in k]
        return "[" + "; ".join(", ".join(ts[r * cols:(r + 1) * cols]) for r in range(rows)) + "]"
    raise AssertionError(op)


PREC = {"var": ATOM, "ref": ATOM, "num": ATOM, "T": POSTFIX, "neg": UNARYP, "add": SUM, "sub": SUM,
        "mul": PRODUCT, "matmul": PRODUCT, "div": PRODUCT, "had": PRODUCT, "ediv": PRODUCT,
        "pow": POWER, "epow": POWER, "mpow": POWER}


# --------------------------------------------------------------------------- generation

class Problem:
    def __init__(self):
        self.vars = {}        # name -> (kind, shape)
        self.values = {}      # name -> 2-D array
        self.bindings = []    # [(name, node)]
        self.body = None
        self.sizeless = False
        self.kinks = False
        self.made = {}        # shape -> subtrees made so far (for reuse)


class Generator:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.np_rng = np.random.default_rng(rng.getrandbits(32))
        self.lit_v, self.lit_m = 0.12, 0.05

    # ---- values and leaves
    def _new_value(self, kind, shape):
        r = self.np_rng
        if kind == "scalar":
            return np.full((1, 1), r.choice([-1, 1]) * r.uniform(0.3, 1.5))
        scale = self.rng.choice([0.5, 0.8, 1.0])
        v = r.normal(0.0, scale, size=shape)
        if kind == "symmetric matrix":
            v = (v + v.T) / 2
        return v

    def _var(self, kind, shape):
        p = self.p
        same = [n for n, (k, s) in p.vars.items() if s == shape and (k == kind or kind is None)]
        if same and (self.rng.random() < 0.8):
            return self.rng.choice(same)
        pool = {"scalar": SCALARS, "vector": VECTORS, "matrix": MATRICES, "symmetric matrix": SYMMETRIC}[kind]
        free = [n for n in pool if n not in p.vars]
        if kind == "symmetric matrix" and self.rng.random() < 0.3:
            free = [n for n in MATRICES if n not in p.vars] or free
        if not free:
            return self.rng.choice(same) if same else None
        name = self.rng.choice(free[:3])
        p.vars[name] = (kind, shape)
        p.values[name] = self._new_value(kind, shape)
        return name

    def node(self, op, kids, arg, shape):
        val = apply(op, arg, shape, [k.val for k in kids], np)
        val = np.asarray(val, dtype=float)
        assert val.shape == shape, (op, val.shape, shape)
        if not np.all(np.isfinite(val)) or np.max(np.abs(val)) > 200:
            raise Reject()
        prec = PREC.get(op, ATOM)
        if op == "num" and float(arg) < 0:
            prec = UNARYP
        n = Node(op, kids, arg, shape, val, prec)
        if kids and op != "T":
            self.p.made.setdefault(shape, []).append(n)
        return n

    def leaf(self, shape):
        rng, p = self.rng, self.p
        refs = [n for n, nd in p.bindings if nd.shape == shape]
        trefs = [n for n, nd in p.bindings if nd.shape == shape[::-1] and shape[0] != shape[1]]
        if refs and rng.random() < 0.65:
            n = rng.choice(refs)
            return Node("ref", [], n, shape, self.bound[n], ATOM)
        if trefs and rng.random() < 0.3:
            n = rng.choice(trefs)
            return self.node("T", [Node("ref", [], n, shape[::-1], self.bound[n], ATOM)], rng.choice("'T"), shape)
        r, c = shape
        if shape == (1, 1):
            if rng.random() < 0.3:
                return self.number()
            name = self._var("scalar", shape)
            return Node("var", [], name, shape, p.values[name], ATOM)
        if c == 1 or r == 1:
            n = max(r, c)
            x = rng.random()
            if x < 0.06:
                p.sizeless = True
                node = self.node("vecc", [self.gen((1, 1), 0)], None, (n, 1))
            elif x < self.lit_v and n <= 4:
                return self.literal(shape)
            else:
                name = self._var("vector", (n, 1))
                if name is None:
                    return self.literal(shape)
                node = Node("var", [], name, (n, 1), p.values[name], ATOM)
            return node if c == 1 else self.node("T", [node], rng.choice("'T"), shape)
        x = rng.random()
        if x < 0.05 and r == c:
            p.sizeless = True
            return self.node("eye", [], rng.choice(["eye", "I"]), shape)
        if x < 0.09:
            p.sizeless = True
            return self.node("matc", [self.gen((1, 1), 0)], None, shape)
        if x < 0.09 + self.lit_m and r <= 3 and c <= 3:
            return self.literal(shape)
        if r == c and x < 0.4:
            name = self._var("symmetric matrix", shape)
            if name is not None:
                return Node("var", [], name, shape, p.values[name], ATOM)
        if rng.random() < 0.3:
            name = self._var("matrix", (c, r))
            if name is not None:
                return self.node("T", [Node("var", [], name, (c, r), p.values[name], ATOM)],
                                 rng.choice("'T"), shape)
        name = self._var("matrix", shape)
        if name is None:
            u, v = self.leaf((r, 1)), self.leaf((1, c))
            return self.node("mul", [u, v], None, shape)
        return Node("var", [], name, shape, p.values[name], ATOM)

    def number(self, choices=("2", "3", "0.5", "1", "1.5", "1e-1", ".25", "2.0", "10")):
        return self.node("num", [], self.rng.choice(choices), (1, 1))

    def literal(self, shape):
        r, c = shape
        entries = [self.gen((1, 1), self.rng.choice([0, 0, 1])) for _ in range(r * c)]
        return self.node("lit", entries, (r, c), shape)

    # ---- domains
    def positive(self, shape, depth):
        rng = self.rng
        for _ in range(4):
            try:
                u = self.gen(shape, depth)
            except Reject:
                continue
            if np.min(u.val) > 0.05:
                return u
        u = self.gen(shape, max(depth - 1, 0))
        form = rng.randrange(5)
        if form == 0:
            return self.node("fn", [u], "exp", shape)
        if form == 1:
            sq = self.node("epow", [u, self.node("num", [], "2", (1, 1))], None, shape) if shape != (1, 1) \
                else self.node("pow", [u, self.node("num", [], "2", (1, 1))], rng.choice(["^", "**"]), shape)
            return self.node("add", [sq, self.number(("0.5", "1", "2"))], None, shape)
        if form == 2:
            return self.node("fn", [u], "sigmoid", shape)
        if form == 3:
            return self.node("add", [self.number(("1", "2")), self.node("fn", [u], "exp", shape)], None, shape)
        return self.node("add", [self.node("had", [u, u], None, shape), self.number(("1", "0.5"))], None, shape)

    def nonzero(self, shape, depth):
        for _ in range(4):
            try:
                u = self.gen(shape, depth)
            except Reject:
                continue
            if np.min(np.abs(u.val)) > 0.15:
                return u
        u = self.positive(shape, depth)
        return self.node("neg", [u], None, shape) if self.rng.random() < 0.5 else u

    def small(self, shape, depth):
        for _ in range(4):
            try:
                u = self.gen(shape, depth)
            except Reject:
                continue
            if np.max(np.abs(u.val)) < 0.9:
                return u
        u = self.gen(shape, max(depth - 1, 0))
        t = self.node("fn", [u], "tanh", shape)
        return self.node("mul", [self.number(("0.5", "0.8")), t], None, shape)

    def away_from_zero(self, shape, depth):
        for _ in range(6):
            try:
                u = self.gen(shape, depth)
            except Reject:
                continue
            if np.min(np.abs(u.val)) > 0.05:
                return u
        raise Reject()

    def well_conditioned(self, shape, depth, positive_det=False):
        for _ in range(5):
            try:
                m = self.gen(shape, depth)
            except Reject:
                continue
            if np.linalg.cond(m.val) < 100 and abs(np.linalg.det(m.val)) > 0.02 and \
                    (not positive_det or np.linalg.det(m.val) > 0.02):
                return m
        # shift toward the identity: m + k*eye or m*m' + I
        m = self.gen(shape, max(depth - 1, 0))
        self.p.sizeless = True
        if self.rng.random() < 0.5:
            mm = self.node("mul", [m, self.node("T", [m], "'", shape[::-1])], None, shape)
            return self.node("add", [mm, self.node("eye", [], self.rng.choice(["eye", "I"]), shape)], None, shape)
        k = float(np.max(np.abs(np.linalg.eigvals(m.val)))) + 1.0
        s = self.node("num", [], f"{math.ceil(k)}", (1, 1))
        return self.node("add", [m, self.node("mul", [s, self.node("eye", [], "eye", shape)], None, shape)],
                         None, shape)

    # ---- constructs
    def gen(self, shape, depth):
        if depth <= 0 or self.rng.random() < 0.1:
            return self.leaf(shape)
        for _ in range(6):
            try:
                return self.construct(shape, depth)
            except Reject:
                continue
        return self.leaf(shape)

    def dims(self):
        return self.p.palette

    def construct(self, shape, depth):
        rng = self.rng
        d = depth - 1
        r, c = shape
        scalar = shape == (1, 1)
        square = r == c and not scalar
        options = ["add", "sub", "neg", "mul", "scalmul", "div", "had", "ediv", "epow", "fn", "fn", "T",
                   "bcast", "matmul"]
        if scalar:
            options += ["pow", "pow", "sum", "tr", "norm2", "norm1", "det", "logdet", "inner", "inner"]
        if square:
            options += ["inv", "inv", "diagv", "outer", "mpow"]
        if c == 1 and not scalar:
            options += ["diagm", "matvec"]
        if not scalar and r != 1 and c != 1:
            options += ["outer", "matvec"]
        if self.p.made.get(shape) and rng.random() < 0.12:
            op = "reuse"
        else:
            op = rng.choice(options)
        if op == "reuse":
            # a subtree made before, again: shared subexpressions, and sums that cancel
            old = rng.choice(self.p.made[shape])
            other = self.gen(shape, d)
            form = rng.randrange(3)
            if form == 0:
                return self.node("sub", [old, old], None, shape) if rng.random() < 0.3 else \
                    self.node("sub", [self.node("add", [old, other], None, shape), old], None, shape)
            if form == 1:
                return self.node("sub", [other, self.node("add", [other, old], None, shape)], None, shape)
            return self.node(rng.choice(["add", "had"]), [old, other], None, shape)
        if op in ("add", "sub"):
            return self.node(op, [self.gen(shape, d), self.gen(shape, d)], None, shape)
        if op == "bcast":
            s = self.gen((1, 1), d)
            u = self.gen(shape, d)
            kids = [s, u] if rng.random() < 0.5 else [u, s]
            return self.node(rng.choice(["add", "sub"]), kids, None, shape)
        if op == "neg":
            return self.node("neg", [self.gen(shape, d)], None, shape)
        if op in ("mul", "matmul", "inner", "outer", "matvec"):
            if op == "inner":
                k = rng.choice(self.dims())
            elif op == "outer":
                k = 1
            else:
                k = rng.choice(self.dims() + [1])
            if op == "matvec":
                k = rng.choice(self.dims())
            left = self.gen((r, k), d)
            right = self.gen((k, c), d)
            o = "matmul" if (op == "matmul" and rng.random() < 0.7) else "mul"
            return self.node(o, [left, right], "tight" if rng.random() < 0.3 else None, shape)
        if op == "scalmul":
            s = self.gen((1, 1), d)
            u = self.gen(shape, d)
            return self.node("mul", [s, u] if rng.random() < 0.6 else [u, s], None, shape)
        if op == "div":
            return self.node("div", [self.gen(shape, d), self.nonzero((1, 1), d)],
                             "tight" if rng.random() < 0.5 else None, shape)
        if op == "had":
            a = self.gen(shape if rng.random() < 0.8 else (1, 1), d)
            b = self.gen(shape, d)
            return self.node("had", [a, b] if rng.random() < 0.5 else [b, a],
                             "tight" if rng.random() < 0.3 else None, shape)
        if op == "ediv":
            num = self.gen(shape if rng.random() < 0.8 else (1, 1), d)
            den = self.nonzero(shape if (num.shape == (1, 1) or rng.random() < 0.8) else (1, 1), d)
            return self.node("ediv", [num, den], "tight" if rng.random() < 0.3 else None, shape)
        if op in ("epow", "pow"):
            base_shape = shape
            if op == "epow" and not scalar and rng.random() < 0.2:
                base_shape = (1, 1)           # 2 .^ x
            form = rng.random()
            if base_shape == (1, 1) and shape != (1, 1):
                base = self.positive((1, 1), d) if rng.random() < 0.5 else self.number(("2", "0.5", "3"))
                expo = self.gen(shape, d)
                return self.node("epow", [base, expo], None, shape)
            if form < 0.45:
                e = rng.choice(["2", "3", "2", "4"])
                base = self.gen(base_shape, d)
                expo = self.node("num", [], e, (1, 1))
            elif form < 0.6:
                e = rng.choice(["1", "2", "3"])
                base = self.nonzero(base_shape, d)
                expo = self.node("neg", [self.node("num", [], e, (1, 1))], None, (1, 1))
            elif form < 0.85:
                e = rng.choice(["0.5", "1.5", "2.5", "0.3", "1e-1"])
                base = self.positive(base_shape, d)
                expo = self.node("num", [], e, (1, 1))
                if rng.random() < 0.3:
                    expo = self.node("neg", [expo], None, (1, 1))
            else:
                base = self.positive(base_shape, d)
                expo = self.gen(shape if (op == "epow" and rng.random() < 0.5) else (1, 1), max(d - 1, 0))
            if op == "pow":
                return self.node("pow", [base, expo], rng.choice(["^", "**"]), shape)
            return self.node("epow", [base, expo], None, shape)
        if op == "fn":
            f = rng.choice(UNARY)
            if f in ("log", "sqrt"):
                u = self.positive(shape, d)
            elif f in ("arcsin", "arccos"):
                u = self.small(shape, d)
            elif f == "tan":
                u = self.small(shape, d)
            elif f in KINKS:
                u = self.away_from_zero(shape, d)
                self.p.kinks = True
            elif f == "exp":
                u = self.gen(shape, min(d, 2))
            else:
                u = self.gen(shape, d)
            return self.node("fn", [u], f, shape)
        if op == "T":
            return self.node("T", [self.gen((c, r), d)], rng.choice("'T"), shape)
        if op == "sum":
            return self.node("sum", [self.gen(self.any_shape(), d)], None, shape)
        if op == "tr":
            n = rng.choice(self.dims())
            return self.node("tr", [self.gen((n, n), d)], None, shape)
        if op == "norm2":
            u = self.gen(self.any_shape(), d)
            if np.sqrt(np.sum(u.val ** 2)) < 0.1:
                raise Reject()
            return self.node("norm2", [u], None, shape)
        if op == "norm1":
            u = self.away_from_zero(self.any_shape(), d)
            self.p.kinks = True
            return self.node("norm1", [u], None, shape)
        if op in ("det", "logdet"):
            n = rng.choice(self.dims())
            m = self.well_conditioned((n, n), d, positive_det=op == "logdet")
            return self.node(op, [m], None, shape)
        if op == "inv":
            return self.node("inv", [self.well_conditioned(shape, d)], None, shape)
        if op == "mpow":
            # a matrix power A^k (ARCHITECTURE §2's optional one; every name is declared, so no
            # scalar reading exists): k = 0 is the identity, k < 0 a power of the inverse
            k = rng.choice(["2", "3", "2", "1", "0", "-1", "-2"])
            base = self.well_conditioned(shape, d) if k.startswith("-") else self.gen(shape, d)
            return self.node("mpow", [base], k, shape)
        if op == "diagv":
            return self.node("diagv", [self.gen((r, 1), d)], None, shape)
        if op == "diagm":
            return self.node("diagm", [self.gen((r, r), d)], None, shape)
        raise AssertionError(op)

    def any_shape(self):
        n = self.rng.choice(self.dims())
        m = self.rng.choice(self.dims())
        return self.rng.choice([(1, 1), (n, 1), (1, n), (n, m), (n, n)])

    # ---- a whole problem
    def problem(self, max_depth=4) -> Problem:
        rng = self.rng
        p = self.p = Problem()
        self.bound = {}
        p.palette = rng.sample([2, 3, 4, 5], rng.choice([1, 2, 2, 3]))
        if rng.random() < 0.3:
            for _ in range(rng.choice([1, 1, 2, 3])):
                names = [n for n in BINDINGS if n not in self.bound]
                name = rng.choice(names)
                shape = self.any_shape()
                node = self.gen(shape, rng.choice([1, 2, 2, 3]))
                p.bindings.append((name, node))
                self.bound[name] = node.val
        target = rng.choice([(1, 1), (1, 1), (1, 1)] + [self.any_shape() for _ in range(3)])
        for _ in range(20):
            try:
                p.body = self.gen(target, rng.choice(range(2, max_depth + 1)))
                break
            except Reject:
                continue
        else:
            p.body = self.leaf(target)
        return p


# --------------------------------------------------------------------------- checking

class Outcome(Exception):
    def __init__(self, status, detail=""):
        super().__init__(status, detail)
        self.status, self.detail = status, detail


def as_public(kind, v):
    """ricci's form of a value: floats, 1-D vectors, 2-D matrices."""
    if kind == "scalar":
        return float(v[0, 0])
    if kind == "vector":
        return np.array(v[:, 0])
    return np.array(v)


def out_shape(shape):
    """ricci's layout of a value of 2-D ``shape``: () for a scalar, (n,) for a row or column."""
    r, c = shape
    if (r, c) == (1, 1):
        return ()
    if c == 1:
        return (r,)
    if r == 1:
        return (c,)
    return (r, c)


def rel_err(got, ref):
    got, ref = np.asarray(got, float), np.asarray(ref, float)
    if got.shape != ref.shape:
        return math.inf
    scale = max(1.0, float(np.max(np.abs(ref))) if ref.size else 1.0)
    return float(np.max(np.abs(got - ref))) / scale if ref.size else 0.0


def symmetrise_pairs(D, n_pairs):
    for k in range(n_pairs):
        a = D.ndim - 2 * (k + 1)
        axes = list(range(D.ndim))
        axes[a], axes[a + 1] = axes[a + 1], axes[a]
        D = (D + np.transpose(D, axes)) / 2
    return D


class Checker:
    def __init__(self, use_jax=False, fd=True, text=True, codegen=True):
        import ricci

        self.codegen = codegen
        self.ricci = ricci
        self.use_jax = use_jax
        self.fd = fd
        self.check_text = text
        if use_jax:
            import jax

            jax.config.update("jax_enable_x64", True)
            import jax.numpy as jnp

            self.jax, self.jnp = jax, jnp

    def kinds_for(self, p, declare_all):
        kinds = {}
        for n, (k, s) in p.vars.items():
            if k == "symmetric matrix" or declare_all:
                kinds[n] = k
        return kinds

    def run(self, p, text, wrt, order, kinds):
        """Checks one problem; raises Outcome for anything not ok."""
        ricci = self.ricci
        RicciError = ricci.RicciError
        values = {n: as_public(k if k != "symmetric matrix" else "matrix", p.values[n]) for n, (k, s) in p.vars.items()}
        try:
            expr = ricci.parse(text, kinds)
        except RicciError as e:
            raise Outcome("parse error", f"{type(e).__name__}: {e}")
        used = set(expr.variables)
        if not used <= set(values):
            raise Outcome("variables", f"ricci sees {sorted(used)}, the generator made {sorted(values)}")
        vals = {n: values[n] for n in used}
        f_shape = out_shape(p.body.shape)
        mine = np.asarray(evaluate_tree(p, {n: p.values[n] for n in p.vars}, np), float).reshape(f_shape)
        try:
            got = np.asarray(ricci.evaluate(expr, vals), float)
        except RicciError as e:
            if p.sizeless and "not fixed" in str(e):
                raise Outcome("sizeless", str(e))
            raise Outcome("eval error", f"{type(e).__name__}: {e}")
        if got.shape != f_shape or rel_err(got, mine) > 1e-9:
            raise Outcome("value mismatch", f"ricci {got.tolist()} vs mine {mine.tolist()}")
        if wrt is None:
            return "ok-novar"
        # derivative
        try:
            d = ricci.derivative(text, wrt, order, kinds)
        except ricci.LimitError as e:
            raise Outcome("limit", str(e))
        except RicciError as e:
            raise Outcome("derivative error", f"{type(e).__name__}: {e}")
        wlist = isinstance(wrt, list)
        wshape = (len(wrt),) if wlist else out_shape(p.vars[wrt][1])
        expect = f_shape + wshape * order
        if len(d.shape) != len(expect):
            raise Outcome("shape", f"d.shape {d.shape}, expected {len(expect)} axes {expect}")
        try:
            D = np.asarray(d.evaluate(vals), float)
        except RicciError as e:
            if p.sizeless and "not fixed" in str(e):
                raise Outcome("sizeless", str(e))
            raise Outcome("d.evaluate error", f"{type(e).__name__}: {e}")
        if D.shape != expect:
            raise Outcome("shape", f"d.evaluate shape {D.shape}, expected {expect}")
        if not np.all(np.isfinite(D)):
            raise Outcome("nonfinite", "d.evaluate is not finite")
        sym = (not wlist) and p.vars[wrt][0] == "symmetric matrix"
        # JAX
        if self.use_jax:
            J = self.jax_derivative(p, wrt, order)
            Dc, Jc = (symmetrise_pairs(D, order), symmetrise_pairs(J, order)) if sym else (D, J)
            err = rel_err(Dc, Jc)
            if err > 1e-6:
                conv = ""
                raise Outcome("mismatch (jax)", f"max rel err {err:.3g}{conv}")
        # finite differences of f (order 1) or of ricci's order k-1
        if self.fd:
            # every order k against differences of order k - 1 (order 0: ricci.evaluate of f)
            lower = None
            for k in range(1, order + 1):
                if k == 1:
                    g = lambda v: np.asarray(ricci.evaluate(expr, v), float)
                else:
                    g = (lambda dk: lambda v: np.asarray(dk.evaluate(v), float))(lower)
                dk = d if k == order else ricci.derivative(text, wrt, k, kinds)
                Dk = D if k == order else np.asarray(dk.evaluate(vals), float)
                F = self.fd_derivative(g, vals, wrt, sym, p)
                if sym:
                    Dk = symmetrise_pairs(Dk, 1)
                err = rel_err(Dk, F)
                if err > 1e-5:
                    # differences can be poor (ill-conditioned inv, steep functions): JAX decides
                    if self.jax_agrees(p, wrt, k, Dk, sym):
                        return "ok-fd-inaccurate"
                    raise Outcome("mismatch (fd)", f"order {k}: max rel err {err:.3g}")
                lower = dk
        try:
            latex = d.latex
        except ricci.LimitError as e:
            raise Outcome("limit", f"display: {e}")
        if not latex or not latex.strip():
            raise Outcome("latex", "empty latex")
        # the generated NumPy code
        if self.codegen:
            self.check_code(d, vals, D)
        # the text answer
        if self.check_text and d.has_matrix_form:
            t = d.text
            names = set(re.findall(r"[A-Za-z][A-Za-z0-9_]*", t))
            tk = {n: k for n, k in kinds.items() if n in names}
            try:
                e2 = ricci.parse(t, tk)
                v2 = {n: vals[n] for n in e2.variables}
                T = np.asarray(ricci.evaluate(e2, v2), float)
            except RicciError as e:
                if "not fixed" in str(e):
                    return "ok-sizeless-text"
                raise Outcome("text error", f"{type(e).__name__}: {e} in {t!r}")
            if T.shape != D.shape:
                if T.size == D.size and T.size == 1:
                    T = T.reshape(D.shape)
                else:
                    raise Outcome("text shape", f"text value {T.shape} vs {D.shape}: {t!r}")
            if rel_err(T, D) > 1e-9:
                raise Outcome("text mismatch", f"{rel_err(T, D):.3g}: {t!r}")
        return "ok"

    def check_code(self, d, vals, D):
        import inspect

        try:
            fn = d.function("numpy")
        except self.ricci.RicciError as e:
            if "size" in str(e):
                return
            raise Outcome("codegen error", f"{type(e).__name__}: {e}")
        args = []
        for name in inspect.signature(fn).parameters:
            key = name if name in vals else name[:-1]
            args.append(vals[key])
        try:
            with np.errstate(all="ignore"):
                got = np.asarray(fn(*args), float)
        except Exception as e:  # noqa: BLE001
            raise Outcome("codegen crash", f"{type(e).__name__}: {e}\n{d.code('numpy')}")
        if got.shape != D.shape:
            raise Outcome("codegen shape", f"{got.shape} vs {D.shape}\n{d.code('numpy')}")
        if rel_err(got, D) > 1e-9:
            raise Outcome("codegen mismatch", f"{rel_err(got, D):.3g}\n{d.code('numpy')}")

    def jax_agrees(self, p, wrt, order, D, sym) -> bool:
        try:
            if not hasattr(self, "jax"):
                import jax

                jax.config.update("jax_enable_x64", True)
                import jax.numpy as jnp

                self.jax, self.jnp = jax, jnp
        except ImportError:
            return False
        J = self.jax_derivative(p, wrt, order)
        if sym:
            J, D = symmetrise_pairs(J, order), symmetrise_pairs(D, order)
        return rel_err(D, J) < 1e-7

    def fd_derivative(self, g, vals, wrt, sym, p):
        """Central differences, Richardson extrapolated (h, h/2): ∂g/∂wrt in ricci's layout."""
        wlist = isinstance(wrt, list)
        if wlist:
            base = np.array([vals[n] for n in wrt], float)
        else:
            base = np.asarray(vals[wrt], float)
        g0 = g(vals)
        out = np.zeros(g0.shape + base.shape)

        def at(w):
            v = dict(vals)
            if wlist:
                for i, n in enumerate(wrt):
                    v[n] = float(w[i])
            elif base.ndim == 0:
                v[wrt] = float(w)
            else:
                v[wrt] = w
            return g(v)

        for idx in np.ndindex(base.shape):
            if sym and idx[0] > idx[1]:
                continue
            h = 1e-3 * max(1.0, abs(float(base[idx])))
            e = np.zeros(base.shape)
            e[idx] = 1.0
            if sym and idx[0] != idx[1]:
                e[idx[::-1]] = 1.0

            def cd(hh):
                return (at(base + hh * e) - at(base - hh * e)) / (2 * hh)

            dd = (4 * cd(h / 2) - cd(h)) / 3
            if sym and idx[0] != idx[1]:
                # directional derivative along E_ij + E_ji: split evenly on both entries
                out[(...,) + idx] = dd / 2
                out[(...,) + idx[::-1]] = dd / 2
            else:
                out[(...,) + idx] = dd
        return out

    def jax_derivative(self, p, wrt, order):
        jax, jnp = self.jax, self.jnp
        env0 = {n: jnp.asarray(v) for n, v in p.values.items()}
        wlist = isinstance(wrt, list)
        f_shape = out_shape(p.body.shape)

        def f(w):
            env = dict(env0)
            if wlist:
                for i, n in enumerate(wrt):
                    env[n] = jnp.reshape(w[i], (1, 1))
            else:
                env[wrt] = jnp.reshape(w, p.vars[wrt][1])
            return jnp.reshape(evaluate_tree(p, env, jnp), f_shape)

        if wlist:
            w0 = jnp.asarray([float(p.values[n][0, 0]) for n in wrt])
        else:
            w0 = jnp.reshape(env0[wrt], out_shape(p.vars[wrt][1]))
        g = f
        for _ in range(order):
            g = jax.jacfwd(g)
        return np.asarray(g(w0), dtype=float)


# --------------------------------------------------------------------------- driver

def _names(node, acc):
    if node.op == "var":
        acc.add(node.arg)
    for k in node.kids:
        _names(k, acc)
    return acc


def _has_op(node, op: str) -> bool:
    return node.op == op or any(_has_op(k, op) for k in node.kids)


def draw(rng: random.Random, gen: Generator, max_depth: int):
    """One problem: (problem, text, wrt, order, kinds)."""
    p = gen.problem(max_depth)
    used = _names(p.body, set())
    for _, nd in p.bindings:
        _names(nd, used)
    p.vars = {n: v for n, v in p.vars.items() if n in used}
    body = text_of(p.body, rng, parens=rng.choice([0.0, 0.0, 0.2]))
    if p.bindings:
        parts = [f"{n} = {text_of(nd, rng, 0.1)}" for n, nd in p.bindings]
        text = body + " where " + ", ".join(parts)
    else:
        text = body
    # a matrix power is read as one only where no kinds make its base a scalar (§2): with its
    # names left to the naming rule, X^2 would make X a scalar
    declare_all = rng.random() < 0.7 or any(_has_op(nd, "mpow") for nd in [p.body] + [b for _, b in p.bindings])
    candidates = list(p.vars)
    scal = [n for n in candidates if p.vars[n][0] == "scalar"]
    order = rng.choice([1, 1, 1, 2, 2, 3])
    wrt = None
    if candidates:
        if len(scal) >= 1 and rng.random() < 0.15:
            wrt = rng.sample(scal, rng.choice([1, 2, len(scal)]) if len(scal) >= 2 else 1)
            declare_all = True
        else:
            wrt = rng.choice(candidates)
            # keep the order-3 tensors small
            size = int(np.prod(p.vars[wrt][1]))
            fsize = int(np.prod(p.body.shape))
            while order > 1 and fsize * size ** order > 4000:
                order -= 1
    kinds = {}
    for n, (k, s) in p.vars.items():
        if k == "symmetric matrix" or declare_all:
            kinds[n] = k
        elif k == "matrix" and n not in MATRICES:
            kinds[n] = k
    return p, text, wrt, order, kinds


def wrt_kind(p, wrt):
    if wrt is None:
        return "none"
    if isinstance(wrt, list):
        return "list"
    return p.vars[wrt][0]


def repro(text, wrt, order, kinds, p):
    vals = {n: as_public(k if k != "symmetric matrix" else "matrix", p.values[n]).tolist()
            if k != "scalar" else float(p.values[n][0, 0]) for n, (k, s) in p.vars.items()}
    return (f"import ricci, numpy as np\n"
            f"d = ricci.derivative({text!r}, {wrt!r}, {order}, {kinds!r})\n"
            f"values = {{k: np.array(v) for k, v in {vals!r}.items()}}\n"
            f"print(d.text); print(d.evaluate(values))")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--max-depth", type=int, default=5)
    ap.add_argument("--jax", action="store_true", help="compare with JAX on this module's tree too")
    ap.add_argument("--no-fd", action="store_true")
    ap.add_argument("--minutes", type=float, default=None, help="stop after this long")
    ap.add_argument("--out", default=None)
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--literals", action="store_true", help="literals three times as often")
    args = ap.parse_args(argv)

    checker = Checker(use_jax=args.jax, fd=not args.no_fd)
    counts = collections.Counter()
    by = collections.Counter()
    out = open(args.out, "w") if args.out else None
    started = time.time()
    bad = 0
    for i in range(args.n):
        if args.minutes and time.time() - started > 60 * args.minutes:
            break
        rng = random.Random(f"{args.seed}-{i}")
        gen = Generator(rng)
        if args.literals:
            gen.lit_v, gen.lit_m = 0.3, 0.15
        p, text, wrt, order, kinds = draw(rng, gen, args.max_depth)
        t0 = time.time()
        try:
            status = checker.run(p, text, wrt, order, kinds)
            detail = ""
        except Outcome as o:
            status, detail = o.status, o.detail
        except Exception as e:  # noqa: BLE001 - a crash is what we hunt
            status, detail = "crash", "".join(traceback.format_exception_only(type(e), e)).strip()
            detail += "\n" + "".join(traceback.format_tb(e.__traceback__)[-3:])
        dt = time.time() - t0
        counts[status] += 1
        by[(wrt_kind(p, wrt), order if wrt is not None else 0)] += 1
        if not status.startswith("ok") and status not in ("sizeless",):
            bad += 1
            rec = {"i": i, "seed": args.seed, "status": status, "detail": detail, "text": text,
                   "wrt": wrt, "order": order, "kinds": kinds, "repro": repro(text, wrt, order, kinds, p)}
            if out:
                out.write(json.dumps(rec) + "\n")
                out.flush()
            if not args.quiet:
                print(f"[{i}] {status}: {text!r} wrt {wrt!r} order {order} kinds {kinds}\n    {detail[:500]}",
                      flush=True)
        if dt > 5 and not args.quiet:
            print(f"[{i}] slow ({dt:.1f}s): {text!r} wrt {wrt!r} order {order}", flush=True)
    total = sum(counts.values())
    print(f"{total} problems in {time.time() - started:.0f}s: {dict(counts)}")
    print("by (wrt kind, order):", dict(sorted(by.items(), key=str)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
