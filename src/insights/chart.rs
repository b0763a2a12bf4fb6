//! The impact report's chart as inline SVG, drawn on the server: the
//! pillar's % favourable of the teams taking part and of the others per
//! cycle, with a line where the initiative started.

use std::fmt::Write;

use crate::shared::markup::escape;

const W: f64 = 640.0;
const H: f64 = 240.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 28.0;
const BOTTOM: f64 = 28.0;
/// Taking part: the product's green; the others: a grey-blue, dashed, so
/// the two differ without colour too.
const TAKING: &str = "#2f5d50";
const OTHERS: &str = "#5b6475";

fn y(v: f64) -> f64 {
    TOP + (100.0 - v.clamp(0.0, 100.0)) / 100.0 * (H - TOP - BOTTOM)
}

/// One line with its points; a cycle without a figure breaks the line.
fn series(
    svg: &mut String,
    values: &[Option<f64>],
    x: &dyn Fn(usize) -> f64,
    colour: &str,
    dash: &str,
    name: &str,
    months: &[String],
) {
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, svg: &mut String| {
        if run.len() > 1 {
            let _ = write!(
                svg,
                r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>"#,
                run.join(" ")
            );
        }
        run.clear();
    };
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                run.push(format!("{:.1},{:.1}", x(i), y(*v)));
                let _ = write!(
                    svg,
                    r#"<circle cx="{:.1}" cy="{:.1}" r="3" fill="{colour}"><title>{name}, {}: {v:.0} %</title></circle>"#,
                    x(i),
                    y(*v),
                    escape(months.get(i).map_or("", String::as_str)),
                );
            }
            None => flush(&mut run, svg),
        }
    }
    flush(&mut run, svg);
}

/// The two series over `months`, and the start line before cycle `start`.
pub fn impact_svg(
    months: &[String],
    taking: &[Option<f64>],
    others: &[Option<f64>],
    start: Option<usize>,
    pillar: &str,
) -> String {
    let n = months.len().max(1);
    let x = |i: usize| LEFT + (W - LEFT - RIGHT) * if n == 1 { 0.5 } else { i as f64 / (n - 1) as f64 };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="trend" viewBox="0 0 {W} {H}" role="img" aria-label="{} % favourable per cycle, teams taking part and the others" xmlns="http://www.w3.org/2000/svg">"#,
        escape(pillar)
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
    if let Some(s) = start.filter(|s| *s < n) {
        // Halfway between the last cycle before and the first after.
        let sx = if s == 0 { x(0) } else { (x(s - 1) + x(s)) / 2.0 };
        let _ = write!(
            svg,
            r##"<line x1="{sx:.1}" x2="{sx:.1}" y1="{TOP}" y2="{}" stroke="#1d2430" stroke-dasharray="2 3"/><text x="{:.1}" y="{}" font-size="11" fill="#1d2430">start</text>"##,
            H - BOTTOM,
            sx + 4.0,
            TOP + 10.0
        );
    }
    series(
        &mut svg,
        others,
        &x,
        OTHERS,
        r#" stroke-dasharray="6 4""#,
        "Others",
        months,
    );
    series(&mut svg, taking, &x, TAKING, "", "Taking part", months);
    let every = n.div_ceil(8);
    for (i, m) in months.iter().enumerate() {
        if i % every == (n - 1) % every {
            let _ = write!(
                svg,
                r##"<text x="{:.1}" y="{}" font-size="11" text-anchor="middle" fill="#5b6475">{}</text>"##,
                x(i),
                H - 8.0,
                escape(m)
            );
        }
    }
    // The legend, top left.
    let _ = write!(
        svg,
        r##"<line x1="{LEFT}" x2="{}" y1="12" y2="12" stroke="{TAKING}" stroke-width="2"/><text x="{}" y="16" font-size="11" fill="#1d2430">Taking part</text><line x1="{}" x2="{}" y1="12" y2="12" stroke="{OTHERS}" stroke-width="2" stroke-dasharray="6 4"/><text x="{}" y="16" font-size="11" fill="#1d2430">Others</text>"##,
        LEFT + 20.0,
        LEFT + 26.0,
        LEFT + 110.0,
        LEFT + 130.0,
        LEFT + 136.0,
    );
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_series_with_a_gap_and_the_start_line() {
        let months: Vec<String> = ["Jan", "Feb", "Mar", "Apr"].map(String::from).to_vec();
        let svg = impact_svg(
            &months,
            &[Some(50.0), None, Some(70.0), Some(72.0)],
            &[Some(60.0), Some(61.0), Some(60.0), Some(62.0)],
            Some(2),
            "Integration",
        );
        // The gap splits the taking-part line; its lone first point stays.
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert_eq!(svg.matches("<circle").count(), 7);
        assert!(svg.contains(">start</text>") && svg.contains("Taking part, Mar: 70 %"));
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
    }
}
