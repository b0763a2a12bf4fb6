//! The statistics every result is made of: share favourable with its Wilson
//! interval, mean, distribution, eNPS. Pure functions on answer values.

/// z for a two-sided 90 % interval.
pub const Z90: f64 = 1.644_853_626_951_472_2;

/// A share with its 90 % Wilson score interval, all in 0–100.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Share {
    pub value: f64,
    pub low: f64,
    pub high: f64,
    pub n: u32,
}

/// The Wilson score interval of `successes` out of `n` (90 %).
pub fn wilson(successes: u32, n: u32) -> Share {
    if n == 0 {
        return Share {
            value: 0.0,
            low: 0.0,
            high: 100.0,
            n,
        };
    }
    let nf = f64::from(n);
    let p = f64::from(successes) / nf;
    let z2 = Z90 * Z90;
    let denom = 1.0 + z2 / nf;
    let centre = (p + z2 / (2.0 * nf)) / denom;
    let half = Z90 * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    Share {
        value: p * 100.0,
        low: ((centre - half).max(0.0)) * 100.0,
        high: ((centre + half).min(1.0)) * 100.0,
        n,
    }
}

/// 4 and 5 on the 1–5 agree scale are favourable.
pub fn is_favourable(value: i64) -> bool {
    value >= 4
}

/// Share favourable of 1–5 answers.
pub fn favourable(values: &[i64]) -> Share {
    let yes = values.iter().filter(|v| is_favourable(**v)).count() as u32;
    wilson(yes, values.len() as u32)
}

/// The Belonging Index: share favourable over all pillar answers of the
/// respondents. Answers of one person are not independent, so the interval
/// uses the number of respondents, not of answers (conservative).
pub fn belonging_index(pillar_answers: &[i64], respondents: u32) -> Share {
    let total = pillar_answers.len() as u32;
    let yes = pillar_answers.iter().filter(|v| is_favourable(**v)).count() as u32;
    if total == 0 || respondents == 0 {
        return wilson(0, 0);
    }
    let p = f64::from(yes) / f64::from(total);
    // Wilson interval for proportion p with n = respondents.
    let n = respondents;
    let scaled = (p * f64::from(n)).round() as u32;
    let mut share = wilson(scaled, n);
    share.value = p * 100.0;
    share.low = share.low.min(share.value);
    share.high = share.high.max(share.value);
    share
}

pub fn mean(values: &[i64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<i64>() as f64 / values.len() as f64
}

/// How many chose each value from `low` to `high`.
pub fn distribution(values: &[i64], low: i64, high: i64) -> Vec<u32> {
    (low..=high)
        .map(|v| values.iter().filter(|x| **x == v).count() as u32)
        .collect()
}

/// Employee Net Promoter Score from 0–10 answers: % 9–10 minus % 0–6.
pub fn enps(values: &[i64]) -> i64 {
    if values.is_empty() {
        return 0;
    }
    let n = values.len() as f64;
    let promoters = values.iter().filter(|v| **v >= 9).count() as f64;
    let detractors = values.iter().filter(|v| **v <= 6).count() as f64;
    ((promoters - detractors) / n * 100.0).round() as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 0.01
    }

    #[test]
    fn wilson_matches_hand_computed_values() {
        // 7 of 10 at 90 %: centre 0.6574, half-width 0.2157 (worked by hand).
        let s = wilson(7, 10);
        assert!(close(s.value, 70.0));
        assert!(close(s.low, 44.17), "{s:?}");
        assert!(close(s.high, 87.31), "{s:?}");
    }

    #[test]
    fn wilson_edges_all_and_none() {
        let all = wilson(5, 5);
        assert!(close(all.value, 100.0) && close(all.high, 100.0));
        assert!(close(all.low, 64.89), "{all:?}");
        let none = wilson(0, 5);
        assert!(close(none.value, 0.0) && close(none.low, 0.0));
        assert!(close(none.high, 35.11), "{none:?}");
        let empty = wilson(0, 0);
        assert_eq!((empty.low, empty.high), (0.0, 100.0));
    }

    #[test]
    fn favourable_counts_fours_and_fives() {
        let s = favourable(&[1, 2, 3, 4, 5, 5]);
        assert!(close(s.value, 50.0));
        assert_eq!(s.n, 6);
    }

    #[test]
    fn belonging_index_uses_all_pillar_answers() {
        // 3 people × 4 answers, 9 favourable: 75 %.
        let answers = [5, 4, 4, 2, 5, 5, 3, 4, 4, 4, 1, 5];
        let bi = belonging_index(&answers, 3);
        assert!(close(bi.value, 75.0));
        assert_eq!(bi.n, 3);
        assert!(bi.low < 75.0 && bi.high > 75.0);
    }

    #[test]
    fn enps_is_promoters_minus_detractors() {
        assert_eq!(enps(&[10, 9, 8, 7, 6, 0]), 0);
        assert_eq!(enps(&[10, 10, 10, 6]), 50);
        assert_eq!(enps(&[0, 1, 2]), -100);
    }

    #[test]
    fn distribution_and_mean() {
        assert_eq!(distribution(&[1, 1, 3, 5], 1, 5), vec![2, 0, 1, 0, 1]);
        assert!(close(mean(&[1, 2, 3, 4]), 2.5));
    }
}
