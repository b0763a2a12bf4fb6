//! The trend chart as inline SVG, drawn on the server: the Belonging Index
//! per cycle with its 90 % interval as a band.

use std::fmt::Write;

use super::service::Point;
use crate::privacy::stats::Share;
use crate::shared::markup::escape;

const W: f64 = 640.0;
const H: f64 = 220.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

fn y(v: f64) -> f64 {
    TOP + (100.0 - v.clamp(0.0, 100.0)) / 100.0 * (H - TOP - BOTTOM)
}

/// An SVG of the index over cycles; cycles without a released figure are
/// gaps. `label` names the group for screen readers.
pub fn trend_svg(points: &[Point], label: &str) -> String {
    let n = points.len().max(1);
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * if n == 1 { 0.5 } else { i as f64 / (n - 1) as f64 };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="trend" viewBox="0 0 {W} {H}" role="img" aria-label="Belonging Index over cycles for {}" xmlns="http://www.w3.org/2000/svg">"#,
        escape(label)
    );
    for v in [0.0, 25.0, 50.0, 75.0, 100.0] {
        let _ = write!(
            svg,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#d8dce4"/><text x="{}" y="{:.1}" font-size="11" text-anchor="end" fill="#5b6475">{v}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y(v) + 4.0,
            y = y(v)
        );
    }
    // Runs of consecutive released cycles get a band and a line.
    let mut run: Vec<(f64, Share)> = Vec::new();
    let flush = |run: &mut Vec<(f64, Share)>, svg: &mut String| {
        if run.is_empty() {
            return;
        }
        let mut band = String::new();
        for (px, s) in run.iter() {
            let _ = write!(band, "{px:.1},{:.1} ", y(s.high));
        }
        for (px, s) in run.iter().rev() {
            let _ = write!(band, "{px:.1},{:.1} ", y(s.low));
        }
        let _ = write!(
            svg,
            r##"<polygon points="{}" fill="#2f5d50" fill-opacity="0.15"/>"##,
            band.trim()
        );
        let line: Vec<String> = run.iter().map(|(px, s)| format!("{px:.1},{:.1}", y(s.value))).collect();
        let _ = write!(
            svg,
            r##"<polyline points="{}" fill="none" stroke="#2f5d50" stroke-width="2"/>"##,
            line.join(" ")
        );
        run.clear();
    };
    // On a phone a dozen month labels overlap: every other one then.
    let every = if n > 8 { 2 } else { 1 };
    for (i, p) in points.iter().enumerate() {
        let px = x(i);
        let month = escape(&p.month);
        if i % every == (n - 1) % every {
            let _ = write!(
                svg,
                r##"<text x="{px:.1}" y="{}" font-size="11" text-anchor="middle" fill="#5b6475">{}</text>"##,
                H - 8.0,
                escape(p.month.split(' ').next().unwrap_or_default())
            );
        }
        match p.index {
            Some(s) => {
                run.push((px, s));
                let _ = write!(
                    svg,
                    r##"<circle cx="{px:.1}" cy="{:.1}" r="3.5" fill="#2f5d50"><title>{month}: {:.0} (90 % interval {:.0}–{:.0})</title></circle>"##,
                    y(s.value),
                    s.value,
                    s.low,
                    s.high
                );
            }
            None => flush(&mut run, &mut svg),
        }
    }
    flush(&mut run, &mut svg);
    svg.push_str("</svg>");
    svg
}

/// A small line of the index over cycles for a headline card; the card
/// says the figures in words, so the drawing is hidden from screen
/// readers.
pub fn sparkline(points: &[Point]) -> String {
    let released: Vec<(usize, f64)> = points
        .iter()
        .enumerate()
        .filter_map(|(i, p)| p.index.map(|s| (i, s.value)))
        .collect();
    if released.len() < 2 {
        return String::new();
    }
    let (w, h) = (120.0, 32.0);
    let n = (points.len() - 1).max(1) as f64;
    let at = |i: usize, v: f64| {
        (
            w * i as f64 / n,
            2.0 + (100.0 - v.clamp(0.0, 100.0)) / 100.0 * (h - 4.0),
        )
    };
    let line: Vec<String> = released
        .iter()
        .map(|(i, v)| {
            let (px, py) = at(*i, *v);
            format!("{px:.1},{py:.1}")
        })
        .collect();
    let (lx, ly) = at(released[released.len() - 1].0, released[released.len() - 1].1);
    format!(
        r##"<svg class="spark" viewBox="0 0 {w} {h}" width="{w}" height="{h}" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg"><polyline points="{}" fill="none" stroke="#2f5d50" stroke-width="2"/><circle cx="{lx:.1}" cy="{ly:.1}" r="3" fill="#2f5d50"/></svg>"##,
        line.join(" ")
    )
}

/// A bar for a share favourable with its 90 % interval as a whisker, in
/// SVG (attributes, not inline styles, which the page's policy refuses).
/// The value is written beside it, so the drawing is hidden from screen
/// readers.
pub fn bar_svg(s: &Share) -> String {
    let v = s.value.clamp(0.0, 100.0);
    let (lo, hi) = (s.low.clamp(0.0, 100.0), s.high.clamp(0.0, 100.0));
    format!(
        r##"<svg class="bar" viewBox="0 0 100 10" preserveAspectRatio="none" aria-hidden="true" focusable="false" xmlns="http://www.w3.org/2000/svg"><rect width="100" height="10" fill="#e7eae3"/><rect width="{v:.1}" height="10" fill="#2f5d50"/><line x1="{lo:.1}" x2="{hi:.1}" y1="5" y2="5" stroke="#1d2430" stroke-width="1.5" vector-effect="non-scaling-stroke"/></svg>"##
    )
}

/// The trend in words, for those who cannot see the chart.
pub fn trend_words(points: &[Point]) -> String {
    let parts: Vec<String> = points
        .iter()
        .map(|p| match p.index {
            Some(s) => format!("{} {:.0}", p.month, s.value),
            None => format!("{} not shown", p.month),
        })
        .collect();
    format!("Belonging Index by cycle: {}.", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_split_the_line_and_labels_are_escaped() {
        let s = Share {
            value: 70.0,
            low: 60.0,
            high: 80.0,
            n: 10,
        };
        let point = |number: i64, index: Option<Share>| Point {
            number,
            month: format!("{} 2026", ["Jan", "Feb", "Mar", "Apr"][number as usize - 1]),
            index,
        };
        let points = [point(1, Some(s)), point(2, None), point(3, Some(s)), point(4, Some(s))];
        let svg = trend_svg(&points, "R&D <core>");
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("R&amp;D &lt;core&gt;"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(
            svg.contains(">Mar</text>") && svg.contains("<title>Mar 2026: 70"),
            "{svg}"
        );
        assert!(!svg.contains("#3"), "months, not cycle numbers");
        assert_eq!(
            trend_words(&points),
            "Belonging Index by cycle: Jan 2026 70, Feb 2026 not shown, Mar 2026 70, Apr 2026 70."
        );
        let spark = sparkline(&points);
        assert_eq!(spark.matches("<polyline").count(), 1);
        assert!(spark.contains(r#"aria-hidden="true""#));
        assert!(sparkline(&points[..2]).is_empty(), "one released point draws no line");
    }
}
