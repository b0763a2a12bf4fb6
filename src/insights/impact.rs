//! Whether an initiative moved its pillar, estimated only from released
//! team × cycle figures (PRIVACY.md rule 21: a withheld cell is missing,
//! never zero).
//!
//! - **Estimate.** Teams that started in the same cycle form a cohort. Each
//!   cohort is compared with the teams that had not started yet (or never
//!   do), over the cycles before it started and the cycles from its start
//!   until the next cohort starts: for each team the change of its
//!   response-weighted mean (after − before), then the response-weighted
//!   mean change of the cohort minus that of its comparison teams. The
//!   cohorts' differences are combined weighted by their responses. Plain
//!   two-way fixed effects is not used: with staggered starts it compares
//!   late starters with early ones already changed, and is biased.
//! - **Uncertainty.** Exact randomization inference: under "the initiative
//!   did nothing", which teams took part (and when) was one assignment of
//!   the same start labels among all the teams; the statistic, the estimate
//!   over its robust standard error, is recomputed for every assignment
//!   (all of them up to [`ENUMERATE_UP_TO`], else [`SAMPLES`] drawn with a
//!   fixed seed). The p-value is the share at least as extreme as the one
//!   observed; it cannot go below one over the number of assignments,
//!   which is said. The 90 % interval holds every constant effect the test
//!   does not reject at 10 %.
//!
//! Nothing here reads a response: the caller hands over released cells.

use rand::SeedableRng;

/// All assignments are enumerated up to this many.
pub const ENUMERATE_UP_TO: u64 = 20_000;
/// Beyond, this many are drawn (the observed one among them).
pub const SAMPLES: usize = 20_000;
/// The draws' seed, so that a report reads the same every time.
pub const SEED: u64 = 14;
/// The test's level: the interval is 90 %.
pub const ALPHA: f64 = 0.1;
/// The farthest an effect on a 0–100 scale's difference can lie.
const SPAN: f64 = 200.0;
/// Halvings of the search for each end of the interval: 200 / 2⁴⁰ points.
const BISECTIONS: usize = 40;
/// Variances at most this are zero (a cohort of one team, say).
const TINY: f64 = 1e-9;
/// Up to this many teams, each assignment's comparison side is summed
/// team by team; beyond, from the totals less the teams taking part.
const DIRECT: usize = 64;

/// A released figure: a % and the responses it counts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub value: f64,
    pub weight: f64,
}

/// A team's released cells, one per cycle in time order (None where the
/// cycle withheld or did not ask it), and the index of the first cycle in
/// which it took part (None: it did not).
#[derive(Clone, Debug, PartialEq)]
pub struct Unit {
    pub start: Option<usize>,
    pub cells: Vec<Option<Cell>>,
}

/// How a cohort was compared.
#[derive(Clone, Debug, PartialEq)]
pub struct Cohort {
    /// The cycle index it started in.
    pub start: usize,
    /// One past the last cycle it is compared on.
    pub end: usize,
    pub teams: usize,
    pub comparison_teams: usize,
    /// Its difference in differences, in points; None when it has no team
    /// with figures before and after, or nothing to compare with.
    pub effect: Option<f64>,
}

/// What the data say about the effect.
#[derive(Clone, Debug, PartialEq)]
pub struct Inference {
    /// Points of % favourable.
    pub effect: f64,
    pub p_value: f64,
    /// The 90 % interval's ends; None where the test rejects no effect on
    /// that side, however large.
    pub low: Option<f64>,
    pub high: Option<f64>,
    /// The smallest p-value any outcome could give with this design.
    pub min_p: f64,
    /// How many assignments the test weighed, and whether that was all of
    /// them (else a sample drawn with [`SEED`]).
    pub assignments: usize,
    pub enumerated: bool,
    pub cohorts: Vec<Cohort>,
    /// Teams left out: no released figure both before and after any start.
    pub left_out: usize,
}

impl Inference {
    /// The design cannot reach p < 0.1, whatever happened.
    pub fn cannot_tell(&self) -> bool {
        self.min_p >= ALPHA
    }

    /// The interval holds zero (or is open): no headline number.
    pub fn inconclusive(&self) -> bool {
        self.cannot_tell() || self.low.is_none_or(|l| l <= 0.0) && self.high.is_none_or(|h| h >= 0.0)
    }
}

/// One cohort's window: its start, one past its end, and the start labels
/// that are still untreated throughout it.
struct Window {
    start: usize,
    end: usize,
}

/// What one team brings to one cohort's comparison: its change, how much
/// of that change the observed effect would explain, and its weight.
#[derive(Clone, Copy)]
struct Part {
    /// After − before.
    d: f64,
    /// The observed assignment's share of taking part after − before: the
    /// change a constant effect τ adds to `d` is τ·k.
    k: f64,
    w: f64,
}

/// Per assignment and cohort, one side's weighed sums: the statistic for
/// any τ follows from them in constant time.
#[derive(Clone, Copy, Default)]
struct Side {
    w: f64,
    md: f64,
    mk: f64,
    /// Σ (w/Σw)² of (d − md)², (d − md)(k − mk), (k − mk)².
    a: f64,
    b: f64,
    c: f64,
}

impl Side {
    fn of(parts: &[Part]) -> Option<Side> {
        let w: f64 = parts.iter().map(|p| p.w).sum();
        if parts.is_empty() || w <= 0.0 {
            return None;
        }
        let md = parts.iter().map(|p| p.w * p.d).sum::<f64>() / w;
        let mk = parts.iter().map(|p| p.w * p.k).sum::<f64>() / w;
        let mut s = Side {
            w,
            md,
            mk,
            ..Side::default()
        };
        for p in parts {
            let share = (p.w / w).powi(2);
            let (x, y) = (p.d - md, p.k - mk);
            s.a += share * x * x;
            s.b += share * x * y;
            s.c += share * y * y;
        }
        Some(s)
    }

    fn mean(&self, tau: f64) -> f64 {
        self.md - tau * self.mk
    }

    fn variance(&self, tau: f64) -> f64 {
        (self.a - 2.0 * tau * self.b + tau * tau * self.c).max(0.0)
    }
}

/// Raw weighted sums of parts, from which a side follows; they add and
/// subtract, so a large side is the whole less a small one.
#[derive(Clone, Copy, Default)]
struct Raw {
    n: usize,
    w: f64,
    wd: f64,
    wk: f64,
    w2: f64,
    w2d: f64,
    w2k: f64,
    w2dd: f64,
    w2dk: f64,
    w2kk: f64,
}

impl Raw {
    fn of(parts: impl Iterator<Item = Part>) -> Raw {
        let mut r = Raw::default();
        for p in parts {
            let w2 = p.w * p.w;
            r.n += 1;
            r.w += p.w;
            r.wd += p.w * p.d;
            r.wk += p.w * p.k;
            r.w2 += w2;
            r.w2d += w2 * p.d;
            r.w2k += w2 * p.k;
            r.w2dd += w2 * p.d * p.d;
            r.w2dk += w2 * p.d * p.k;
            r.w2kk += w2 * p.k * p.k;
        }
        r
    }

    fn less(&self, o: &Raw) -> Raw {
        Raw {
            n: self.n - o.n,
            w: self.w - o.w,
            wd: self.wd - o.wd,
            wk: self.wk - o.wk,
            w2: self.w2 - o.w2,
            w2d: self.w2d - o.w2d,
            w2k: self.w2k - o.w2k,
            w2dd: self.w2dd - o.w2dd,
            w2dk: self.w2dk - o.w2dk,
            w2kk: self.w2kk - o.w2kk,
        }
    }

    /// The side these sums make: Σ (w/W)² (x − mx)(y − my) expanded.
    fn side(&self) -> Option<Side> {
        if self.n == 0 || self.w <= 0.0 {
            return None;
        }
        let (md, mk, ww) = (self.wd / self.w, self.wk / self.w, self.w * self.w);
        Some(Side {
            w: self.w,
            md,
            mk,
            a: ((self.w2dd - 2.0 * md * self.w2d + md * md * self.w2) / ww).max(0.0),
            b: (self.w2dk - md * self.w2k - mk * self.w2d + md * mk * self.w2) / ww,
            c: ((self.w2kk - 2.0 * mk * self.w2k + mk * mk * self.w2) / ww).max(0.0),
        })
    }
}

/// An assignment's sums: per cohort, the taking-part side and the
/// comparison side (None when either is empty).
struct Sums(Vec<Option<(Side, Side)>>);

impl Sums {
    /// The combined estimate and its variance under effect `tau`.
    fn estimate(&self, tau: f64) -> Option<(f64, f64)> {
        let total: f64 = self.0.iter().flatten().map(|(t, _)| t.w).sum();
        if total <= 0.0 {
            return None;
        }
        let (mut est, mut var) = (0.0, 0.0);
        for (t, c) in self.0.iter().flatten() {
            let share = t.w / total;
            est += share * (t.mean(tau) - c.mean(tau));
            var += share * share * (t.variance(tau) + c.variance(tau));
        }
        Some((est, var))
    }
}

/// An assignment's statistic as a function of τ, compiled from its sums:
/// the estimate is linear in τ (e0 − τ·e1) and its variance quadratic
/// (v0 − 2τ·v1 + τ²·v2), so the test inverts in a few operations per
/// assignment and effect.
#[derive(Clone, Copy)]
struct Line {
    /// Something could be compared.
    some: bool,
    e0: f64,
    e1: f64,
    v0: f64,
    v1: f64,
    v2: f64,
}

impl Line {
    fn of(s: &Sums) -> Line {
        let total: f64 = s.0.iter().flatten().map(|(t, _)| t.w).sum();
        let mut line = Line {
            some: total > 0.0,
            e0: 0.0,
            e1: 0.0,
            v0: 0.0,
            v1: 0.0,
            v2: 0.0,
        };
        if !line.some {
            return line;
        }
        for (t, c) in s.0.iter().flatten() {
            let share = t.w / total;
            line.e0 += share * (t.md - c.md);
            line.e1 += share * (t.mk - c.mk);
            let sq = share * share;
            line.v0 += sq * (t.a + c.a);
            line.v1 += sq * (t.b + c.b);
            line.v2 += sq * (t.c + c.c);
        }
        line
    }

    /// The studentized statistic; 0 when nothing can be compared, ±∞ when
    /// the difference is exact (no spread within either side).
    fn statistic(&self, tau: f64) -> f64 {
        if !self.some {
            return 0.0;
        }
        let est = self.e0 - tau * self.e1;
        let var = (self.v0 - 2.0 * tau * self.v1 + tau * tau * self.v2).max(0.0);
        if var > TINY {
            est / var.sqrt()
        } else if est.abs() <= TINY {
            0.0
        } else {
            est.signum() * f64::INFINITY
        }
    }
}

/// The number of distinct ways to hand out labels with these counts,
/// capped just past `cap`.
fn arrangements(counts: &[usize], cap: u64) -> u64 {
    let mut total: u128 = 1;
    let mut placed: u128 = 0;
    for &c in counts {
        for i in 1..=c as u128 {
            placed += 1;
            total = total * placed / i;
            if total > u128::from(cap) {
                return cap + 1;
            }
        }
    }
    total as u64
}

/// Every distinct arrangement of the labels (a multiset), each once.
fn enumerate(counts: &mut [usize], current: &mut Vec<usize>, n: usize, out: &mut Vec<Vec<usize>>) {
    if current.len() == n {
        out.push(current.clone());
        return;
    }
    for label in 0..counts.len() {
        if counts[label] > 0 {
            counts[label] -= 1;
            current.push(label);
            enumerate(counts, current, n, out);
            current.pop();
            counts[label] += 1;
        }
    }
}

/// Estimates the effect of taking part. None when no cohort has a team
/// with released figures before and after its start and another team to
/// compare it with.
pub fn estimate(units: &[Unit]) -> Option<Inference> {
    estimate_with(units, DIRECT)
}

/// [`estimate`], summing comparison sides team by team up to `direct`
/// teams (the tests set it to check both ways agree).
fn estimate_with(units: &[Unit], direct: usize) -> Option<Inference> {
    let cycles = units.iter().map(|u| u.cells.len()).max().unwrap_or(0);
    // A start past the last cycle is no start within the data.
    let start_of = |u: &Unit| u.start.filter(|s| *s < cycles);
    let mut starts: Vec<usize> = units.iter().filter_map(start_of).collect();
    starts.sort_unstable();
    starts.dedup();
    let windows: Vec<Window> = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| Window {
            start: s,
            end: starts.get(i + 1).copied().unwrap_or(cycles),
        })
        .collect();
    // Each team's part in each cohort's window, where it has figures on
    // both sides of the start.
    let part = |u: &Unit, win: &Window| -> Option<Part> {
        let taking = |c: usize| start_of(u).is_some_and(|s| c >= s);
        let side = |range: std::ops::Range<usize>| {
            let (mut w, mut wy, mut wd) = (0.0, 0.0, 0.0);
            for c in range {
                if let Some(Some(cell)) = u.cells.get(c) {
                    w += cell.weight;
                    wy += cell.weight * cell.value;
                    wd += cell.weight * f64::from(u8::from(taking(c)));
                }
            }
            (w > 0.0).then(|| (w, wy / w, wd / w))
        };
        let (wb, yb, db) = side(0..win.start)?;
        let (wa, ya, da) = side(win.start..win.end)?;
        Some(Part {
            d: ya - yb,
            k: da - db,
            w: wb + wa,
        })
    };
    let all: Vec<Vec<Option<Part>>> = units
        .iter()
        .map(|u| windows.iter().map(|w| part(u, w)).collect())
        .collect();
    // Teams with no part anywhere change nothing and are left out of the
    // assignments too.
    let kept: Vec<usize> = (0..units.len())
        .filter(|&i| all[i].iter().any(Option::is_some))
        .collect();
    let never = windows.len();
    let label_of = |u: &Unit| start_of(u).map_or(never, |s| starts.binary_search(&s).unwrap_or(never));
    let observed: Vec<usize> = kept.iter().map(|&i| label_of(&units[i])).collect();
    let parts: Vec<&Vec<Option<Part>>> = kept.iter().map(|&i| &all[i]).collect();

    // Per cohort, the raw sums over every team with a part in it: the
    // comparison side of an assignment is these less the teams that take
    // part by then, so an assignment costs its few taking-part teams, not
    // every team.
    let totals: Vec<Raw> = (0..windows.len())
        .map(|g| Raw::of(parts.iter().filter_map(|p| p[g])))
        .collect();
    // An assignment, as the teams given a start label (the rest start
    // never): label g takes part in cohort g; a later label, or none,
    // compares.
    let sums = |taking: &[(usize, usize)]| -> Sums {
        Sums(
            (0..windows.len())
                .map(|g| {
                    let treated: Vec<Part> = taking
                        .iter()
                        .filter(|(_, l)| *l == g)
                        .filter_map(|(j, _)| parts[*j][g])
                        .collect();
                    let treated = Side::of(&treated)?;
                    let started = taking.iter().filter(|(_, l)| *l <= g).filter_map(|(j, _)| parts[*j][g]);
                    let compare = if parts.len() <= direct {
                        let out: Vec<usize> = taking.iter().filter(|(_, l)| *l <= g).map(|(j, _)| *j).collect();
                        let rest: Vec<Part> = (0..parts.len())
                            .filter(|j| !out.contains(j))
                            .filter_map(|j| parts[j][g])
                            .collect();
                        Side::of(&rest)?
                    } else {
                        totals[g].less(&Raw::of(started)).side()?
                    };
                    Some((treated, compare))
                })
                .collect(),
        )
    };
    let sparse = |labels: &[usize]| -> Vec<(usize, usize)> {
        labels
            .iter()
            .enumerate()
            .filter(|(_, l)| **l != never)
            .map(|(j, l)| (j, *l))
            .collect()
    };
    let observed_taking = sparse(&observed);
    let observed_sums = sums(&observed_taking);
    let (effect, _) = observed_sums.estimate(0.0)?;

    let mut counts = vec![0usize; windows.len() + 1];
    for &l in &observed {
        counts[l] += 1;
    }
    let total = arrangements(&counts, ENUMERATE_UP_TO);
    let enumerated = total <= ENUMERATE_UP_TO;
    let assignments: Vec<Vec<(usize, usize)>> = if enumerated {
        let mut out = Vec::new();
        enumerate(&mut counts, &mut Vec::new(), observed.len(), &mut out);
        out.iter().map(|a| sparse(a)).collect()
    } else {
        // The same labels on distinct teams drawn at random: the first
        // draws take the first label, and so on.
        let mut rng = rand::rngs::StdRng::seed_from_u64(SEED);
        let labels: Vec<usize> = observed_taking.iter().map(|(_, l)| *l).collect();
        let mut out = vec![observed_taking.clone()];
        while out.len() < SAMPLES {
            let drawn = rand::seq::index::sample(&mut rng, observed.len(), labels.len());
            out.push(drawn.iter().zip(&labels).map(|(j, l)| (j, *l)).collect());
        }
        out
    };
    let null: Vec<Line> = assignments.iter().map(|a| Line::of(&sums(a))).collect();
    let observed_line = Line::of(&observed_sums);
    // Ties count as extreme, through rounding too.
    let bar_at = |tau: f64| {
        let t = observed_line.statistic(tau).abs();
        if t.is_finite() { t - t * 1e-9 - 1e-12 } else { t }
    };
    let p_value = {
        let bar = bar_at(0.0);
        null.iter().filter(|s| s.statistic(0.0).abs() >= bar).count() as f64 / null.len() as f64
    };
    // Whether p(τ) ≥ α, counting only as far as the answer is known: the
    // fewest extreme assignments that make p ≥ α, met or out of reach.
    let need = (0..=null.len())
        .find(|m| *m as f64 / null.len() as f64 >= ALPHA)
        .unwrap_or(null.len());
    let accepted = |tau: f64| -> bool {
        let bar = bar_at(tau);
        let mut extreme = 0;
        for (seen, s) in null.iter().enumerate() {
            if s.statistic(tau).abs() >= bar {
                extreme += 1;
                if extreme >= need {
                    return true;
                }
            } else if extreme + (null.len() - seen - 1) < need {
                return false;
            }
        }
        extreme >= need
    };
    // From the estimate (never rejected) outward, to the last effect not
    // rejected; None when even the farthest is not.
    let bound = |far: f64| -> Option<f64> {
        if accepted(far) {
            return None;
        }
        let (mut inside, mut outside) = (effect, far);
        for _ in 0..BISECTIONS {
            let mid = (inside + outside) / 2.0;
            if accepted(mid) {
                inside = mid;
            } else {
                outside = mid;
            }
        }
        Some(inside)
    };
    let cohorts = windows
        .iter()
        .enumerate()
        .map(|(g, w)| {
            let count = |f: &dyn Fn(usize) -> bool| {
                observed
                    .iter()
                    .enumerate()
                    .filter(|(j, l)| parts[*j][g].is_some() && f(**l))
                    .count()
            };
            Cohort {
                start: w.start,
                end: w.end,
                teams: count(&|l| l == g),
                comparison_teams: count(&|l| l == never || windows[l].start >= w.end),
                effect: observed_sums.0[g].map(|(t, c)| t.mean(0.0) - c.mean(0.0)),
            }
        })
        .collect();
    Some(Inference {
        effect,
        p_value,
        low: bound(effect - SPAN),
        high: bound(effect + SPAN),
        min_p: 1.0 / assignments.len() as f64,
        assignments: assignments.len(),
        enumerated,
        cohorts,
        left_out: units.len() - kept.len(),
    })
}

/// Response-weighted mean per cycle of released cells, over the units
/// `pick` selects; None where none of them has a figure.
pub fn series(units: &[Unit], pick: impl Fn(&Unit) -> bool) -> Vec<Option<f64>> {
    let cycles = units.iter().map(|u| u.cells.len()).max().unwrap_or(0);
    (0..cycles)
        .map(|c| {
            let (mut w, mut wy) = (0.0, 0.0);
            for u in units.iter().filter(|u| pick(u)) {
                if let Some(Some(cell)) = u.cells.get(c) {
                    w += cell.weight;
                    wy += cell.weight * cell.value;
                }
            }
            (w > 0.0).then(|| wy / w)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(start: Option<usize>, values: &[Option<f64>]) -> Unit {
        Unit {
            start,
            cells: values
                .iter()
                .map(|v| v.map(|value| Cell { value, weight: 10.0 }))
                .collect(),
        }
    }

    #[test]
    fn a_two_by_two_is_the_plain_difference_in_differences() {
        // Taking part: 50 → 70 (+20); the other: 60 → 65 (+5). By hand: 15.
        let units = [
            unit(Some(1), &[Some(50.0), Some(70.0)]),
            unit(None, &[Some(60.0), Some(65.0)]),
        ];
        let r = estimate(&units).unwrap();
        assert!((r.effect - 15.0).abs() < 1e-9, "{}", r.effect);
        // Two teams, one taking part: two assignments, p can only be 1.
        assert_eq!((r.assignments, r.enumerated), (2, true));
        assert_eq!(r.min_p, 0.5);
        assert_eq!(r.p_value, 1.0);
        assert!(r.cannot_tell() && r.inconclusive());
        assert_eq!((r.low, r.high), (None, None));
    }

    #[test]
    fn four_teams_one_taking_part_can_never_tell() {
        let units = [
            unit(Some(2), &[Some(40.0), Some(42.0), Some(90.0), Some(92.0)]),
            unit(None, &[Some(60.0), Some(61.0), Some(60.0), Some(62.0)]),
            unit(None, &[Some(55.0), Some(57.0), Some(58.0), Some(54.0)]),
            unit(None, &[Some(70.0), Some(69.0), Some(71.0), Some(70.0)]),
        ];
        let r = estimate(&units).unwrap();
        assert_eq!(r.min_p, 0.25);
        assert!(r.cannot_tell(), "a jump of 50 points, and still 1/4 at best");
        assert!(r.effect > 45.0);
    }

    /// Five teams, two taking part: ten assignments, each computed here by
    /// hand-written brute force (no sums, no shortcuts), and the p-value
    /// is the share at least as extreme.
    #[test]
    fn a_full_enumeration_over_five_teams_matches_brute_force() {
        let rows: [[f64; 4]; 5] = [
            [50.0, 52.0, 71.0, 69.0],
            [44.0, 47.0, 60.0, 66.0],
            [58.0, 57.0, 59.0, 61.0],
            [62.0, 60.0, 64.0, 58.0],
            [49.0, 53.0, 50.0, 52.0],
        ];
        let make = |taking: &[usize]| -> Vec<Unit> {
            rows.iter()
                .enumerate()
                .map(|(i, r)| unit(taking.contains(&i).then_some(2), &r.map(Some)))
                .collect()
        };
        // By hand: each team's change (mean of cycles 2–3 minus 0–1), equal
        // weights, so the estimate is a difference of plain means and the
        // variance Σ (1/n)² (d − mean)² per side.
        let stat = |taking: &[usize]| -> f64 {
            let d: Vec<f64> = rows.iter().map(|r| (r[2] + r[3]) / 2.0 - (r[0] + r[1]) / 2.0).collect();
            let side = |idx: Vec<usize>| {
                let n = idx.len() as f64;
                let m = idx.iter().map(|&i| d[i]).sum::<f64>() / n;
                let v = idx.iter().map(|&i| (d[i] - m).powi(2)).sum::<f64>() / (n * n);
                (m, v)
            };
            let (mt, vt) = side(taking.to_vec());
            let (mc, vc) = side((0..5).filter(|i| !taking.contains(i)).collect());
            (mt - mc) / (vt + vc).sqrt()
        };
        let mut all = Vec::new();
        for a in 0..5 {
            for b in a + 1..5 {
                all.push(stat(&[a, b]));
            }
        }
        let observed = stat(&[0, 1]);
        let expected_p = all.iter().filter(|t| t.abs() >= observed.abs() - 1e-9).count() as f64 / 10.0;
        let r = estimate(&make(&[0, 1])).unwrap();
        assert_eq!((r.assignments, r.enumerated), (10, true));
        assert_eq!(r.p_value, expected_p);
        assert_eq!(r.p_value, 0.1, "the two risers are the most extreme pair");
        let d = |i: usize| (rows[i][2] + rows[i][3] - rows[i][0] - rows[i][1]) / 2.0;
        let by_hand = (d(0) + d(1)) / 2.0 - (d(2) + d(3) + d(4)) / 3.0;
        assert!((r.effect - by_hand).abs() < 1e-9);
        // 1/10 is not below 0.1: this design cannot tell either.
        assert!(r.cannot_tell());
    }

    #[test]
    fn staggered_starts_compare_each_cohort_with_teams_not_yet_started() {
        let units = [
            unit(Some(1), &[Some(50.0), Some(60.0), Some(60.0), Some(60.0)]),
            unit(Some(3), &[Some(50.0), Some(50.0), Some(50.0), Some(58.0)]),
            unit(None, &[Some(50.0), Some(51.0), Some(52.0), Some(53.0)]),
        ];
        let r = estimate(&units).unwrap();
        assert_eq!(r.cohorts.len(), 2);
        // Cohort 1 on cycles 0..3: itself +10 (50 → 60); the late starter
        // 0 and the never starter +1.5 (50 → 51.5), which weigh the same
        // (10 before, 20 after): mean +0.75.
        let first = &r.cohorts[0];
        assert_eq!(
            (first.start, first.end, first.teams, first.comparison_teams),
            (1, 3, 1, 2)
        );
        assert!((first.effect.unwrap() - (10.0 - 0.75)).abs() < 1e-9);
        // Cohort 3: the early starter is no comparison any more.
        let second = &r.cohorts[1];
        assert_eq!((second.teams, second.comparison_teams), (1, 1));
        assert!((second.effect.unwrap() - (8.0 - 2.0)).abs() < 1e-9);
    }

    #[test]
    fn a_missing_cell_is_missing_not_zero() {
        let full = [
            unit(Some(1), &[Some(50.0), Some(70.0), Some(72.0)]),
            unit(None, &[Some(60.0), Some(65.0), Some(66.0)]),
        ];
        let mut gap = full.clone();
        gap[1].cells[2] = None;
        let r = estimate(&gap).unwrap();
        // The other team's after is its one released figure: 65.
        assert!((r.effect - (21.0 - 5.0)).abs() < 1e-9, "{}", r.effect);
        assert!(series(&gap, |u| u.start.is_none())[2].is_none());
    }

    #[test]
    fn the_comparison_side_from_totals_agrees_with_summing_each_team() {
        let units: Vec<Unit> = (0..120)
            .map(|i: i32| {
                let start = match i {
                    0..=2 => Some(3),
                    3..=4 => Some(5),
                    _ => None,
                };
                let values: Vec<Option<f64>> = (0..8)
                    .map(|c: i32| {
                        let lift = if start.is_some_and(|s| c >= s as i32) { 9.0 } else { 0.0 };
                        ((i * 13 + c * 7) % 11 != 0).then(|| 40.0 + f64::from((i * 31 + c * 17) % 37) + lift)
                    })
                    .collect();
                unit(start, &values)
            })
            .collect();
        let (direct, totals) = (
            estimate_with(&units, usize::MAX).unwrap(),
            estimate_with(&units, 0).unwrap(),
        );
        assert!((direct.effect - totals.effect).abs() < 1e-9);
        assert_eq!(direct.p_value, totals.p_value);
        assert_eq!(direct.assignments, totals.assignments);
        for (a, b) in [(direct.low, totals.low), (direct.high, totals.high)] {
            assert!((a.unwrap() - b.unwrap()).abs() < 1e-6, "{a:?} {b:?}");
        }
    }

    #[test]
    fn many_teams_are_sampled_with_a_fixed_seed_and_the_interval_holds_the_estimate() {
        let units: Vec<Unit> = (0..30)
            .map(|i| {
                let base = 50.0 + f64::from(i % 7);
                let lift = if i < 6 { 15.0 } else { 0.0 };
                let noise = |c: i32| f64::from((i * 7 + c * 3) % 5) - 2.0;
                unit(
                    (i < 6).then_some(3),
                    &(0..6)
                        .map(|c| Some(base + noise(c) + if c >= 3 { lift } else { 0.0 }))
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        let r = estimate(&units).unwrap();
        assert!(!r.enumerated && r.assignments == SAMPLES);
        assert!(r.p_value < 0.01 && !r.inconclusive());
        let (low, high) = (r.low.unwrap(), r.high.unwrap());
        assert!(
            low < r.effect && r.effect < high && low > 0.0,
            "{low} {} {high}",
            r.effect
        );
        assert_eq!(estimate(&units), Some(r), "the same draws every time");
    }
}
