//! The spider (radar) chart as inline SVG: one axis per subject on /20, general subjects
//! together on one side and vocational ones on the other (each side tinted, see `by_kind`),
//! the class's min–max band, the class mean as a dashed grey polygon under the pupil's
//! blue one. Whoever shows it shows the same figures in a table beside it: the chart is
//! never the only way to read them.

use crate::format::{esc, points};
use std::fmt::Write;
use suivi_domain::reference::SubjectKind;

pub struct Axis<'a> {
    pub label: &'a str,
    pub kind: Option<SubjectKind>,
    pub pupil: Option<f64>,
    /// The class mean.
    pub class: Option<f64>,
    /// The class's lowest and highest averages.
    pub band: Option<(f64, f64)>,
}

/// Orders axes so that general subjects come first, then vocational ones, then the rest
/// (each group keeps its order): drawn clockwise from the top, general subjects fill the
/// right-hand side and vocational ones the left.
pub fn by_kind(axes: &mut [Axis]) {
    axes.sort_by_key(|a| match a.kind {
        Some(SubjectKind::General) => 0,
        Some(SubjectKind::Vocational) => 1,
        None => 2,
    });
}

/// The chart's size and its centre and radius (the 20/20 ring), in SVG units.
pub const W: f64 = 540.0;
pub const H: f64 = 330.0;
pub const CX: f64 = 270.0;
pub const CY: f64 = 160.0;
pub const R: f64 = 110.0;

fn angle(i: usize, n: usize) -> f64 {
    -std::f64::consts::FRAC_PI_2 + (i as f64) * std::f64::consts::TAU / (n as f64)
}

/// Where `value` (on /20, clamped) lies on axis `i` of `n`: axis 0 points up, the others
/// follow clockwise.
pub fn point(i: usize, n: usize, value: f64) -> (f64, f64) {
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
    // The class band: the ring between the lowest and the highest averages.
    if axes.iter().any(|a| a.band.is_some()) {
        let low: Vec<f64> = axes.iter().map(|a| a.band.map_or(0.0, |b| b.0)).collect();
        let high: Vec<f64> = axes.iter().map(|a| a.band.map_or(0.0, |b| b.1)).collect();
        let _ = write!(
            s,
            r##"<path class="band" d="M{} Z M{} Z" fill="#9aa3ad" fill-opacity="0.18" fill-rule="evenodd" stroke="none"/>"##,
            polygon(&high).replace(' ', " L"),
            polygon(&low).replace(' ', " L")
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

#[cfg(test)]
mod tests {
    use super::*;

    fn axis(label: &str, kind: SubjectKind, pupil: f64, class: f64) -> Axis<'_> {
        Axis {
            label,
            kind: Some(kind),
            pupil: Some(pupil),
            class: Some(class),
            band: Some((class - 2.0, class + 2.0)),
        }
    }

    /// The points of the `<polygon>` drawn with `stroke` (the pupil's or the class's).
    fn polygon_with(svg: &str, stroke: &str) -> Vec<(f64, f64)> {
        let at = svg
            .find(&format!(r#"stroke="{stroke}" stroke-width"#))
            .expect("the polygon is drawn");
        let open = svg[..at].rfind(r#"points=""#).expect("with points") + 8;
        let close = open + svg[open..].find('"').expect("closed");
        svg[open..close]
            .split(' ')
            .map(|p| {
                let (x, y) = p.split_once(',').expect("x,y");
                (x.parse().expect("x"), y.parse().expect("y"))
            })
            .collect()
    }

    #[test]
    fn four_axes_point_up_right_down_left() {
        // Axis 0 is straight up, then clockwise at quarter turns: at 10/20 the point is
        // half the radius (55) from the centre (270, 160).
        assert_eq!(point(0, 4, 10.0), (270.0, 105.0));
        let (x, y) = point(1, 4, 10.0);
        assert!((x - 325.0).abs() < 1e-9 && (y - 160.0).abs() < 1e-9);
        let (x, y) = point(2, 4, 20.0);
        assert!((x - 270.0).abs() < 1e-9 && (y - 270.0).abs() < 1e-9);
        let (x, y) = point(3, 4, 0.0);
        assert!((x - 270.0).abs() < 1e-9 && (y - 160.0).abs() < 1e-9);
        // Out of range values are clamped to the chart.
        assert_eq!(point(0, 4, 25.0), point(0, 4, 20.0));
    }

    #[test]
    fn the_pupil_polygon_is_where_the_averages_are() {
        let axes = [
            axis("Français", SubjectKind::General, 16.0, 12.0),
            axis("Mathématiques", SubjectKind::General, 8.0, 11.0),
            axis("Atelier", SubjectKind::Vocational, 12.0, 10.0),
        ];
        let svg = spider(&axes);
        let pupil = polygon_with(&svg, "#1f5fbf");
        // By hand: r = 110 × v / 20; axis k at -90° + 120°·k.
        let expected = [
            (270.0, 160.0 - 88.0),
            (
                270.0 + 44.0 * (30f64).to_radians().cos(),
                160.0 + 44.0 * (30f64).to_radians().sin(),
            ),
            (
                270.0 - 66.0 * (30f64).to_radians().cos(),
                160.0 + 66.0 * (30f64).to_radians().sin(),
            ),
        ];
        assert_eq!(pupil.len(), 3);
        for ((x, y), (ex, ey)) in pupil.iter().zip(expected) {
            assert!((x - ex).abs() <= 0.051, "x {x} vs {ex}");
            assert!((y - ey).abs() <= 0.051, "y {y} vs {ey}");
        }
        let class = polygon_with(&svg, "#555");
        assert!((class[0].1 - (160.0 - 66.0)).abs() <= 0.051);
        // The band is drawn, and each average has its tooltip in French.
        assert!(svg.contains(r#"class="band""#));
        assert!(svg.contains("<title>Français : 16,00</title>"));
    }

    #[test]
    fn general_subjects_come_first() {
        let mut axes = [
            axis("Atelier", SubjectKind::Vocational, 12.0, 10.0),
            axis("Français", SubjectKind::General, 16.0, 12.0),
            axis("Gestion", SubjectKind::Vocational, 9.0, 10.0),
            axis("Histoire", SubjectKind::General, 11.0, 12.0),
        ];
        by_kind(&mut axes);
        let labels: Vec<&str> = axes.iter().map(|a| a.label).collect();
        assert_eq!(labels, ["Français", "Histoire", "Atelier", "Gestion"]);
    }

    #[test]
    fn no_axis_no_chart() {
        assert_eq!(spider(&[]), "");
    }
}
