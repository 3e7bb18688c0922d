"""Plausibility of an input series: the values a fat finger or a unit slip leaves behind.

:func:`suspect_values` is a pure function of one series (pandas in, typed :class:`Suspect`
warnings out); the reader turns each into a warning naming its cell, which ``gamma check``,
the refresh output, ``Data Status`` and the instrument's forecast row ("input suspect") show.
A suspect value is never refused: a real crash can look like one; the user decides.

What counts as suspect, for the series' ``kind``:

* ``"level"`` (prices quoted as a level, > 0): the move into an observation, in log units
  ``log(x_t / x_{t-1})``, is
  - a **jump** of a factor of :data:`JUMP_FACTOR` (50) or more either way — a unit slip is
    a factor of 100 (cents for dollars, percent for a decimal), 50 leaves room for a real move
    on top; or
  - beyond :data:`MAX_ROBUST_SD` (8) **robust standard deviations** of the series' own
    changes. The robust standard deviation is 1.4826 × the median absolute deviation (MAD)
    from the median change (1.4826 makes it the standard deviation for normal changes; a
    few wild values cannot inflate it), over the whole history or, when larger, over the
    :data:`LOCAL_MONTHS` changes either side of the move, so that a turbulent year (1932,
    1980) is judged against its own turbulence. When more than half of the changes are
    equal (a pegged rate), the MAD is 0 and 1.2533 × the mean absolute deviation is used.
* ``"rate"`` (yields and rates in percentage points): the same on the changes
  ``x_t − x_{t-1}``; the jump rule applies when the larger of the two magnitudes is at
  least 1 percentage point (4.25 typed as 0.0425), not to rates near zero moving by basis
  points.
* ``"auto"`` (a positive series of unknown role, e.g. a Fundamentals column: CPI, earnings,
  a short rate): suspect only when suspect both as a level and as a rate, so a rate near
  zero (0.05 → 0.02, a large log move) or a level at a new scale (a large difference) is
  not flagged by the wrong yardstick; a series with a value ≤ 0 is a rate.
* ``"change"`` (the values are themselves changes: monthly returns, growth rates, income
  rates): the value itself, against the robust standard deviation of the values.

A move out of a value and back (two flagged changes of opposite sign around one value) is
reported once, at that value (a spike); a flagged move that is not reversed (a level shift, or
the last observation) at the value it moves to. At least :data:`MIN_CHANGES` changes are
needed for the robust rule; the jump rule needs two values.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

__all__ = ["Suspect", "suspect_values", "JUMP_FACTOR", "MAX_ROBUST_SD", "LOCAL_MONTHS",
           "MIN_CHANGES", "Kind"]

Kind = Literal["level", "rate", "auto", "change"]
JUMP_FACTOR = 50.0     # a move of x50 (or /50) or more: a unit slip is x100
MAX_ROBUST_SD = 8.0    # robust standard deviations (1.4826 x MAD) beyond which a move is suspect
LOCAL_MONTHS = 12      # changes either side of a move for the local robust scale
MIN_CHANGES = 12       # changes needed before the robust rule applies
MAD_TO_SD = 1.4826     # MAD -> standard deviation of a normal distribution
MEAN_AD_TO_SD = 1.2533  # mean absolute deviation -> standard deviation (sqrt(pi/2))
RATE_JUMP_FLOOR = 1.0  # percentage points: the jump rule ignores rates below this


@dataclass(frozen=True)
class Suspect:
    """One suspect value of a series.

    ``position``: its position in the series as given (NaNs included), ``at`` its index label;
    ``value`` and ``previous`` (the observation before it, ``None`` for ``"change"``
    series); ``rule``: ``"jump"`` (a factor of ``size`` from the previous value) or
    ``"robust"`` (``size`` robust standard deviations); ``spike``: the next move reverses it."""

    position: int
    at: object
    value: float
    previous: float | None
    rule: str
    size: float
    spike: bool = False

    def describe(self, kind: Kind = "level", on: object = None) -> str:
        """The warning text (without the cell), e.g. ``input suspect: 116363 on 1998-11-30 is
        105.9 times the previous value 1098.67 (a unit slip: cents, percent?)``; ``on``: the
        observation's date when the index is not one (default: ``at`` if it is a date)."""
        on = self.at if on is None else on
        when = f" on {on:%Y-%m-%d}" if isinstance(on, (pd.Timestamp, dt.date)) else ""
        head = f"input suspect: {self.value:.6g}{when}"
        shape = ", then back (a spike)" if self.spike else ""
        if self.rule == "jump":
            ratio = self.value / self.previous if self.previous else math.inf
            how = (f"{ratio:.4g} times" if abs(ratio) >= 1 else f"1/{1 / ratio:.4g} of")
            return (f"{head} is {how} the previous value {self.previous:.6g}{shape} (a unit "
                    "slip: cents, percent, a decimal point?)")
        rule = f"(more than {MAX_ROBUST_SD:g}; robust SD = 1.4826 × MAD)"
        if kind == "change":
            return (f"{head} is {self.size:.3g} robust standard deviations from the median of "
                    f"its column {rule}")
        what = "monthly log changes" if kind == "level" else "monthly changes"
        return (f"{head}: the move from {self.previous:.6g}{shape} is {self.size:.3g} robust "
                f"standard deviations of its {what} {rule}")


def suspect_values(series: pd.Series, kind: Kind = "level") -> list[Suspect]:
    """The suspect values of ``series`` (module docstring), in order.

    ``series``: values in order (NaN = no observation, skipped); for ``"level"`` every value
    must be > 0 (the reader refuses others before this runs: such a series is judged as a
    ``"rate"``). Returns an empty list for a plausible series."""
    s = pd.to_numeric(series, errors="coerce").astype(float)
    x = s.to_numpy()
    pos = np.flatnonzero(np.isfinite(x))
    v = x[pos]
    if kind == "auto":
        if len(v) and (v <= 0).any():
            kind = "rate"
        else:
            lv = _flags(v, "level")
            rt = _flags(v, "rate")
            both = {i: f for i, f in lv.items() if i in rt}
            return _report(s, pos, v, both, "level")
    if kind == "level" and len(v) and (v <= 0).any():
        kind = "rate"
    return _report(s, pos, v, _flags(v, kind), kind)


def _flags(v: np.ndarray, kind: str) -> dict[int, tuple[str, float, float]]:
    """k -> (rule, size, signed change) for each flagged move into value k (``"change"``:
    each flagged value k)."""
    if kind == "change":
        c, offset = v, 0
    elif kind == "level":
        c, offset = np.diff(np.log(v)), 1
    else:
        c, offset = np.diff(v), 1
    out: dict[int, tuple[str, float, float]] = {}
    if len(c) >= MIN_CHANGES:
        z = (c - np.median(c)) / _scale(c)
        for k in np.flatnonzero(np.abs(z) > MAX_ROBUST_SD):
            out[int(k) + offset] = ("robust", float(abs(z[k])), float(c[k]))
    if kind != "change" and len(v) >= 2:
        a, b = v[:-1], v[1:]
        if kind == "level":
            jump = np.abs(c) >= math.log(JUMP_FACTOR)
        else:
            lo, hi = np.minimum(np.abs(a), np.abs(b)), np.maximum(np.abs(a), np.abs(b))
            jump = (hi >= RATE_JUMP_FLOOR) & (hi >= JUMP_FACTOR * lo)
        for k in np.flatnonzero(jump):
            ratio = b[k] / a[k] if a[k] else math.inf
            out[int(k) + 1] = ("jump", float(abs(ratio)), float(c[k]))
    return out


def _scale(c: np.ndarray) -> np.ndarray:
    """Robust standard deviation of the changes, per change: the larger of the whole
    history's and the local window's (module docstring). The local MAD is taken about the
    whole history's median change (so a window needs one rolling median, not one per
    change). A scale of 0 (a constant series) becomes infinite: nothing is flagged by it."""
    med = np.median(c)
    dev = pd.Series(np.abs(c - med))
    whole_mad = float(dev.median())
    w = 2 * LOCAL_MONTHS + 1
    local_mad = dev.rolling(w, center=True, min_periods=LOCAL_MONTHS + 1).median().to_numpy()
    sc = MAD_TO_SD * np.maximum(whole_mad, np.nan_to_num(local_mad))
    if whole_mad == 0:  # more than half the changes equal (a pegged rate): mean deviation
        local_mean = dev.rolling(w, center=True, min_periods=LOCAL_MONTHS + 1).mean()
        sc = np.where(sc > 0, sc, MEAN_AD_TO_SD * np.maximum(
            float(dev.mean()), np.nan_to_num(local_mean.to_numpy())))
    return np.where(sc > 0, sc, np.inf)


def _report(s: pd.Series, pos: np.ndarray, v: np.ndarray,
            flags: dict[int, tuple[str, float, float]], kind: str) -> list[Suspect]:
    out: list[Suspect] = []
    skip: set[int] = set()
    for k in sorted(flags):
        if k in skip:
            continue
        rule, size, change = flags[k]
        spike = False
        if kind != "change" and k + 1 in flags and flags[k + 1][2] * change < 0:
            spike = True
            skip.add(k + 1)  # the move back is the same typing error
            r2, s2, _ = flags[k + 1]
            if rule != "jump" and r2 == "jump":
                rule, size = r2, s2
        prev = float(v[k - 1]) if kind != "change" and k >= 1 else None
        out.append(Suspect(int(pos[k]), s.index[pos[k]], float(v[k]), prev, rule, size, spike))
    return out
