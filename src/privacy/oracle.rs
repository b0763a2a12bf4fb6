//! The differencing oracle: what an attacker who knows who is in each
//! released group learns by weighing the released sums against each
//! other, with any coefficients. The guard's tests (unit and integration)
//! and `belong bench guard` judge a plan with it; the guard itself does not
//! call it.
//!
//! People with the same memberships form a type: only their total can ever
//! be learned. A set S of types is exposed when some non-zero vector
//! supported on S lies in the span of the released groups' indicator
//! vectors, which holds exactly when the columns of S in a basis of the
//! null space are dependent. S is an attack when it holds 1 to k − 1
//! people. The arithmetic is exact, modulo the prime 2⁶¹ − 1.

use std::collections::BTreeMap;

const P: u64 = (1 << 61) - 1;

/// How many candidate sets of types the search tries before it gives up.
const STEPS: u64 = 5_000_000;

/// What the oracle found.
#[derive(Debug, Default)]
pub struct Isolations {
    /// Each exposed set of fewer than k people, as the people's indices.
    pub found: Vec<Vec<usize>>,
    /// False when the search stopped at its step limit, so `found` may be
    /// incomplete.
    pub complete: bool,
}

/// Which people (of `people`, indexed from 0) some combination of the
/// released groups `sets` (each a list of people) isolates in groups of
/// fewer than `k`. A person in no released group is never exposed.
pub fn isolations(sets: &[Vec<usize>], people: usize, k: u32) -> Isolations {
    // Types: people with the same memberships.
    let mut signature: Vec<Vec<usize>> = vec![Vec::new(); people];
    for (s, set) in sets.iter().enumerate() {
        for p in set {
            if signature[*p].last() != Some(&s) {
                signature[*p].push(s);
            }
        }
    }
    let mut by_signature: BTreeMap<&[usize], Vec<usize>> = BTreeMap::new();
    for (p, s) in signature.iter().enumerate() {
        if !s.is_empty() {
            by_signature.entry(s).or_default().push(p);
        }
    }
    let types: Vec<(&[usize], Vec<usize>)> = by_signature.into_iter().collect();
    let matrix: Vec<Vec<u64>> = (0..sets.len())
        .map(|s| types.iter().map(|(sig, _)| u64::from(sig.contains(&s))).collect())
        .collect();
    let null = null_space(&matrix, types.len());
    let column = |t: usize| -> Vec<u64> { null.iter().map(|v| v[t]).collect() };
    let small: Vec<usize> = (0..types.len()).filter(|t| (types[*t].1.len() as u32) < k).collect();
    let mut out = Isolations {
        complete: true,
        ..Isolations::default()
    };
    let mut stack: Vec<(usize, u32, Vec<usize>)> = vec![(0, 0, Vec::new())];
    let mut steps = 0u64;
    while let Some((from, total, chosen)) = stack.pop() {
        for i in from..small.len() {
            let size = types[small[i]].1.len() as u32;
            if total + size >= k {
                continue;
            }
            steps += 1;
            if steps > STEPS {
                out.complete = false;
                return out;
            }
            let mut set = chosen.clone();
            set.push(small[i]);
            let columns: Vec<Vec<u64>> = set.iter().map(|t| column(*t)).collect();
            if rank(&columns) < columns.len() {
                // Exposed; any larger set holding it is exposed too.
                out.found
                    .push(set.iter().flat_map(|t| types[*t].1.iter().copied()).collect());
            } else {
                stack.push((i + 1, total + size, set));
            }
        }
    }
    out
}

fn mul(a: u64, b: u64) -> u64 {
    ((u128::from(a) * u128::from(b)) % u128::from(P)) as u64
}

fn inverse(a: u64) -> u64 {
    let (mut result, mut base, mut exp) = (1u64, a, P - 2);
    while exp > 0 {
        if exp & 1 == 1 {
            result = mul(result, base);
        }
        base = mul(base, base);
        exp >>= 1;
    }
    result
}

/// Reduced row echelon form modulo P: the non-zero rows and their pivot
/// columns.
fn echelon(rows: &[Vec<u64>], width: usize) -> (Vec<Vec<u64>>, Vec<usize>) {
    let mut m: Vec<Vec<u64>> = rows.to_vec();
    let mut pivots = Vec::new();
    let mut r = 0;
    for c in 0..width {
        let Some(p) = (r..m.len()).find(|i| m[*i][c] != 0) else {
            continue;
        };
        m.swap(r, p);
        let f = inverse(m[r][c]);
        for x in m[r].iter_mut() {
            *x = mul(*x, f);
        }
        let pivot = m[r].clone();
        for (i, row) in m.iter_mut().enumerate() {
            if i != r && row[c] != 0 {
                let g = row[c];
                for (x, y) in row.iter_mut().zip(&pivot) {
                    *x = (*x + P - mul(g, *y)) % P;
                }
            }
        }
        pivots.push(c);
        r += 1;
    }
    m.truncate(r);
    (m, pivots)
}

fn rank(vectors: &[Vec<u64>]) -> usize {
    let width = vectors.first().map_or(0, Vec::len);
    if width == 0 {
        // A null space of dimension 0: every set of columns is dependent.
        return 0;
    }
    echelon(vectors, width).1.len()
}

/// A basis of {z : m z = 0}, each vector over the columns.
fn null_space(m: &[Vec<u64>], width: usize) -> Vec<Vec<u64>> {
    let (rows, pivots) = echelon(m, width);
    (0..width)
        .filter(|c| !pivots.contains(c))
        .map(|free| {
            let mut z = vec![0u64; width];
            z[free] = 1;
            for (row, &p) in rows.iter().zip(&pivots) {
                z[p] = (P - row[free]) % P;
            }
            z
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_difference_of_nested_groups_is_found() {
        // {0..6} and {0..5}: their difference is person 5.
        let found = isolations(&[(0..6).collect(), (0..5).collect()], 6, 3);
        assert!(found.complete);
        assert_eq!(found.found, vec![vec![5]]);
    }

    #[test]
    fn a_weighted_combination_is_found() {
        // a = {0,1,2,3}, b = {2,3,4,5}, c = {0,1,4,5,6}: a + b − c = 2·{2,3} − {6},
        // a vector on three people, found although no set difference is small.
        let sets = [vec![0, 1, 2, 3], vec![2, 3, 4, 5], vec![0, 1, 4, 5, 6]];
        let found = isolations(&sets, 7, 4);
        assert!(found.found.iter().any(|s| s.len() < 4), "{found:?}");
    }

    #[test]
    fn disjoint_large_groups_expose_nobody() {
        let found = isolations(&[(0..5).collect(), (5..10).collect()], 12, 5);
        assert!(found.complete && found.found.is_empty(), "{found:?}");
    }
}
