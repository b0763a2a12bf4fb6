"""An independent reading of the impact report's statistics, for the tests.

Written from the definitions in src/insights/impact.rs's documentation, not
from its code: brute force over every assignment of the start labels, each
statistic computed from the cells themselves (with the effect tau taken
off the observed taking-part cells), numpy for the arithmetic.

Reads a JSON list of units ({"start": int|null, "cells": [[value, weight]|null]})
on stdin; writes {"effect", "p_value", "low", "high", "min_p", "assignments"}.
"""

import json
import sys

import numpy as np

ALPHA = 0.1
SPAN = 200.0
TINY = 1e-9


def main():
    units = json.load(sys.stdin)
    n = max(len(u["cells"]) for u in units)
    value = np.full((len(units), n), np.nan)
    weight = np.zeros((len(units), n))
    for i, u in enumerate(units):
        for c, cell in enumerate(u["cells"]):
            if cell is not None:
                value[i, c], weight[i, c] = cell
    start = [u["start"] if u["start"] is not None and u["start"] < n else None for u in units]
    starts = sorted({s for s in start if s is not None})
    ends = starts[1:] + [n]
    taking = np.array([[s is not None and c >= s for c in range(n)] for s in start], dtype=float)

    def change(i, g, y):
        """Team i's (after - before, weight) in cohort g's window, or None."""
        s, e = starts[g], ends[g]
        before, after = weight[i, :s], weight[i, s:e]
        if before.sum() <= 0 or after.sum() <= 0:
            return None
        mb = np.nansum(before * y[i, :s]) / before.sum()
        ma = np.nansum(after * y[i, s:e]) / after.sum()
        return ma - mb, before.sum() + after.sum()

    kept = [i for i in range(len(units)) if any(change(i, g, value) is not None for g in range(len(starts)))]
    never = len(starts)
    observed = [starts.index(start[i]) if start[i] is not None else never for i in kept]

    def changes(tau):
        """Every kept team's change in every window, tau taken off."""
        y = value - tau * taking
        return [[change(i, g, y) for g in range(len(starts))] for i in kept]

    def statistic(labels, table):
        parts, total = [], 0.0
        for g in range(len(starts)):
            treated, compared = [], []
            for j in range(len(kept)):
                ch = table[j][g]
                if ch is None:
                    continue
                if labels[j] == g:
                    treated.append(ch)
                elif labels[j] == never or starts[labels[j]] >= ends[g]:
                    compared.append(ch)
            if not treated or not compared:
                continue
            sides = []
            for side in (treated, compared):
                d = np.array([x for x, _ in side])
                w = np.array([x for _, x in side])
                m = np.dot(w, d) / w.sum()
                sides.append((m, np.sum((w / w.sum()) ** 2 * (d - m) ** 2), w.sum()))
            parts.append((sides[0][0] - sides[1][0], sides[0][1] + sides[1][1], sides[0][2]))
            total += sides[0][2]
        if not parts:
            return None, 0.0
        est = sum(wt / total * e for e, _, wt in parts)
        var = sum((wt / total) ** 2 * v for _, v, wt in parts)
        if var > TINY:
            return est, est / np.sqrt(var)
        if abs(est) <= TINY:
            return est, 0.0
        return est, np.sign(est) * np.inf

    def arrangements(labels):
        """Every distinct way to place the multiset of labels."""
        out = []

        def place(slots, remaining):
            if not remaining:
                out.append(list(slots))
                return
            label, count = remaining[0]
            free = [k for k, x in enumerate(slots) if x is None]
            from itertools import combinations

            for chosen in combinations(free, count):
                for k in chosen:
                    slots[k] = label
                place(slots, remaining[1:])
                for k in chosen:
                    slots[k] = None

        counts = [(lab, labels.count(lab)) for lab in sorted(set(labels))]
        place([None] * len(labels), counts)
        return out

    every = arrangements(observed)

    def p_at(tau):
        table = changes(tau)
        _, t = statistic(observed, table)
        t = abs(t)
        bar = t - t * 1e-9 - 1e-12 if np.isfinite(t) else t
        return sum(abs(statistic(a, table)[1]) >= bar for a in every) / len(every)

    effect, _ = statistic(observed, changes(0.0))

    def bound(far):
        if p_at(far) >= ALPHA:
            return None
        inside, outside = effect, far
        for _ in range(40):
            mid = (inside + outside) / 2
            if p_at(mid) >= ALPHA:
                inside = mid
            else:
                outside = mid
        return inside

    json.dump(
        {
            "effect": effect,
            "p_value": p_at(0.0),
            "low": bound(effect - SPAN),
            "high": bound(effect + SPAN),
            "min_p": 1 / len(every),
            "assignments": len(every),
        },
        sys.stdout,
    )


main()
