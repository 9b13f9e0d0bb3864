"""Make the figures of README.md and docs/plots.md: one image of each kind of ricci plot.

    python docs/make_figures.py          # writes docs/images/*.png

Every image is drawn by ``ricci.plot`` from the expression shown next to it; none is edited by
hand.  Rerun this script after a change to ricci.plot and commit the images with the change.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import ricci

IMAGES = Path(__file__).resolve().parent / "images"

#: file name → (expression, wrt, options): each kind of picture once, the lecture's where it can
FIGURES = {
    # f: R → R: the slope of the tangent line is the derivative
    "curve.png": ("x^3 - 3*x", "x", {"at": 1.5, "range": (-2.5, 2.5)}),
    # f: R² → R: contours, ∇f uphill, the Hessian's eigen-directions, a saddle at the origin
    "field.png": ("x1^2 - x2^2", ["x1", "x2"], {"at": [1, 0.5], "range": (-2, 2)}),
    # critical points of every type in one box
    "critical.png": ("sin(x1)*cos(x2)", ["x1", "x2"], {"at": [0.6, 0.4], "range": ((-3.5, 3.5), (-2.2, 2.2))}),
    # the lecture's chain-rule Example 1: h(t) = f(x(t)), the path on the contours of f
    "path.png": ("exp(x1*x2^2) where x1 = t*cos(t), x2 = t*sin(t)", "t", {"at": 2, "range": (0, 3)}),
}


def main() -> None:
    IMAGES.mkdir(parents=True, exist_ok=True)
    for name, (expression, wrt, options) in FIGURES.items():
        fig = ricci.plot(expression, wrt, **options)
        fig.savefig(IMAGES / name, metadata={"Software": None})
        print(f"wrote {IMAGES / name}: {expression}")


if __name__ == "__main__":
    main()
