"""Drawing: a :class:`~ricci.plotting.problem.Problem` → a matplotlib Figure.

One function per view.  Figures are built with ``matplotlib.figure.Figure`` directly, not
pyplot, so nothing global changes (no backend is chosen, no figure is kept alive) and the
figure renders anywhere, Agg included.  The numbers come from the problem's functions (ricci's
derivatives); this module only samples and draws them.

Artists that tests and users may want to find carry a ``gid``: ``curve``, ``tangent``,
``derivative`` (f′), ``gradient-field`` (the arrows, a Quiver), ``gradient-at``, ``eigen-1``,
``eigen-2``, ``critical-<kind>``, ``path``, ``velocity``, ``h``, ``h-tangent``.

Colours: the filled contours use viridis (ordered in lightness, so readable in grey); lines
drawn over it are white with a black edge, and the marks that matter differ in line style or
marker shape as well as in colour.
"""

from __future__ import annotations

import warnings

import numpy as np

from ..language.errors import BadValueError
from . import critical as C
from .mathtext import label, number, plain
from .problem import Curve, Field, Path, Problem

CMAP = "viridis"
RED = "#d62728"        # ∇f, tangents
ORANGE = "#ff7f0e"     # x′(t), first eigen-direction
PINK = "#e377c2"       # second eigen-direction
INK = "#1f1f1f"
MARKERS = {"minimum": "o", "maximum": "^", "saddle": "X", "degenerate": "D"}


def _halo(width: float = 3.5):
    from matplotlib import patheffects

    return [patheffects.withStroke(linewidth=width, foreground="black")]


def _limits(values: np.ndarray, pad: float = 0.08) -> tuple[float, float, bool]:
    """A value range for colours or a y axis: the full range, or the 1–99 % percentiles when
    a few values are far out (exp, 1/x); the flag says whether it was clipped."""
    v = values[np.isfinite(values)]
    lo, hi = float(v.min()), float(v.max())
    p1, p99 = (float(x) for x in np.percentile(v, [1, 99]))
    clipped = hi - lo > 4 * (p99 - p1) and p99 > p1
    if clipped:
        lo, hi = p1, p99
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 1.0, hi + 1.0
    w = hi - lo
    return lo - pad * w, hi + pad * w, clipped


def _title(fig, latex: str, fallback: str, prefix_latex: str = "", prefix: str = "") -> None:
    text = label(prefix_latex + latex, prefix + fallback)
    size = float(np.clip(13 * 70 / max(len(fallback) + len(prefix), 1), 8, 13))
    fig.suptitle(text, fontsize=size)


def _arrow(ax, p, vec, length: float, color: str, gid: str) -> bool:
    """An arrow from p in the direction of vec, ``length`` long (in data units); False if vec = 0."""
    from matplotlib.patches import FancyArrowPatch

    n = float(np.linalg.norm(vec))
    if not np.isfinite(n) or n == 0.0:
        return False
    tip = np.asarray(p) + np.asarray(vec) / n * length
    arrow = FancyArrowPatch(tuple(p), tuple(tip), arrowstyle="-|>", mutation_scale=16, color=color,
                            lw=2.2, zorder=6, path_effects=_halo(4.5))
    arrow.set_gid(gid)
    ax.add_patch(arrow)
    return True


def _proxy(color: str, label_text: str, ls: str = "-", marker: str | None = ">", size: float = 6):
    """A legend entry for an artist that has none of its own (arrows, white marks)."""
    from matplotlib.lines import Line2D

    white = color == "white"
    return Line2D([], [], color=color, lw=2, ls=ls, marker=marker, markersize=size, label=label_text,
                  mec="black" if white else color, path_effects=_halo(3.5) if white and ls != "none" else None)


# -- f: R → R ------------------------------------------------------------------------------------
def draw_curve(fig, problem: Problem, derivative: bool = True, samples: int | None = None) -> None:
    c: Curve = problem.curve
    x = label(_name_latex(c.name), c.name)
    xs = np.linspace(*c.range, samples or 400)
    ys = np.array([c.f(v) for v in xs])
    if not np.any(np.isfinite(ys)):
        raise BadValueError(f"f is undefined everywhere on {c.name} ∈ ({c.range[0]:g}, {c.range[1]:g})")
    if derivative:
        ax, axd = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
    else:
        ax, axd = fig.subplots(1, 1), None
    x0, y0, m = c.at, c.f(c.at), c.slope(c.at)

    ax.plot(xs, ys, lw=2.2, color="#3b528b", label=label(f"f({_name_latex(c.name)})", f"f({c.name})"),
            gid="curve")
    lo, hi, _ = _limits(np.append(ys, y0))
    ax.set_ylim(lo, hi)
    span = c.range[1] - c.range[0]
    w = 0.3 * span
    tx = np.array([x0 - w, x0 + w])
    ax.plot(tx, y0 + m * (tx - x0), ls="--", lw=1.8, color=RED, gid="tangent",
            label=f"tangent at {c.name} = {number(x0)}: slope f′({number(x0)}) = {number(m)}")
    ax.plot([x0], [y0], "o", ms=7, color=RED, mec="black", zorder=5)
    # the slope, written on the tangent line (rotated with it)
    # on the side of the line away from the curve: below it where f bends up, above where down
    xt = x0 - 0.55 * w
    above = not (c.f(xt) > y0 + m * (xt - x0))
    ax.text(xt, y0 + m * (xt - x0), f" slope {number(m)} ", color=RED, fontsize=10, ha="center",
            va="bottom" if above else "top", rotation=float(np.degrees(np.arctan(m))),
            rotation_mode="anchor", transform_rotates_text=True, zorder=6)
    # rise over run: a step of 1 (or a tenth of the range when 1 is too big or too small)
    run = 1.0 if 0.04 * span <= 1.0 <= 0.25 * span else 0.1 * span
    ax.plot([x0, x0 + run, x0 + run], [y0, y0, y0 + m * run], ls=":", lw=1.3, color=INK)
    ax.text(x0 + run / 2, y0, number(run), ha="center", va="top", fontsize=8, color=INK)
    ax.text(x0 + run, y0 + m * run / 2, f" {number(m * run)}", ha="left", va="center", fontsize=8, color=INK)
    ax.axvline(x0, color="0.5", lw=0.8, ls=":")
    ax.set_ylabel(label(f"f({_name_latex(c.name)})", f"f({c.name})"))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize=8)
    ax.set_xlim(*c.range)
    _title(fig, c.f_latex, problem.plain, prefix_latex=f"f({_name_latex(c.name)}) = ", prefix=f"f({c.name}) = ")

    if axd is None:
        ax.set_xlabel(x)
        return
    ds = np.array([c.slope(v) for v in xs])
    ds[~np.isfinite(ys)] = np.nan  # no slope where f itself is undefined (1/x left of log x)
    axd.plot(xs, ds, lw=2, color="#21918c", gid="derivative",
             label=label(f"f^{{\\prime}}({_name_latex(c.name)}) = {c.slope_latex}", "f′"))
    axd.axhline(0, color="0.3", lw=0.8)
    with np.errstate(invalid="ignore"):
        up, down = np.nan_to_num(ds) > 0, np.nan_to_num(ds) < 0
    axd.fill_between(xs, 0, np.nan_to_num(ds), where=up, interpolate=True, color="#5ec962", alpha=0.3,
                     label="f′ > 0: f increasing")
    axd.fill_between(xs, 0, np.nan_to_num(ds), where=down, interpolate=True, color="#440154", alpha=0.2,
                     hatch="//", label="f′ < 0: f decreasing")
    axd.plot([x0], [m], "o", ms=7, color=RED, mec="black", zorder=5)
    axd.axvline(x0, color="0.5", lw=0.8, ls=":")
    if np.any(np.isfinite(ds)):
        axd.set_ylim(*_limits(np.append(ds, [m, 0.0]))[:2])
    axd.set_xlabel(x)
    axd.set_ylabel(label(f"f^{{\\prime}}({_name_latex(c.name)})", f"f′({c.name})"))
    axd.grid(True, alpha=0.3)
    axd.legend(loc="best", fontsize=8)


def _name_latex(name: str) -> str:
    from ..printing.latex import name_latex

    return name_latex(name)


# -- f: R² → R -----------------------------------------------------------------------------------
def _contours(fig, ax, field: Field, samples: int) -> None:
    (x_lo, x_hi), (y_lo, y_hi) = field.range
    xs, ys = np.linspace(x_lo, x_hi, samples), np.linspace(y_lo, y_hi, samples)
    Z = np.array([[field.f(np.array([a, b])) for a in xs] for b in ys])
    if not np.any(np.isfinite(Z)):
        raise BadValueError(f"f is undefined everywhere in the range {field.range}")
    from matplotlib.colors import BoundaryNorm
    from matplotlib.ticker import MaxNLocator

    lo, hi, heavy = _limits(Z, pad=0.0)
    Zm = np.ma.masked_invalid(Z)
    norm = None
    if heavy:
        # A few huge values (exp, 1/x) would leave one colour for the rest: levels at the
        # quantiles of f instead, so that each colour band covers a like share of the box.
        finite = Z[np.isfinite(Z)]
        levels = np.unique(np.quantile(finite, np.linspace(0, 1, 17)))
        levels = levels if levels.size >= 3 else np.linspace(lo, hi, 17)
        norm = BoundaryNorm(levels, 256)
    else:
        levels = MaxNLocator(nbins=16).tick_values(lo, hi)
    filled = ax.contourf(xs, ys, Zm, levels=levels, cmap=CMAP, norm=norm)
    with warnings.catch_warnings():  # a level set may be empty (a constant f): that is no error
        warnings.filterwarnings("ignore", message="No contour levels were found")
        ax.contour(xs, ys, Zm, levels=levels, colors="black", linewidths=0.4, alpha=0.45)
    bar = fig.colorbar(filled, ax=ax, shrink=0.9)
    bar.set_label("f" + (" (levels at quantiles)" if heavy else ""))


def _gradient_arrows(ax, field: Field, n: int) -> list:
    """Arrows of ∇f on an n × n grid: uphill, length ∝ ‖∇f‖ (the longest fills its cell)."""
    if n <= 0:
        return []
    (x_lo, x_hi), (y_lo, y_hi) = field.range
    dx, dy = (x_hi - x_lo) / n, (y_hi - y_lo) / n
    xs = x_lo + dx * (np.arange(n) + 0.5)
    ys = y_lo + dy * (np.arange(n) + 0.5)
    X, Y = np.meshgrid(xs, ys)
    G = np.array([[field.gradient(np.array([a, b])) for a in xs] for b in ys])
    F = np.array([[field.f(np.array([a, b])) for a in xs] for b in ys])
    G[~np.isfinite(F)] = np.nan  # no arrow where f itself is undefined
    U, V = np.ma.masked_invalid(G[..., 0]), np.ma.masked_invalid(G[..., 1])
    norms = np.hypot(G[..., 0], G[..., 1])
    biggest = float(np.nanmax(norms)) if np.any(np.isfinite(norms)) else 0.0
    cell = 0.9 * min(dx, dy)
    scale = biggest / cell if biggest > 0 else 1.0  # data units: an arrow of ‖∇f‖ = biggest is 0.9 cell
    q = ax.quiver(X, Y, U, V, angles="xy", scale_units="xy", scale=scale, color="white",
                  edgecolor="black", linewidth=0.4, width=0.004, zorder=3, gid="gradient-field")
    q.set_label("∇f")
    return [_proxy("white", "∇f arrows: uphill, length ∝ ‖∇f‖", marker=">")]


def _at_point(ax, field: Field, p, what: str) -> list:
    """At p: the gradient (direction, value in the legend) and the Hessian's eigen-directions."""
    handles = []
    (x_lo, x_hi), (y_lo, y_hi) = field.range
    size = min(x_hi - x_lo, y_hi - y_lo)
    ax.plot([p[0]], [p[1]], marker="*", ms=15, color="white", mec="black", zorder=7, ls="none")
    handles.append(_proxy("white", f"{what} ({number(p[0])}, {number(p[1])})", ls="none", marker="*", size=11))
    g = field.gradient(p)
    if _arrow(ax, p, g, 0.22 * size, RED, "gradient-at"):
        handles.append(_proxy(RED, f"∇f = [{number(g[0])}, {number(g[1])}], ‖∇f‖ = {number(np.hypot(*g))}"))
    elif np.all(np.isfinite(g)):
        handles.append(_proxy(RED, "∇f = 0 here", ls="none", marker="."))
    H = field.hessian(p)
    if np.all(np.isfinite(H)):
        lam, vecs = np.linalg.eigh((H + H.T) / 2)
        biggest = max(float(np.max(np.abs(lam))), 1e-300)
        for k, colour in ((0, ORANGE), (1, PINK)):
            v, lk = vecs[:, k], float(lam[k])
            half = 0.16 * size * (0.35 + 0.65 * abs(lk) / biggest)
            ls = "-" if lk > 1e-9 * biggest else ("--" if lk < -1e-9 * biggest else ":")
            ax.plot([p[0] - half * v[0], p[0] + half * v[0]], [p[1] - half * v[1], p[1] + half * v[1]],
                    ls=ls, lw=2.6, color=colour, zorder=6, gid=f"eigen-{k + 1}", path_effects=_halo(4.5),
                    solid_capstyle="butt")
            bend = "curves up" if ls == "-" else ("curves down" if ls == "--" else "flat")
            handles.append(_proxy(colour, f"Hessian: λ{k + 1} = {number(lk)} along "
                                          f"[{number(v[0])}, {number(v[1])}], {bend}", ls=ls, marker=None))
    return handles


def _critical(ax, field: Field, mode) -> list:
    points, method = C.find(field, use_analysis=(mode is True))
    handles = []
    from matplotlib.lines import Line2D

    for kind in C.KINDS:
        pts = [c.point for c in points if c.kind == kind]
        if not pts:
            continue
        xs, ys = zip(*pts)
        ax.plot(xs, ys, ls="none", marker=MARKERS[kind], ms=11, mfc="white", mec="black", mew=1.6,
                zorder=8, gid=f"critical-{kind}")
        where = (f" at ({number(xs[0])}, {number(ys[0])})" if len(pts) == 1 else f": {len(pts)} points")
        handles.append(Line2D([], [], ls="none", marker=MARKERS[kind], ms=9, mfc="white", mec="black",
                              mew=1.4, label=f"{kind}{where}"))
    head = "critical points" if handles else "no critical point in the box"
    return [Line2D([], [], ls="none", label=f"{head} (by {method}){':' if handles else ''}")] + handles


def _axes_setup(ax, field: Field) -> None:
    (x_lo, x_hi), (y_lo, y_hi) = field.range
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    if 1 / 3 <= (y_hi - y_lo) / (x_hi - x_lo) <= 3:
        ax.set_aspect("equal", adjustable="box")  # so that ∇f looks perpendicular to the level sets
    ax.set_xlabel(label(field.labels[0], field.names[0]))
    ax.set_ylabel(label(field.labels[1], field.names[1]))


def draw_field(fig, problem: Problem, samples: int | None = None, arrows: int = 13, critical=True) -> None:
    field: Field = problem.field
    ax = fig.subplots(1, 1)
    _contours(fig, ax, field, samples or 81)
    handles = _gradient_arrows(ax, field, arrows)
    handles += _at_point(ax, field, field.at, "at")
    if critical:
        handles += _critical(ax, field, critical)
    _axes_setup(ax, field)
    _title(fig, field.f_latex, problem.plain, prefix_latex=f"f({field.signature[0]}) = ",
           prefix=f"f({field.signature[1]}) = ")
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8, frameon=False)


# -- a path x(t) through f(x) --------------------------------------------------------------------
def draw_path(fig, problem: Problem, samples: int | None = None, arrows: int = 11) -> None:
    pa: Path = problem.path
    field = pa.field
    t = label(_name_latex(pa.t), pa.t)
    ax, axh = fig.subplots(1, 2, width_ratios=[1.15, 1])

    _contours(fig, ax, field, max(21, (samples or 301) // 5))
    handles = _gradient_arrows(ax, field, arrows)
    ts = np.linspace(*pa.range, samples or 301)
    P = np.array([pa.x(s) for s in ts])
    ax.plot(P[:, 0], P[:, 1], color="white", lw=2.4, zorder=5, gid="path", path_effects=_halo(4.5))
    handles.append(_proxy("white", f"path x({pa.t}), {pa.t} ∈ [{number(pa.range[0])}, {number(pa.range[1])}]",
                          marker=None))
    for frac in (0.25, 0.5, 0.75):  # arrow heads: the direction of increasing t
        i = int(frac * (len(ts) - 1))
        if np.all(np.isfinite(P[i:i + 2])):
            ax.annotate("", xy=tuple(P[i + 1]), xytext=tuple(P[i]),
                        arrowprops={"arrowstyle": "-|>", "color": "white", "lw": 0, "mutation_scale": 18}, zorder=5)
    for s in (ts[0], ts[-1]):
        q = pa.x(s)
        if np.all(np.isfinite(q)):
            ax.annotate(f"{pa.t} = {number(s)}", tuple(q), textcoords="offset points", xytext=(6, 6),
                        fontsize=9, color=INK, zorder=7,
                        bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "none", "alpha": 0.85})
    t0 = pa.at
    p0, v0, g0 = pa.x(t0), pa.velocity(t0), field.gradient(pa.x(t0))
    (x_lo, x_hi), (y_lo, y_hi) = field.range
    size = min(x_hi - x_lo, y_hi - y_lo)
    ax.plot([p0[0]], [p0[1]], marker="*", ms=15, color="white", mec="black", zorder=7, ls="none")
    handles.append(_proxy("white", f"x({number(t0)}) = ({number(p0[0])}, {number(p0[1])})", ls="none", marker="*",
                          size=11))
    if _arrow(ax, p0, v0, 0.2 * size, ORANGE, "velocity"):
        handles.append(_proxy(ORANGE, f"x′({number(t0)}) = [{number(v0[0])}, {number(v0[1])}]"))
    if _arrow(ax, p0, g0, 0.2 * size, RED, "gradient-at"):
        handles.append(_proxy(RED, f"∇f(x({number(t0)})) = [{number(g0[0])}, {number(g0[1])}]"))
    _axes_setup(ax, field)
    ax.set_title(label(f"f({field.signature[0]}) = {field.f_latex}", "f"), fontsize=10)

    # h(t) = f(x(t)) and its tangent: h′(t0) = ∇f(x(t0)) · x′(t0)
    hs = np.array([pa.h(s) for s in ts])
    if not np.any(np.isfinite(hs)):
        raise BadValueError(f"h = f(x({pa.t})) is undefined everywhere on ({pa.range[0]:g}, {pa.range[1]:g})")
    h0, m = pa.h(t0), pa.h_slope(t0)
    chain = float(g0 @ v0)
    axh.plot(ts, hs, lw=2.2, color="#3b528b", gid="h", label=label(f"h({_name_latex(pa.t)}) = f(x({_name_latex(pa.t)}))", "h(t) = f(x(t))"))
    axh.set_ylim(*_limits(np.append(hs, h0))[:2])
    w = 0.2 * (pa.range[1] - pa.range[0])
    tx = np.array([t0 - w, t0 + w])
    axh.plot(tx, h0 + m * (tx - t0), ls="--", lw=1.8, color=RED, gid="h-tangent",
             label=f"tangent at {pa.t} = {number(t0)}: slope h′ = {number(m)}")
    axh.plot([t0], [h0], "o", ms=7, color=RED, mec="black", zorder=5)
    dots = " + ".join(f"({number(a)})({number(b)})" for a, b in zip(g0, v0))
    note = (f"chain rule at {pa.t} = {number(t0)}:\n"
            f"h′ = ∇f · x′ = {dots}\n"
            f"    = {number(chain)}\n"
            f"ricci's dh/d{pa.t} = {number(m)}")
    axh.text(0.02, 0.98, plain(note), transform=axh.transAxes, va="top", ha="left", fontsize=8.5,
             family="monospace", bbox={"boxstyle": "round", "fc": "white", "ec": "0.6", "alpha": 0.9}, zorder=8)
    axh.set_xlim(*pa.range)
    axh.set_xlabel(t)
    axh.set_ylabel(label(f"h({_name_latex(pa.t)})", "h"))
    axh.grid(True, alpha=0.3)
    axh.legend(loc="best", fontsize=8)
    slope_latex = pa.h_slope_latex.split(r"\quad \text{where")[0]  # the bindings are in the title
    axh.set_title(label(r"\frac{dh}{d" + _name_latex(pa.t) + "} = " + slope_latex, "dh/dt"), fontsize=9)
    binds = r",\ ".join(pa.binding_latex)
    _title(fig, binds, problem.plain, prefix_latex=r"h = f(x(" + _name_latex(pa.t) + r")),\ ",
           prefix="h = f(x(t)), ")
    fig.legend(handles=handles, loc="outside lower center", ncol=3, fontsize=8, frameon=False)
