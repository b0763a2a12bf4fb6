//! Text written into server-drawn markup (SVG labels and attributes).

/// `s` with the characters that would end or open markup escaped.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
