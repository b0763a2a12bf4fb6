//! The publication plan: which groups' results may be shown for a cycle.
//!
//! Every released number is a sum over the responses of a group. A person
//! is exposed when some combination of released groups pins down a set of
//! between 1 and k − 1 responses. The plan is decided once, when the cycle
//! closes, from the groups that any page, API call or export accepts:
//!
//! 1. a group with fewer than k responses is never published (rule 7);
//! 2. responses are split into *types* by which published groups they are
//!    in; every released figure is a combination of per-type sums. No
//!    non-zero combination of the published groups may involve fewer than
//!    k responses — not a sum, not a difference, not any weighting. That
//!    is a rank test: the null-space columns of any set of types holding
//!    fewer than k responses must be linearly independent;
//! 3. where that fails, the smallest group whose removal protects the
//!    exposed responses is suppressed, and the test runs again
//!    (complementary suppression), until the plan is consistent.
//!
//! Because the plan is fixed per cycle and every result is served from it,
//! asking in any order, as any user, with any number of colluding users
//! reveals nothing the plan does not.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// A set of responses whose results may be asked for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Group {
    /// Everyone.
    Org,
    /// A team with its sub-teams.
    Team(i64),
    /// A team's own members, without its sub-teams.
    TeamOnly(i64),
    /// People who gave one value to a segment question (tenure band, work
    /// location…).
    Segment { question: String, value: String },
}

impl Group {
    /// A stable text form, used in URLs and storage.
    pub fn key(&self) -> String {
        match self {
            Group::Org => "org".into(),
            Group::Team(id) => format!("team:{id}"),
            Group::TeamOnly(id) => format!("team-only:{id}"),
            Group::Segment { question, value } => format!("segment:{question}={value}"),
        }
    }

    pub fn parse(key: &str) -> Option<Group> {
        if key == "org" {
            return Some(Group::Org);
        }
        if let Some(id) = key.strip_prefix("team-only:") {
            return id.parse().ok().map(Group::TeamOnly);
        }
        if let Some(id) = key.strip_prefix("team:") {
            return id.parse().ok().map(Group::Team);
        }
        let (question, value) = key.strip_prefix("segment:")?.split_once('=')?;
        Some(Group::Segment {
            question: question.into(),
            value: value.into(),
        })
    }
}

/// Why a group is not published.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Suppressed {
    /// Fewer than k responses.
    TooFew,
    /// Publishing it beside the others would isolate fewer than k people.
    Differencing,
    /// Set beside the figures earlier cycles of the pulse released, it
    /// would isolate fewer than k people (someone who joined, left, moved
    /// or skipped a cycle).
    History,
    /// A breakdown by a self-reported answer (work location…), withheld
    /// because the people who answered changed since an earlier cycle
    /// released one: comparing the two would tell who changed.
    SegmentHistory,
}

/// The decision for one cycle.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub k: u32,
    pub published: BTreeSet<Group>,
    #[serde(with = "pairs")]
    pub suppressed: BTreeMap<Group, Suppressed>,
    /// Responses per published group.
    #[serde(with = "pairs")]
    pub sizes: BTreeMap<Group, u32>,
    /// Whether the organization's comments are released.
    #[serde(default)]
    pub comments: Comments,
}

/// The decision on a cycle's comments. They are only ever listed for the
/// whole organization: lists for two overlapping groups would tell that a
/// comment in one and not the other was written by someone in the
/// difference.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comments {
    /// Decided before comments were limited to the organization (the
    /// stored results say what was listed); counted as released.
    #[default]
    Earlier,
    Released,
    /// Fewer than k people wrote one.
    FewWriters,
    /// The organization's figures are not released.
    NoOrganization,
    /// Assuming each person writes the same every cycle, comparing this
    /// list with an earlier cycle's would narrow a comment to fewer than k
    /// people (who joined, left or skipped a cycle).
    History,
}

impl Comments {
    /// Whether the cycle released a comment list.
    pub fn listed(self) -> bool {
        matches!(self, Comments::Earlier | Comments::Released)
    }
}

/// JSON object keys must be strings: maps keyed by a group are stored as
/// lists of pairs.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Group;

    pub fn serialize<V: Serialize, S: Serializer>(map: &BTreeMap<Group, V>, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(map.iter())
    }

    pub fn deserialize<'de, V: Deserialize<'de>, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<Group, V>, D::Error> {
        Ok(Vec::<(Group, V)>::deserialize(d)?.into_iter().collect())
    }
}

impl Plan {
    pub fn allows(&self, group: &Group) -> bool {
        self.published.contains(group)
    }
}

const EPS: f64 = 1e-9;

/// Row-reduced basis of the span of some vectors.
struct Span {
    rows: Vec<Vec<f64>>,
    pivots: Vec<usize>,
}

impl Span {
    fn of(vectors: &[Vec<f64>]) -> Span {
        let mut span = Span {
            rows: Vec::new(),
            pivots: Vec::new(),
        };
        for v in vectors {
            span.add(v.clone());
        }
        span
    }

    /// Reduces `v` by the basis; what is left is outside the span.
    fn reduce(&self, mut v: Vec<f64>) -> Vec<f64> {
        for (row, &p) in self.rows.iter().zip(&self.pivots) {
            let f = v[p];
            if f.abs() > EPS {
                for (x, r) in v.iter_mut().zip(row) {
                    *x -= f * r;
                }
            }
        }
        v
    }

    fn add(&mut self, v: Vec<f64>) {
        let v = self.reduce(v);
        let Some(p) = (0..v.len()).max_by(|a, b| v[*a].abs().total_cmp(&v[*b].abs())) else {
            return;
        };
        if v[p].abs() <= EPS {
            return;
        }
        let lead = v[p];
        let v: Vec<f64> = v.iter().map(|x| x / lead).collect();
        // Keep the basis fully reduced so `reduce` is one pass.
        for row in &mut self.rows {
            let f = row[p];
            if f.abs() > EPS {
                for (x, y) in row.iter_mut().zip(&v) {
                    *x -= f * y;
                }
            }
        }
        self.rows.push(v);
        self.pivots.push(p);
    }
}

/// The dimension of the span of some vectors.
pub fn rank(vectors: &[Vec<f64>]) -> usize {
    Span::of(vectors).rows.len()
}

/// Responses split into types by the published groups they belong to.
struct Types {
    /// For each type, the published groups it is in (as indexes).
    member_of: Vec<Vec<usize>>,
    sizes: Vec<u32>,
    /// For each response, its type.
    of_response: Vec<usize>,
}

fn types(memberships: &[Vec<usize>], published: &[bool]) -> Types {
    let mut index: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut t = Types {
        member_of: Vec::new(),
        sizes: Vec::new(),
        of_response: Vec::with_capacity(memberships.len()),
    };
    for groups in memberships {
        let signature: Vec<usize> = groups.iter().copied().filter(|g| published[*g]).collect();
        let next = t.member_of.len();
        let id = *index.entry(signature.clone()).or_insert(next);
        if id == next {
            t.member_of.push(signature);
            t.sizes.push(0);
        }
        t.sizes[id] += 1;
        t.of_response.push(id);
    }
    t
}

/// The largest system (published groups × types of response) the exact
/// check builds densely: 4 million cells of 8 bytes. A larger plan keeps
/// only the team tree (see [`laminar`]).
const DENSE_CELLS: usize = 4_000_000;

/// The guard for groups that nest (the organization, teams with their
/// sub-teams, a team's own members): every published group's *own part*
/// (its responses in no smaller published group) holds 0 or at least k
/// responses. For nested sets that is exact: what the figures determine
/// is a union of own parts, so it isolates no one below k. Works from the
/// smallest groups up; a group whose own part is too small gives up its
/// smallest published sub-group, whose own part joins its own. Returns the
/// groups it suppressed. Time and memory grow with responses × depth.
fn laminar(memberships: &[Vec<usize>], published: &mut [bool], size: &[u32], k: u32) -> Vec<usize> {
    // Each response's published groups, largest first: a chain.
    let order = |g: &usize| (std::cmp::Reverse(size[*g]), *g);
    let mut parent: HashMap<usize, Option<usize>> = HashMap::new();
    let mut own = vec![0u32; published.len()];
    for m in memberships {
        let mut chain: Vec<usize> = m.iter().copied().filter(|g| published[*g]).collect();
        chain.sort_by_key(order);
        let mut above = None;
        for g in &chain {
            parent.entry(*g).or_insert(above);
            above = Some(*g);
        }
        if let Some(deepest) = chain.last() {
            own[*deepest] += 1;
        }
    }
    let mut children: HashMap<usize, Vec<usize>> = HashMap::new();
    for (g, p) in &parent {
        if let Some(p) = p {
            children.entry(*p).or_default().push(*g);
        }
    }
    // Smallest first is a post-order: a group is larger than its parts.
    let mut groups: Vec<usize> = parent.keys().copied().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(order(g)));
    let mut suppressed = Vec::new();
    for g in groups {
        let mut parts = children.remove(&g).unwrap_or_default();
        parts.sort_by_key(|c| std::cmp::Reverse(order(c)));
        while (1..k).contains(&own[g]) {
            let Some(part) = parts.pop() else { break };
            published[part] = false;
            suppressed.push(part);
            own[g] += own[part];
            parts.extend(children.remove(&part).unwrap_or_default());
            parts.sort_by_key(|c| std::cmp::Reverse(order(c)));
        }
        // What is left of its parts, should it be merged into its parent.
        children.insert(g, parts);
    }
    suppressed
}

/// How many subsets of small types the search may look at before it gives
/// up and treats the plan as unsafe (so it suppresses more, never less).
const SEARCH_BUDGET: u64 = 2_000_000;

/// The responses that the published groups expose: those in a set of
/// types holding 1..k−1 responses on which some non-zero combination of
/// the published groups is supported. `None` when the search ran out of
/// budget.
fn exposed(memberships: &[Vec<usize>], published: &[bool], k: u32) -> Option<Vec<usize>> {
    let t = types(memberships, published);
    let n_types = t.sizes.len();
    let mut vectors = vec![vec![0.0; n_types]; published.len()];
    for (ty, groups) in t.member_of.iter().enumerate() {
        for g in groups {
            vectors[*g][ty] = 1.0;
        }
    }
    let live: Vec<Vec<f64>> = vectors
        .into_iter()
        .enumerate()
        .filter(|(g, _)| published[*g])
        .map(|(_, v)| v)
        .collect();
    let span = Span::of(&live);
    // A 0/1 vector x is in the row space exactly when it is orthogonal to
    // the null space. Each type gets its column of null-space coordinates;
    // a union of types is determined when its columns sum to zero.
    let pivot_row: HashMap<usize, usize> = span.pivots.iter().enumerate().map(|(r, p)| (*p, r)).collect();
    let free: Vec<usize> = (0..n_types).filter(|c| !pivot_row.contains_key(c)).collect();
    let column = |ty: usize| -> Vec<f64> {
        match pivot_row.get(&ty) {
            Some(r) => free.iter().map(|f| -span.rows[*r][*f]).collect(),
            None => free.iter().map(|f| if *f == ty { 1.0 } else { 0.0 }).collect(),
        }
    };
    let mut small: Vec<usize> = (0..n_types).filter(|ty| t.sizes[*ty] < k).collect();
    small.sort_by_key(|ty| t.sizes[*ty]);
    let all: Vec<Vec<f64>> = small.iter().map(|ty| column(*ty)).collect();
    // Only a type in some dependent set of small columns can be exposed:
    // the others are independent of all the rest, so the search skips them.
    let dependent = in_some_dependency(&all);
    let small: Vec<usize> = small
        .iter()
        .zip(&dependent)
        .filter(|(_, d)| **d)
        .map(|(ty, _)| *ty)
        .collect();
    let columns: Vec<Vec<f64>> = all
        .into_iter()
        .zip(&dependent)
        .filter(|(_, d)| **d)
        .map(|(c, _)| c)
        .collect();

    let mut bad = vec![false; small.len()];
    let support: Vec<Vec<usize>> = columns
        .iter()
        .map(|c| (0..c.len()).filter(|i| c[*i].abs() > EPS).collect())
        .collect();
    let mut s = Search {
        small: &small,
        columns: &columns,
        touch: (0..columns.len())
            .map(|i| {
                (0..columns.len())
                    .map(|j| support[i].iter().any(|x| support[j].binary_search(x).is_ok()))
                    .collect()
            })
            .collect(),
        support,
        sizes: &t.sizes,
        k,
        basis: Vec::new(),
        chosen: Vec::new(),
        budget: SEARCH_BUDGET,
    };
    for root in 0..small.len() {
        if s.support[root].is_empty() {
            // Determined on its own.
            bad[root] = true;
            continue;
        }
        s.chosen.push(root);
        let lead = (0..columns[root].len())
            .max_by(|a, b| columns[root][*a].abs().total_cmp(&columns[root][*b].abs()))
            .unwrap_or(0);
        s.basis
            .push((lead, columns[root].iter().map(|x| x / columns[root][lead]).collect()));
        let ok = s.extend(root, t.sizes[small[root]], &mut bad);
        s.basis.pop();
        s.chosen.pop();
        if !ok {
            return None;
        }
    }
    let bad_types: Vec<usize> = small.iter().zip(&bad).filter(|(_, b)| **b).map(|(ty, _)| *ty).collect();
    Some(
        (0..memberships.len())
            .filter(|r| bad_types.contains(&t.of_response[*r]))
            .collect(),
    )
}

/// Depth-first search over sets of small types holding fewer than k
/// responses together. A set whose null-space columns are linearly
/// dependent carries a non-zero vector of the row space: some combination
/// of the answers of fewer than k people — a sum, a difference, any
/// weighting — follows from the released figures.
///
/// Only connected sets are searched: columns that share a non-zero
/// coordinate, grown from each root through later types. A smallest
/// dependent set is always connected (split in two parts with no common
/// coordinate, each part would be dependent on its own), so this finds
/// every exposed type, in far fewer steps than all subsets when many types
/// are small (people who joined, left or skipped, across cycles).
struct Search<'a> {
    small: &'a [usize],
    columns: &'a [Vec<f64>],
    /// Non-zero coordinates of each column.
    support: Vec<Vec<usize>>,
    /// Whether two columns share a non-zero coordinate.
    touch: Vec<Vec<bool>>,
    sizes: &'a [u32],
    k: u32,
    /// Reduced columns of the current set, with their pivots.
    basis: Vec<(usize, Vec<f64>)>,
    chosen: Vec<usize>,
    budget: u64,
}

impl Search<'_> {
    fn touches(&self, i: usize) -> bool {
        self.chosen.iter().any(|c| self.touch[*c][i])
    }

    /// Grows the current set (rooted at `root`, holding `total`) by one
    /// type touching it; marks the types of every dependent set. False
    /// when out of budget.
    fn extend(&mut self, root: usize, total: u32, bad: &mut [bool]) -> bool {
        for i in root + 1..self.small.len() {
            let size = self.sizes[self.small[i]];
            if total + size >= self.k {
                // Sorted by size: every later type is at least as large.
                break;
            }
            if self.chosen.contains(&i) || !self.touches(i) {
                continue;
            }
            if self.budget == 0 {
                return false;
            }
            self.budget -= 1;
            let mut v = self.columns[i].clone();
            for (p, row) in &self.basis {
                let f = v[*p];
                if f.abs() > EPS {
                    for (x, r) in v.iter_mut().zip(row) {
                        *x -= f * r;
                    }
                }
            }
            let pivot = (0..v.len())
                .max_by(|a, b| v[*a].abs().total_cmp(&v[*b].abs()))
                .filter(|p| v[*p].abs() > EPS);
            let Some(p) = pivot else {
                // Dependent: this set is determined.
                for c in &self.chosen {
                    bad[*c] = true;
                }
                bad[i] = true;
                continue;
            };
            let lead = v[p];
            self.basis.push((p, v.iter().map(|x| x / lead).collect()));
            self.chosen.push(i);
            let ok = self.extend(root, total + size, bad);
            self.chosen.pop();
            self.basis.pop();
            if !ok {
                return false;
            }
        }
        true
    }
}

/// How many groups the exact check tries taking out, one at a time, to
/// protect an exposed response before it falls back to the smallest group
/// holding it (each try solves the whole system again).
const TRIALS: usize = 8;

/// The exact check: while some combination of the published groups
/// isolates fewer than k responses, suppresses a group of `movable` (in
/// that order of preference: the first that helps). Groups not in
/// `movable` were released already and stay. Returns what it suppressed.
fn differencing(memberships: &[Vec<usize>], published: &mut [bool], movable: &[usize], k: u32) -> Vec<usize> {
    let mut suppressed = Vec::new();
    loop {
        let order: Vec<usize> = movable.iter().copied().filter(|g| published[*g]).collect();
        if order.is_empty() {
            break;
        }
        let chosen = match exposed(memberships, published, k) {
            Some(bad) if bad.is_empty() => break,
            Some(bad) => {
                // Suppress the first group whose removal protects the first
                // exposed response; failing that, the first containing it.
                let victim = bad[0];
                let fixes = order.iter().copied().take(TRIALS).find(|g| {
                    let mut trial = published.to_vec();
                    trial[*g] = false;
                    exposed(memberships, &trial, k).is_some_and(|b| !b.contains(&victim))
                });
                fixes
                    .or_else(|| order.iter().copied().find(|g| memberships[victim].contains(g)))
                    .unwrap_or(order[0])
            }
            // Too many small types to search: be conservative.
            None => order[0],
        };
        published[chosen] = false;
        suppressed.push(chosen);
    }
    suppressed
}

/// Groups smallest first, the whole organization last: it is the figure
/// everyone needs, so smaller groups go first.
fn smallest_first(candidates: &[Group], among: impl Iterator<Item = usize>, size: &[u32]) -> Vec<usize> {
    let mut order: Vec<usize> = among.collect();
    order.sort_by_key(|g| (candidates[*g] == Group::Org, size[*g], candidates[*g].clone()));
    order
}

/// Decides which of `candidates` may be published, given for each response
/// the candidate groups it belongs to.
pub fn decide(candidates: &[Group], responses: &[Vec<Group>], k: u32) -> Plan {
    decide_with(candidates, responses, k, &BTreeSet::new())
}

/// [`decide`], where `forced` were released already over these same
/// responses (an earlier cycle answered by the same people in the same
/// groups): they stay in the system the check solves and are never the
/// ones suppressed; releasing them again adds nothing.
pub fn decide_with(candidates: &[Group], responses: &[Vec<Group>], k: u32, forced: &BTreeSet<Group>) -> Plan {
    let mut all = candidates.to_vec();
    all.extend(forced.iter().filter(|g| !candidates.contains(g)).cloned());
    let candidates = &all[..];
    let index: HashMap<&Group, usize> = candidates.iter().enumerate().map(|(i, g)| (g, i)).collect();
    let memberships: Vec<Vec<usize>> = responses
        .iter()
        .map(|gs| gs.iter().filter_map(|g| index.get(g).copied()).collect())
        .collect();
    let mut size = vec![0u32; candidates.len()];
    for m in &memberships {
        for g in m {
            size[*g] += 1;
        }
    }
    let mut plan = Plan { k, ..Plan::default() };
    let mut published: Vec<bool> = candidates
        .iter()
        .zip(&size)
        .map(|(g, n)| *n >= k || forced.contains(g))
        .collect();
    for (g, group) in candidates.iter().enumerate() {
        if !published[g] {
            plan.suppressed.insert(group.clone(), Suppressed::TooFew);
        }
    }
    let live = published.iter().filter(|p| **p).count();
    if live * types(&memberships, &published).sizes.len() <= DENSE_CELLS {
        let movable = smallest_first(
            candidates,
            (0..candidates.len()).filter(|g| !forced.contains(&candidates[*g])),
            &size,
        );
        for g in differencing(&memberships, &mut published, &movable, k) {
            plan.suppressed.insert(candidates[g].clone(), Suppressed::Differencing);
        }
    } else {
        // Too large for the exact check's dense system: fall back to the
        // team tree alone, which is checked exactly and cheaply.
        for (g, group) in candidates.iter().enumerate() {
            if published[g] && matches!(group, Group::Segment { .. }) {
                published[g] = false;
                plan.suppressed.insert(group.clone(), Suppressed::Differencing);
            }
        }
        for g in laminar(&memberships, &mut published, &size, k) {
            plan.suppressed.insert(candidates[g].clone(), Suppressed::Differencing);
        }
    }
    for (g, group) in candidates.iter().enumerate() {
        if published[g] {
            plan.published.insert(group.clone());
            plan.sizes.insert(group.clone(), size[g]);
        }
    }
    plan
}

/// For each vector, whether it takes part in some linear dependency of
/// them all (elimination that keeps track of each row's combination).
fn in_some_dependency(vectors: &[Vec<f64>]) -> Vec<bool> {
    let m = vectors.len();
    let mut rows: Vec<(usize, Vec<f64>, Vec<f64>)> = Vec::new();
    let mut dependent = vec![false; m];
    for (i, v) in vectors.iter().enumerate() {
        let mut v = v.clone();
        let mut combo = vec![0.0; m];
        combo[i] = 1.0;
        for (p, row, row_combo) in &rows {
            let f = v[*p];
            if f.abs() > EPS {
                for (x, r) in v.iter_mut().zip(row) {
                    *x -= f * r;
                }
                for (x, r) in combo.iter_mut().zip(row_combo) {
                    *x -= f * r;
                }
            }
        }
        match (0..v.len())
            .max_by(|a, b| v[*a].abs().total_cmp(&v[*b].abs()))
            .filter(|p| v[*p].abs() > EPS)
        {
            Some(p) => {
                let lead = v[p];
                rows.push((
                    p,
                    v.iter().map(|x| x / lead).collect(),
                    combo.iter().map(|x| x / lead).collect(),
                ));
            }
            None => {
                for (d, c) in dependent.iter_mut().zip(&combo) {
                    *d |= c.abs() > EPS;
                }
            }
        }
    }
    dependent
}

/// How many people are in one of two sorted lists and not the other.
fn symmetric_difference(a: &[usize], b: &[usize]) -> usize {
    let (mut i, mut j, mut n) = (0, 0, 0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => {
                i += 1;
                n += 1;
            }
            std::cmp::Ordering::Greater => {
                j += 1;
                n += 1;
            }
            std::cmp::Ordering::Equal => {
                i += 1;
                j += 1;
            }
        }
    }
    n + (a.len() - i) + (b.len() - j)
}

/// An earlier closed cycle of the same pulse as an attacker who knows the
/// roster sees it: what it released of the groups a roster decides, and,
/// for each person who answered it, those groups they were in.
#[derive(Clone, Debug, Default)]
pub struct Earlier {
    pub released: BTreeSet<Group>,
    pub respondents: HashMap<i64, Vec<Group>>,
}

/// Whether a comment list for everyone who answered `current` may be
/// released after the lists of `earlier` cycles (who answered each).
/// Worst case, a person writes the same comment every cycle, so a comment
/// points at the people who answered exactly the cycles whose lists hold
/// it. Each such set of people this list splits (some answered now, some
/// did not) must keep at least k on both sides, and the people answering
/// for the first time must be none or at least k.
pub fn comments_safe(current: &BTreeSet<i64>, earlier: &[&BTreeSet<i64>], k: u32) -> bool {
    let mut pattern: HashMap<i64, Vec<usize>> = HashMap::new();
    for (c, people) in earlier.iter().enumerate() {
        for p in people.iter() {
            pattern.entry(*p).or_default().push(c);
        }
    }
    // For each earlier pattern, (answered now, did not).
    let mut split: HashMap<Vec<usize>, (u32, u32)> = HashMap::new();
    for (p, cycles) in &pattern {
        let e = split.entry(cycles.clone()).or_default();
        if current.contains(p) {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    let new = current.iter().filter(|p| !pattern.contains_key(p)).count() as u32;
    let fits = |n: u32| n == 0 || n >= k;
    fits(new)
        && split
            .values()
            .all(|(now, not)| *now == 0 || *not == 0 || (*now >= k && *not >= k))
}

/// The guard across cycles. Assumes the worst: each person gives the same
/// answers in every cycle, so every figure ever released by the pulse is
/// an equation over the same unknowns, one per person. `current` gives,
/// for each person who answered this cycle, the roster groups they are in
/// (organization, teams, tenure band); the groups of `plan` among them are
/// checked together with everything `earlier` cycles released, and the
/// smallest are suppressed (the organization last) until no combination of
/// them all isolates 1..k−1 people. Earlier releases never change, and
/// they were checked the same way, so suppressing enough always ends safe.
///
/// A system too large for the exact check keeps only the groups whose
/// respondents are exactly those of a group released before: that adds no
/// equation, so it cannot expose anyone.
///
/// `strict`: earlier cycles released figures this check cannot place (a
/// breakdown by self-reported answers, which the server cannot tie to
/// people), so only groups that add no equation at all are kept.
pub fn history(plan: &mut Plan, current: &HashMap<i64, Vec<Group>>, earlier: &[Earlier], strict: bool) {
    if earlier.iter().all(|e| e.released.is_empty()) {
        return;
    }
    // Columns: (cycle, group); the current cycle is `earlier.len()`.
    let mut columns: Vec<(usize, Group)> = Vec::new();
    let mut column_of: HashMap<(usize, &Group), usize> = HashMap::new();
    let now = earlier.len();
    for (c, e) in earlier.iter().enumerate() {
        for g in &e.released {
            column_of.insert((c, g), columns.len());
            columns.push((c, g.clone()));
        }
    }
    let first_current = columns.len();
    let roster_groups: BTreeSet<&Group> = current.values().flatten().collect();
    for g in plan.published.iter().filter(|g| roster_groups.contains(g)) {
        column_of.insert((now, g), columns.len());
        columns.push((now, g.clone()));
    }
    if columns.len() == first_current {
        return;
    }
    let mut person_index: HashMap<i64, usize> = HashMap::new();
    let mut memberships: Vec<Vec<usize>> = Vec::new();
    let cycles = earlier.iter().map(|e| &e.respondents).chain(std::iter::once(current));
    for (c, respondents) in cycles.enumerate() {
        for (person, groups) in respondents {
            let at = *person_index.entry(*person).or_insert_with(|| {
                memberships.push(Vec::new());
                memberships.len() - 1
            });
            memberships[at].extend(groups.iter().filter_map(|g| column_of.get(&(c, g)).copied()));
        }
    }
    let mut size = vec![0u32; columns.len()];
    for m in &memberships {
        for g in m {
            size[*g] += 1;
        }
    }
    let mut published = vec![true; columns.len()];
    let groups: Vec<Group> = columns.iter().map(|(_, g)| g.clone()).collect();
    // Each column's people, to compare as sets.
    let mut sets: Vec<Vec<usize>> = vec![Vec::new(); columns.len()];
    for (p, m) in memberships.iter().enumerate() {
        for g in m {
            sets[*g].push(p);
        }
    }
    // The common case first, cheaply: a group that differs from a group
    // released before by 1..k−1 people (a leaver, a joiner, a skipper) is
    // that difference. The exact check below finds the rest.
    let mut suppressed: Vec<usize> = Vec::new();
    for g in first_current..columns.len() {
        let close = sets[..first_current]
            .iter()
            .any(|before| (1..plan.k as usize).contains(&symmetric_difference(&sets[g], before)));
        if close {
            published[g] = false;
            suppressed.push(g);
        }
    }
    let t = types(&memberships, &published);
    suppressed.extend(if !strict && columns.len() * t.sizes.len() <= DENSE_CELLS {
        // A column the earlier ones already span adds no equation:
        // suppressing it would protect no one.
        let mut vectors = vec![vec![0.0; t.sizes.len()]; columns.len()];
        for (ty, groups) in t.member_of.iter().enumerate() {
            for g in groups {
                vectors[*g][ty] = 1.0;
            }
        }
        let before = Span::of(&vectors[..first_current]);
        let new =
            (first_current..columns.len()).filter(|g| before.reduce(vectors[*g].clone()).iter().any(|x| x.abs() > EPS));
        let movable = smallest_first(&groups, new.filter(|g| published[*g]), &size);
        differencing(&memberships, &mut published, &movable, plan.k)
    } else {
        let before: std::collections::HashSet<&Vec<usize>> = sets[..first_current].iter().collect();
        (first_current..columns.len())
            .filter(|g| published[*g] && !before.contains(&sets[*g]))
            .collect()
    });
    for g in suppressed {
        let group = &columns[g].1;
        plan.published.remove(group);
        plan.sizes.remove(group);
        plan.suppressed.insert(group.clone(), Suppressed::History);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(v: &str) -> Group {
        Group::Segment {
            question: "where".into(),
            value: v.into(),
        }
    }

    fn people(n: usize, groups: &[Group]) -> Vec<Vec<Group>> {
        vec![groups.to_vec(); n]
    }

    /// The differencing oracle finds no combination of published groups,
    /// with any weights, that isolates 1 to k − 1 responses.
    fn assert_safe(plan: &Plan, responses: &[Vec<Group>]) {
        let sets: Vec<Vec<usize>> = plan
            .published
            .iter()
            .map(|g| (0..responses.len()).filter(|r| responses[*r].contains(g)).collect())
            .collect();
        let found = crate::privacy::oracle::isolations(&sets, responses.len(), plan.k);
        assert!(found.complete, "the oracle's search is too large for this test");
        assert!(
            found.found.is_empty(),
            "{:?} isolates {:?}",
            plan.published,
            found.found
        );
    }

    #[test]
    fn a_group_below_k_is_never_published() {
        let responses = people(4, &[Group::Org]);
        let plan = decide(&[Group::Org], &responses, 5);
        assert!(!plan.allows(&Group::Org));
        assert_eq!(plan.suppressed[&Group::Org], Suppressed::TooFew);
    }

    #[test]
    fn nested_teams_differing_by_fewer_than_k_are_suppressed() {
        // Team 1 has 10 responses, its sub-team 2 has 8: 1 − 2 would be 2.
        let mut responses = people(8, &[Group::Org, Group::Team(1), Group::Team(2)]);
        responses.extend(people(2, &[Group::Org, Group::Team(1), Group::TeamOnly(1)]));
        responses.extend(people(6, &[Group::Org]));
        let candidates = [Group::Org, Group::Team(1), Group::Team(2), Group::TeamOnly(1)];
        let plan = decide(&candidates, &responses, 5);
        assert!(plan.allows(&Group::Org));
        assert!(!plan.allows(&Group::TeamOnly(1)), "only 2");
        assert_eq!(plan.published.len(), 2, "{plan:?}");
        assert_safe(&plan, &responses);
    }

    #[test]
    fn the_person_who_preferred_not_to_say_stays_hidden() {
        // org 19 = remote 10 + on-site 8 + 1 who did not say.
        let mut responses = people(10, &[Group::Org, seg("remote")]);
        responses.extend(people(8, &[Group::Org, seg("on-site")]));
        responses.extend(people(1, &[Group::Org]));
        let plan = decide(&[Group::Org, seg("remote"), seg("on-site")], &responses, 5);
        assert!(plan.allows(&Group::Org));
        assert!(plan.allows(&seg("remote")));
        assert!(!plan.allows(&seg("on-site")), "the smaller side is suppressed");
        assert_eq!(plan.suppressed[&seg("on-site")], Suppressed::Differencing);
        assert_safe(&plan, &responses);
    }

    #[test]
    fn crossing_dimensions_cannot_isolate_a_person() {
        // Team 1 (5) is all remote; one of team 2 (5) is remote too:
        // remote − team 1 would be that one person.
        let mut responses = people(5, &[Group::Org, Group::Team(1), seg("remote")]);
        responses.extend(people(1, &[Group::Org, Group::Team(2), seg("remote")]));
        responses.extend(people(4, &[Group::Org, Group::Team(2), seg("office")]));
        let candidates = [Group::Org, Group::Team(1), Group::Team(2), seg("remote"), seg("office")];
        let plan = decide(&candidates, &responses, 5);
        assert!(!plan.published.is_empty());
        assert_safe(&plan, &responses);
    }

    #[test]
    fn the_difference_between_two_people_is_not_released() {
        // Team 1 and "remote" share six people; each has one more of its
        // own (A in team 1, B remote). Team 1 − remote = A − B.
        let mut responses = people(6, &[Group::Org, Group::Team(1), seg("remote")]);
        responses.extend(people(1, &[Group::Org, Group::Team(1)]));
        responses.extend(people(1, &[Group::Org, seg("remote")]));
        responses.extend(people(6, &[Group::Org]));
        let plan = decide(&[Group::Org, Group::Team(1), seg("remote")], &responses, 5);
        assert!(plan.allows(&Group::Org));
        assert!(
            !(plan.allows(&Group::Team(1)) && plan.allows(&seg("remote"))),
            "{plan:?}"
        );
        assert_safe(&plan, &responses);
    }

    /// The fallback for large plans, on random team trees small enough to
    /// check by brute force.
    #[test]
    fn the_team_tree_fallback_is_safe_on_random_trees() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..300 {
            let k = rng.gen_range(2..=5u32);
            let teams = rng.gen_range(1..=4usize);
            // Team i's parent is a team before it, or none.
            let parents: Vec<Option<usize>> = (0..teams)
                .map(|i| {
                    if i == 0 || rng.gen_bool(0.3) {
                        None
                    } else {
                        Some(rng.gen_range(0..i))
                    }
                })
                .collect();
            let mut candidates = vec![Group::Org];
            for t in 0..teams {
                candidates.push(Group::Team(t as i64));
                candidates.push(Group::TeamOnly(t as i64));
            }
            let responses: Vec<Vec<Group>> = (0..rng.gen_range(1..30))
                .map(|_| {
                    let mut gs = vec![Group::Org];
                    if rng.gen_bool(0.9) {
                        let t = rng.gen_range(0..teams);
                        gs.push(Group::TeamOnly(t as i64));
                        let mut at = Some(t);
                        while let Some(x) = at {
                            gs.push(Group::Team(x as i64));
                            at = parents[x];
                        }
                    }
                    gs
                })
                .collect();
            let index: HashMap<&Group, usize> = candidates.iter().enumerate().map(|(i, g)| (g, i)).collect();
            let memberships: Vec<Vec<usize>> = responses
                .iter()
                .map(|gs| gs.iter().map(|g| index[g]).collect())
                .collect();
            let mut size = vec![0u32; candidates.len()];
            for m in &memberships {
                for g in m {
                    size[*g] += 1;
                }
            }
            let mut published: Vec<bool> = size.iter().map(|n| *n >= k).collect();
            laminar(&memberships, &mut published, &size, k);
            let plan = Plan {
                k,
                published: (0..candidates.len())
                    .filter(|g| published[*g])
                    .map(|g| candidates[g].clone())
                    .collect(),
                ..Plan::default()
            };
            assert_safe(&plan, &responses);
        }
    }

    #[test]
    fn random_organisations_always_get_a_safe_plan() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
        for round in 0..300 {
            let k = rng.gen_range(3..=5);
            let teams = rng.gen_range(2..=4);
            let n = rng.gen_range(5..=40);
            let responses: Vec<Vec<Group>> = (0..n)
                .map(|_| {
                    let team = rng.gen_range(1..=teams);
                    let mut g = vec![Group::Org, Group::Team(team)];
                    // Teams 2.. sit inside team 1.
                    if team != 1 {
                        g.push(Group::Team(1));
                    } else {
                        g.push(Group::TeamOnly(1));
                    }
                    match rng.gen_range(0..3) {
                        0 => g.push(seg("remote")),
                        1 => g.push(seg("office")),
                        _ => {}
                    }
                    g
                })
                .collect();
            let mut candidates = vec![Group::Org, Group::TeamOnly(1), seg("remote"), seg("office")];
            candidates.extend((1..=teams).map(Group::Team));
            let plan = decide(&candidates, &responses, k);
            assert_safe(&plan, &responses);
            assert!(plan.published.iter().all(|g| plan.sizes[g] >= k), "round {round}");
        }
    }

    /// The differencing oracle over sets of people (each person assumed to
    /// answer the same in every set).
    fn assert_no_small_combination(sets: &[BTreeSet<usize>], people: usize, k: u32) {
        let sets: Vec<Vec<usize>> = sets.iter().map(|s| s.iter().copied().collect()).collect();
        let found = crate::privacy::oracle::isolations(&sets, people, k);
        assert!(found.complete, "the oracle's search is too large for this test");
        assert!(
            found.found.is_empty(),
            "released sets {sets:?} isolate {:?}",
            found.found
        );
    }

    /// Random organizations of up to 11 people over 2–4 cycles, with
    /// joiners, leavers, moves and skippers, each cycle decided within
    /// itself and then across cycles: everything the pulse released, all
    /// cycles together, passes the exhaustive check (each person assumed
    /// to answer the same every cycle).
    #[test]
    fn the_guard_across_cycles_passes_exhaustive_search() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(99);
        let mut released_later = 0;
        for round in 0..300 {
            let k = rng.gen_range(3..=4u32);
            let people = rng.gen_range(5..=11usize);
            let teams = rng.gen_range(1..=3i64);
            // Team 2 sits inside team 1 when nested.
            let nested = rng.gen_bool(0.5);
            let mut team: Vec<i64> = (0..people).map(|_| rng.gen_range(1..=teams)).collect();
            let mut band: Vec<bool> = (0..people).map(|_| rng.gen_bool(0.5)).collect();
            let mut active = vec![true; people];
            let groups_of = |t: i64, b: bool| {
                let mut g = vec![Group::Org, Group::Team(t)];
                if nested && t == 2 {
                    g.push(Group::Team(1));
                }
                if nested && t == 1 {
                    g.push(Group::TeamOnly(1));
                }
                g.push(seg(if b { "new" } else { "old" }));
                g
            };
            let mut candidates = vec![Group::Org, Group::TeamOnly(1), seg("new"), seg("old")];
            candidates.extend((1..=teams).map(Group::Team));
            let mut earlier: Vec<Earlier> = Vec::new();
            let mut all: Vec<BTreeSet<usize>> = Vec::new();
            for cycle in 0..rng.gen_range(2..=4) {
                if cycle > 0 {
                    let p = rng.gen_range(0..people);
                    match rng.gen_range(0..4) {
                        0 => active[p] = !active[p],
                        1 => team[p] = rng.gen_range(1..=teams),
                        2 => band[p] = !band[p],
                        _ => {}
                    }
                }
                let answering: Vec<usize> = (0..people).filter(|p| active[*p] && rng.gen_bool(0.85)).collect();
                let current: HashMap<i64, Vec<Group>> = answering
                    .iter()
                    .map(|p| (*p as i64, groups_of(team[*p], band[*p])))
                    .collect();
                let responses: Vec<Vec<Group>> = answering.iter().map(|p| current[&(*p as i64)].clone()).collect();
                let mut plan = decide(&candidates, &responses, k);
                history(&mut plan, &current, &earlier, false);
                assert!(plan.published.iter().all(|g| plan.sizes[g] >= k), "round {round}");
                for g in &plan.published {
                    all.push(
                        answering
                            .iter()
                            .copied()
                            .filter(|p| current[&(*p as i64)].contains(g))
                            .collect(),
                    );
                }
                if cycle > 0 {
                    released_later += plan.published.len();
                }
                assert_no_small_combination(&all, people, k);
                earlier.push(Earlier {
                    released: plan.published.clone(),
                    respondents: current,
                });
            }
        }
        assert!(
            released_later > 300,
            "later cycles still release figures: {released_later}"
        );
    }

    #[test]
    fn comment_lists_split_no_one_below_k() {
        let set = |r: std::ops::Range<i64>| r.collect::<BTreeSet<i64>>();
        let first = set(0..10);
        // The same people: fine. One skipper: their comment would be the
        // one missing. Five skippers, or a first list: fine.
        assert!(comments_safe(&first, &[&first], 5));
        assert!(!comments_safe(&set(1..10), &[&first], 5));
        assert!(comments_safe(&set(5..10), &[&first], 5));
        assert!(comments_safe(&first, &[], 5));
        // One joiner: the new comment is theirs.
        assert!(!comments_safe(&set(0..11), &[&first], 5));
        // Two cycles listed alike, then one skipper: still the one missing.
        assert!(!comments_safe(&set(1..10), &[&first, &first], 5));
        // Five leave and five others join: every comment points at five.
        assert!(comments_safe(&set(5..15), &[&first], 5));
    }

    #[test]
    fn a_plan_survives_storage() {
        let responses = people(6, &[Group::Org, Group::Team(1)]);
        let plan = decide(&[Group::Org, Group::Team(1), Group::Team(2)], &responses, 5);
        let json = serde_json::to_string(&plan).unwrap();
        assert_eq!(serde_json::from_str::<Plan>(&json).unwrap(), plan);
    }

    #[test]
    fn group_keys_round_trip() {
        for g in [Group::Org, Group::Team(42), Group::TeamOnly(7), seg("remote")] {
            assert_eq!(Group::parse(&g.key()), Some(g));
        }
        assert_eq!(Group::parse("team:x"), None);
        assert_eq!(Group::parse("nonsense"), None);
    }
}
