"""The names that the textbook rules of the display are written with (ricci.simplify.textbook,
ricci.simplify.vocabulary): abs(u).*sign(u).^2 is abs(u), a lone 1/(1 + exp(-u)) is sigmoid(u),
exp(u)/sum(exp(u)) is softmax(u).  The rules read the names here rather than spell them, as the
softmax finder reads LOGSUMEXP's (docs/derivatives.md lists the rules)."""

from __future__ import annotations

from typing import NamedTuple


class TextbookNames(NamedTuple):
    abs: str = "abs"
    sign: str = "sign"
    exp: str = "exp"
    log: str = "log"
    sigmoid: str = "sigmoid"
    softmax: str = "softmax"


TEXTBOOK = TextbookNames()
