"""The names that the stable forms are written with (ricci.stable, ricci.ir.stable).

A composition such as log(1 + exp(u)) is right on paper and wrong in floating point (inf at
u = 800); the numerics layer finds it in an expression and computes it as the function of this
table that is exact there (softplus(u)).  The finders read the names here, as the softmax
finder reads LOGSUMEXP's, rather than spell them: docs/numerics.md lists every rule.
"""

from __future__ import annotations

from typing import NamedTuple


class StableNames(NamedTuple):
    log: str = "log"
    exp: str = "exp"
    sigmoid: str = "sigmoid"
    softplus: str = "softplus"
    log1p: str = "log1p"
    expm1: str = "expm1"
    tanh: str = "tanh"
    cosh: str = "cosh"
    det: str = "det"
    logdet: str = "logdet"
    abs: str = "abs"
    relu: str = "relu"
    step: str = "step"
    sign: str = "sign"
    sqrt: str = "sqrt"
    norm2: str = "norm2"
    #: the largest entry (the plan's shift of softmax and logsumexp; the table's max(x, c))
    max: str = "max"


STABLE = StableNames()
