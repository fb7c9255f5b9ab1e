//! The spider (radar) chart as inline SVG: one axis per subject on /20, general subjects
//! together on one side and vocational ones on the other (each side tinted), the class mean
//! as a dashed grey polygon under the pupil's blue one.

use super::format::{esc, points};
use std::fmt::Write;
use suivi_domain::reference::SubjectKind;

pub struct Axis<'a> {
    pub label: &'a str,
    pub kind: Option<SubjectKind>,
    pub pupil: Option<f64>,
    pub class: Option<f64>,
}

const W: f64 = 540.0;
const H: f64 = 330.0;
const CX: f64 = 270.0;
const CY: f64 = 160.0;
const R: f64 = 110.0;

fn angle(i: usize, n: usize) -> f64 {
    -std::f64::consts::FRAC_PI_2 + (i as f64) * std::f64::consts::TAU / (n as f64)
}

fn point(i: usize, n: usize, value: f64) -> (f64, f64) {
    let r = R * (value.clamp(0.0, 20.0) / 20.0);
    let a = angle(i, n);
    (CX + r * a.cos(), CY + r * a.sin())
}

fn polygon(values: &[f64]) -> String {
    let n = values.len();
    values
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let (x, y) = point(i, n, *v);
            format!("{x:.1},{y:.1}")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A label on at most two lines of about 16 characters (cut with an ellipsis beyond).
fn lines(label: &str) -> Vec<String> {
    const MAX: usize = 17;
    if label.chars().count() <= MAX {
        return vec![label.to_owned()];
    }
    let mut first = String::new();
    let mut rest = String::new();
    for word in label.split_inclusive([' ', '-']) {
        if rest.is_empty() && first.chars().count() + word.chars().count() <= MAX {
            first.push_str(word);
        } else {
            rest.push_str(word);
        }
    }
    if first.is_empty() {
        let chars: Vec<char> = label.chars().collect();
        first = chars[..MAX - 1].iter().collect();
        rest = chars[MAX - 1..].iter().collect();
    }
    if rest.chars().count() > MAX {
        rest = format!(
            "{}…",
            rest.chars().take(MAX - 1).collect::<String>().trim_end()
        );
    }
    vec![first.trim_end().to_owned(), rest.trim().to_owned()]
}

/// The chart; an empty string when there is no axis.
pub fn spider(axes: &[Axis]) -> String {
    let n = axes.len();
    if n == 0 {
        return String::new();
    }
    let mut s = String::new();
    let _ = write!(
        s,
        r##"<svg class="spider" viewBox="0 0 {W} {H}" width="{W}" height="{H}" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Graphique en toile d'araignée : moyennes de l'élève et de la classe par matière">"##
    );
    // Tinted sectors: each axis owns the wedge around it.
    if n >= 3 {
        let half = std::f64::consts::PI / n as f64;
        for (i, axis) in axes.iter().enumerate() {
            let fill = match axis.kind {
                Some(SubjectKind::General) => "#e8f0fb",
                Some(SubjectKind::Vocational) => "#fdf0e1",
                None => "#f3f3f3",
            };
            let a0 = angle(i, n) - half;
            let a1 = angle(i, n) + half;
            let _ = write!(
                s,
                r#"<path d="M{CX},{CY} L{:.1},{:.1} A{R},{R} 0 0 1 {:.1},{:.1} Z" fill="{fill}"/>"#,
                CX + R * a0.cos(),
                CY + R * a0.sin(),
                CX + R * a1.cos(),
                CY + R * a1.sin()
            );
        }
    }
    for ring in [5.0, 10.0, 15.0, 20.0] {
        let width = if ring == 10.0 { 1.2 } else { 0.6 };
        let _ = write!(
            s,
            r##"<polygon points="{}" fill="none" stroke="#9aa3ad" stroke-width="{width}"/>"##,
            polygon(&vec![ring; n])
        );
    }
    for (i, axis) in axes.iter().enumerate() {
        let (x, y) = point(i, n, 20.0);
        let _ = write!(
            s,
            r##"<line x1="{CX}" y1="{CY}" x2="{x:.1}" y2="{y:.1}" stroke="#9aa3ad" stroke-width="0.6"/>"##
        );
        let a = angle(i, n);
        let (lx, ly) = (CX + (R + 12.0) * a.cos(), CY + (R + 12.0) * a.sin() + 4.0);
        let anchor = if a.cos() > 0.25 {
            "start"
        } else if a.cos() < -0.25 {
            "end"
        } else {
            "middle"
        };
        let dy = if a.sin() < -0.9 {
            -4.0
        } else if a.sin() > 0.9 {
            8.0
        } else {
            0.0
        };
        let mut text = lines(axis.label);
        if axis.pupil.is_none() {
            text.push("(non noté)".to_owned());
        }
        // Labels above the chart grow upwards, those beside it are centred on the axis.
        let extra = 13.0 * (text.len() as f64 - 1.0);
        let lift = if a.sin() < -0.5 {
            extra
        } else if a.sin() < 0.5 {
            extra / 2.0
        } else {
            0.0
        };
        let _ = write!(
            s,
            r#"<text x="{lx:.1}" y="{:.1}" text-anchor="{anchor}" font-size="12">"#,
            ly + dy - lift
        );
        for (k, line) in text.iter().enumerate() {
            let step = if k == 0 { 0.0 } else { 13.0 };
            let _ = write!(s, r#"<tspan x="{lx:.1}" dy="{step}">{}</tspan>"#, esc(line));
        }
        s.push_str("</text>");
    }
    for (ring, label) in [(10.0, "10"), (20.0, "20")] {
        let (x, y) = point(0, n, ring);
        let _ = write!(
            s,
            r##"<text x="{:.1}" y="{:.1}" font-size="8" fill="#6b7580">{label}</text>"##,
            x + 3.0,
            y + 9.0
        );
    }
    let class: Vec<f64> = axes.iter().map(|a| a.class.unwrap_or(0.0)).collect();
    let _ = write!(
        s,
        r##"<polygon points="{}" fill="#7d7d7d" fill-opacity="0.12" stroke="#555" stroke-width="1.4" stroke-dasharray="4 3"/>"##,
        polygon(&class)
    );
    let pupil: Vec<f64> = axes.iter().map(|a| a.pupil.unwrap_or(0.0)).collect();
    let _ = write!(
        s,
        r##"<polygon points="{}" fill="#1f5fbf" fill-opacity="0.22" stroke="#1f5fbf" stroke-width="2.2"/>"##,
        polygon(&pupil)
    );
    for (i, a) in axes.iter().enumerate() {
        if let Some(v) = a.pupil {
            let (x, y) = point(i, n, v);
            let _ = write!(
                s,
                r##"<circle cx="{x:.1}" cy="{y:.1}" r="2.8" fill="#1f5fbf"><title>{} : {}</title></circle>"##,
                esc(a.label),
                points(v)
            );
        }
    }
    // Legend.
    let ly = H - 14.0;
    let _ = write!(
        s,
        r##"<g font-size="11"><rect x="40" y="{:.0}" width="14" height="9" fill="#1f5fbf" fill-opacity="0.35" stroke="#1f5fbf"/><text x="58" y="{ly:.0}">Élève</text><rect x="107" y="{:.0}" width="14" height="9" fill="#7d7d7d" fill-opacity="0.15" stroke="#555" stroke-dasharray="3 2"/><text x="125" y="{ly:.0}">Moyenne de la classe</text><rect x="257" y="{:.0}" width="14" height="9" fill="#e8f0fb" stroke="#c9d6ea"/><text x="275" y="{ly:.0}">Matières générales</text><rect x="387" y="{:.0}" width="14" height="9" fill="#fdf0e1" stroke="#ecd6b9"/><text x="405" y="{ly:.0}">Professionnelles</text></g>"##,
        ly - 8.0,
        ly - 8.0,
        ly - 8.0,
        ly - 8.0
    );
    s.push_str("</svg>");
    s
}
