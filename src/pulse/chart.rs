//! The trend chart as inline SVG, drawn on the server: the Belonging Index
//! per cycle with its 90 % interval as a band.

use std::fmt::Write;

use crate::privacy::stats::Share;

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
pub fn trend_svg(points: &[(i64, Option<Share>)], label: &str) -> String {
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
    for (i, (number, share)) in points.iter().enumerate() {
        let px = x(i);
        let _ = write!(
            svg,
            r##"<text x="{px:.1}" y="{}" font-size="11" text-anchor="middle" fill="#5b6475">#{number}</text>"##,
            H - 8.0
        );
        match share {
            Some(s) => {
                run.push((px, *s));
                let _ = write!(
                    svg,
                    r##"<circle cx="{px:.1}" cy="{:.1}" r="3.5" fill="#2f5d50"><title>Cycle {number}: {:.0} (90 % interval {:.0}–{:.0})</title></circle>"##,
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

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
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
        let svg = trend_svg(&[(1, Some(s)), (2, None), (3, Some(s)), (4, Some(s))], "R&D <core>");
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("R&amp;D &lt;core&gt;"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
