"""A power of a scalar on an array, computed so that the power itself is never formed (issue 22,
known core bug #15; docs/numerics.md).

The Hessian of ``norm2(x - a)`` is ``eye/n - (x - a)*(x - a)'/n^3``: at entries of 1e150 the
second term is of order 1/n, but n³ = 1e450 is no float, and ``-(v/n**3) ⊗ v`` came out 0 with
no inf or NaN for check_finite to see.  So a power s**k (|k| > 1) of a scalar that scales an
array is spread: an outer product u w' times s**k is (u·s^(k/2)) (w·s^(k/2)), a contraction of
m tensors gives each its part of k, and each factor x times s^e is x·h·h with h = s^(e/2)
where |e| > 1.  Every intermediate lies between a factor and the answer, so it is a float where
they are; the exponents are binary fractions (multiples of 1/4, halved), so no rounding of k/m
enters (s**(-5/3) would carry the rounding of -5/3 times log s: 6e-14 at s = 1e150).  The cost
is one or two passes over the factors, none over the product.

Functions of a :class:`ricci.codegen.plan.Plan` (which calls :func:`spread_power` from its
``mul`` and ``div``; codegen/from_index.py calls :func:`spread_over` for its contractions).
"""

from __future__ import annotations


def power_of(plan, q) -> tuple | None:
    """(s, k) where the scalar ``q`` is s**k with a scalar s ≥ 0 and a number k, |k| > 1: a
    power that can over- or underflow where s does not (‖v‖³ = 1e450 at ‖v‖ = 1e150).  Only of
    a base that is ≥ 0 by construction: the parts s^(k/2), s^(k/4) of a negative s are not real
    (a**1.5 of a = -2 is complex in Python, NaN in NumPy), where a**3 was a number."""
    if q.kind != "pow" or q.ndim or q.args[0].ndim:
        return None
    k = plan.value_of(q.args[1])
    if k is None or abs(k) <= 1 or not _nonnegative(plan, q.args[0]):
        return None
    return q.args[0], k


def _nonnegative(plan, s) -> bool:
    """Whether the scalar ``s`` is ≥ 0 by how it is made: a norm (hypot), a sum of squares, x @ x
    of one vector, a non-negative number, or products, quotients, sums and powers of such."""
    v = plan.value_of(s)
    if v is not None:
        return v >= 0
    if s.kind in ("hypot", "sumsq", "exp_minus"):
        return True
    if s.kind == "matmul":
        return s.args[0] is s.args[1] and s.args[0].ndim == 1
    if s.kind == "pow":
        e = plan.value_of(s.args[1])
        return _nonnegative(plan, s.args[0]) or (e is not None and e % 2 == 0)
    if s.kind in ("mul", "div", "add"):
        return all(_nonnegative(plan, a) for a in s.args)
    return False


def times_power(plan, x, s, e: float):
    """x·s^e, in two steps x·h·h with h = s^(e/2) where |e| > 1: the intermediate x·h lies
    between x and the answer, and h is a float where s^e is not (s^1.5 up to s = 1e205, s³
    beyond 1e103).  Built with the plan's bare binary nodes: its mul and div would spread the
    power again."""
    for f in ((e / 2, e / 2) if abs(e) > 1 else (e,)):
        if f < 0:
            x = plan._binary("div", x, plan.pow(s, plan.num(-f)))
        else:
            x = plan._binary("mul", plan.pow(s, plan.num(f)), x)
    return x


def spread_power(plan, q, b, sign: int):
    """``b`` times (``sign`` 1) or over (-1) the power ``q`` = s**k (:func:`power_of`): an outer
    product u w' as (u·s^(k/2)) (w·s^(k/2)) (u and w one node where they are one), another
    array as b·s^k in two steps (:func:`times_power`).  None where ``q`` is not such a power,
    ``b`` is a number, or a matrix product (the plan's _push_scalar takes the power
    to its smaller operand, which comes back here)."""
    power = power_of(plan, q)
    if power is None or plan.value_of(b) is not None:
        return None
    s, k = power
    if b.kind == "outer":
        u, w = b.args
        return plan.outer(times_power(plan, u, s, sign * k / 2), times_power(plan, w, s, sign * k / 2))
    if b.kind == "neg":
        inner = spread_power(plan, q, b.args[0], sign)
        return None if inner is None else plan.neg(inner)
    if b.kind == "matmul":
        return None
    if b.ndim == 0 and sign * k > 0:
        # A scalar over a power is spread (below), a scalar times one stays as written (x2**2*u,
        # shared, not x2*(x2*u)): a product b*s**k whose power overflows is inf, which
        # check_finite sees; a quotient b/s**k whose power overflows is 0, which nothing sees
        return None
    # c2/c**3, the diagonal of the Hessian of x'*A*x/(x'*x)^2, was 0 at entries of 1e60 (c**3 =
    # 1e360 is inf, c2/inf = 0; the answer is 1e-240), silently: c2/h/h with h = c^1.5, whose
    # intermediate lies between c2 and the answer, as for an array.
    return times_power(plan, b, s, sign * k)


def spread_over(plan, tensors: list, scalars: list, small: list) -> tuple:
    """(tensors, scalars) of a contraction ((op, axes) pairs and scalar ops) with each power
    among the scalars taken onto the tensors numbered ``small`` (those smaller than the
    product): m of them each get a part of k, multiples of 1/4 near k/m (-1.75, -1.75, -1.5
    for -5 over three).  x_i x_j x_k ‖x‖^-5, the third derivative of norm2(x), was
    x_i·‖x‖^-5 first, and ‖x‖^-5 is 0 from ‖x‖ = 1e62 on: the term was silently 0."""
    if not small:
        return tensors, scalars
    kept = []
    tensors = list(tensors)
    for q in scalars:
        power = power_of(plan, q)
        if power is None:
            kept.append(q)
            continue
        s, k = power
        part = round(4 * k / len(small)) / 4
        for n, t in enumerate(small):
            share = part if n < len(small) - 1 else k - part * (len(small) - 1)
            op, axes = tensors[t]
            tensors[t] = (times_power(plan, op, s, share), axes)
    return tensors, kept
