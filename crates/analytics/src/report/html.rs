//! The conseil de classe page: one self-contained French HTML document (inline CSS and SVG,
//! nothing fetched), laid out for A4.

use super::data::{ConseilData, PupilSheet};
use super::risk::RiskLevel;
use crate::figures::grades::{Profile, PROFILE_GAP};
use std::fmt::Write;
use suivi_domain::reference::SubjectKind;
use suivi_present::format::{date, esc, minutes, num, opt_points, points};
use suivi_present::spider::{spider, Axis};

const STYLE: &str = r#"
@page { size: A4; margin: 12mm 11mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt; color: #1d2329; margin: 0; }
main { max-width: 190mm; margin: 0 auto; padding: 4mm 0; }
h1 { font-size: 16pt; margin: 0 0 1mm; }
h2 { font-size: 12pt; margin: 5mm 0 2mm; border-bottom: 2px solid #1f5fbf; padding-bottom: 1mm; }
h3 { font-size: 10pt; margin: 3mm 0 1mm; }
.meta { color: #4a5560; margin: 0 0 3mm; }
.meta b { color: #1d2329; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #c5ccd3; padding: 1.2mm 1.4mm; text-align: right; vertical-align: middle; }
th { background: #eef2f6; font-weight: 600; text-align: center; }
td.name, th.name { text-align: left; }
.recap { table-layout: fixed; font-size: 7.8pt; }
.recap th, .recap td { padding: 0.8mm 0.7mm; }
.recap td.name { overflow-wrap: anywhere; text-align: left; }
.recap col.pupil { width: 29mm; }
.recap col.small { width: 11mm; }
.recap col.abs { width: 8mm; }
.recap col.risk { width: 15mm; }
.recap th.subject { vertical-align: bottom; padding: 1mm 0.3mm; font-size: 7.5pt; font-weight: 600; }
.recap th.subject .v { writing-mode: vertical-rl; transform: rotate(180deg); max-height: 34mm; margin: 0 auto; text-align: left; line-height: 1.15; }
.recap th.subject small { display: block; font-weight: 400; color: #4a5560; font-size: 6.5pt; }
.recap .badge { padding: 0.2mm 1mm; font-size: 7pt; }
.recap td { font-variant-numeric: tabular-nums; }
.recap tr.stat td { background: #f6f8fa; font-weight: 600; }
.recap tr.stat td.name { font-style: italic; }
.general { background: #e8f0fb; }
.vocational { background: #fdf0e1; }
td.low { color: #b3261e; font-weight: 600; }
td.high { color: #1b6e2f; font-weight: 600; }
.badge { display: inline-block; padding: 0.3mm 2mm; border-radius: 3mm; font-size: 8pt; font-weight: 600; white-space: nowrap; }
.risk-low { background: #e3f2e6; color: #1b6e2f; }
.risk-watch { background: #fff1d6; color: #8a5300; }
.risk-high { background: #fbe0de; color: #b3261e; }
.summary { display: flex; gap: 4mm; margin: 2mm 0; }
.summary div { flex: 1; border: 1px solid #c5ccd3; border-radius: 2mm; padding: 2mm 3mm; }
.summary b { font-size: 13pt; display: block; }
section.pupil { page-break-before: always; break-before: page; }
.pupil-head { border-bottom: 2px solid #1f5fbf; margin-top: 2mm; padding-bottom: 1mm; }
.pupil-head h2 { border: none; margin: 0; font-size: 14pt; }
.cols { display: flex; gap: 4mm; align-items: flex-start; }
.cols > div { flex: 1; }
.cols > div:first-child { flex: 1.45; }
.spider { width: 100%; height: auto; }
.profile { border-left: 4px solid #1f5fbf; background: #f4f7fb; padding: 2mm 3mm; margin: 2mm 0; }
.facts { display: grid; grid-template-columns: 1fr 1fr; gap: 2mm 4mm; }
.facts table td:first-child { text-align: left; }
.riskbox { border: 1px solid #c5ccd3; border-radius: 2mm; padding: 2mm 3mm; margin-top: 3mm; }
.riskbox ul { margin: 1mm 0 0 4mm; padding: 0; }
.note { color: #4a5560; font-size: 8pt; }
footer { color: #4a5560; font-size: 8pt; margin-top: 4mm; }
@media screen { main { padding: 8mm; } }
"#;

fn risk_class(level: RiskLevel) -> &'static str {
    match level {
        RiskLevel::Low => "risk-low",
        RiskLevel::Watch => "risk-watch",
        RiskLevel::High => "risk-high",
    }
}

fn kind_class(kind: Option<SubjectKind>) -> &'static str {
    match kind {
        Some(SubjectKind::General) => "general",
        Some(SubjectKind::Vocational) => "vocational",
        None => "",
    }
}

fn cell_class(value: Option<f64>) -> &'static str {
    match value {
        Some(v) if v < 8.0 => "low",
        Some(v) if v >= 15.0 => "high",
        _ => "",
    }
}

pub fn profile_text(p: Profile) -> &'static str {
    match p {
        Profile::Balanced => "Profil équilibré",
        Profile::VocationalStrong => "Profil fort en matières professionnelles",
        Profile::GeneralStrong => "Profil fort en matières générales",
        Profile::NotEnoughData => "Profil non déterminé",
    }
}

fn profile_why(p: &PupilSheet) -> String {
    let gap = num(PROFILE_GAP, 0);
    match (p.general_mean, p.vocational_mean) {
        (Some(g), Some(v)) => {
            let d = v - g;
            let why = match p.profile {
                Profile::VocationalStrong => format!("les matières générales sont en retrait de {} points (seuil : {gap}) ; à discuter : l'élève est-il dans la bonne voie, faut-il un soutien en enseignement général ?", points(d)),
                Profile::GeneralStrong => format!("les matières professionnelles sont en retrait de {} points (seuil : {gap}) ; à discuter : l'orientation correspond-elle au profil ?", points(-d)),
                _ => format!("l'écart entre les deux groupes ({} points) reste sous le seuil de {gap} points.", points(d.abs())),
            };
            format!(
                "moyenne des matières générales {} ; des matières professionnelles {} : {why}",
                points(g),
                points(v)
            )
        }
        (None, Some(_)) => {
            "aucune moyenne en matière générale sur la période : rien à comparer.".into()
        }
        (Some(_), None) => {
            "aucune moyenne en matière professionnelle sur la période : rien à comparer.".into()
        }
        (None, None) => "aucune moyenne sur la période.".into(),
    }
}

fn header(out: &mut String, d: &ConseilData) {
    let stamp = match d.as_of {
        Some(t) => format!(
            "Données arrêtées au {} à {} (UTC)",
            date(t.date_naive()),
            t.format("%H:%M")
        ),
        None => format!(
            "Données au {} à {} (UTC)",
            date(d.now.date_naive()),
            d.now.format("%H:%M")
        ),
    };
    let _ = write!(
        out,
        "<h1>Conseil de classe — {} — {}</h1><p class=\"meta\"><b>{}</b> · période du {} au {} · professeur principal : <b>{}</b><br>{stamp} · {} élèves</p>",
        esc(&d.class_name),
        esc(&d.period_name),
        esc(&d.school),
        date(d.starts_on),
        date(d.ends_on),
        esc(d.head_teacher.as_deref().unwrap_or("non désigné")),
        d.pupils.len()
    );
}

fn summary(out: &mut String, d: &ConseilData) {
    let count = |l: RiskLevel| d.pupils.iter().filter(|p| p.risk.level == l).count();
    let profiles = |p: Profile| d.pupils.iter().filter(|x| x.profile == p).count();
    let _ = write!(
        out,
        "<div class=\"summary\"><div>Moyenne générale de la classe<b>{}</b>de {} à {}</div><div>Profils<b>{} équilibrés</b>{} forts en pro. · {} forts en gén. · {} non déterminés</div><div>Risque de décrochage<b>{} élevé · {} à surveiller</b>{} faible</div></div>",
        d.general_class.map_or("–".into(), |s| points(s.mean)),
        d.general_class.map_or("–".into(), |s| points(s.min)),
        d.general_class.map_or("–".into(), |s| points(s.max)),
        profiles(Profile::Balanced),
        profiles(Profile::VocationalStrong),
        profiles(Profile::GeneralStrong),
        profiles(Profile::NotEnoughData),
        count(RiskLevel::High),
        count(RiskLevel::Watch),
        count(RiskLevel::Low),
    );
}

fn recap(out: &mut String, d: &ConseilData) {
    out.push_str(
        "<h2>Tableau récapitulatif</h2><table class=\"recap\"><colgroup><col class=\"pupil\">",
    );
    for _ in &d.subjects {
        out.push_str("<col>");
    }
    out.push_str("<col class=\"small\"><col class=\"abs\"><col class=\"risk\"></colgroup><thead><tr><th class=\"name\">Élève</th>");
    for s in &d.subjects {
        let _ = write!(
            out,
            "<th class=\"subject {}\"><div class=\"v\">{}<small>{} · coef. {}</small></div></th>",
            kind_class(s.kind),
            esc(&s.name),
            esc(&s.teachers.join(", ")),
            num(
                s.coefficient,
                if s.coefficient.fract() == 0.0 { 0 } else { 1 }
            )
        );
    }
    out.push_str("<th>Moy. gén.</th><th title=\"demi-journées d'absence\">Abs.</th><th>Risque</th></tr></thead><tbody>");
    for p in &d.pupils {
        let _ = write!(out, "<tr><td class=\"name\">{}</td>", esc(&p.name));
        for a in &p.averages {
            let _ = write!(
                out,
                "<td class=\"{}\">{}</td>",
                cell_class(*a),
                opt_points(*a)
            );
        }
        let _ = write!(
            out,
            "<td class=\"{}\"><b>{}</b></td><td>{}</td><td><span class=\"badge {}\">{}</span></td></tr>",
            cell_class(p.general),
            opt_points(p.general),
            p.attendance.half_days,
            risk_class(p.risk.level),
            p.risk.level.label()
        );
    }
    type Pick = fn(&crate::figures::Spread) -> f64;
    let rows: [(&str, Pick); 3] = [
        ("Moyenne de la classe", |s| s.mean),
        ("Plus basse", |s| s.min),
        ("Plus haute", |s| s.max),
    ];
    for (label, pick) in rows {
        let _ = write!(out, "<tr class=\"stat\"><td class=\"name\">{label}</td>");
        for s in &d.subjects {
            let _ = write!(out, "<td>{}</td>", opt_points(s.class.as_ref().map(pick)));
        }
        let _ = write!(
            out,
            "<td>{}</td><td></td><td></td></tr>",
            opt_points(d.general_class.as_ref().map(pick))
        );
    }
    out.push_str("</tbody></table><p class=\"note\">Moyennes sur 20, pondérées par les coefficients des évaluations ; « Abs » et « Disp » ne comptent pas, « NR » compte 0 si l'établissement l'a choisi. En rouge, sous 8 ; en vert, 15 et plus. Fond bleu : matières générales ; fond orangé : matières professionnelles.</p>");
}

fn pupil_section(out: &mut String, d: &ConseilData, p: &PupilSheet) {
    let _ = write!(
        out,
        "<section class=\"pupil\"><div class=\"pupil-head\"><h2>{}</h2><span>{} · {} · moyenne générale <b>{}</b> (classe {}) · <span class=\"badge {}\">risque {}</span></span></div>",
        esc(&p.name),
        esc(&p.external_id),
        esc(&d.class_name),
        opt_points(p.general),
        d.general_class.map_or("–".into(), |s| points(s.mean)),
        risk_class(p.risk.level),
        p.risk.level.label()
    );
    let axes: Vec<Axis> = d
        .subjects
        .iter()
        .zip(&p.averages)
        .map(|(s, a)| Axis {
            label: &s.name,
            kind: s.kind,
            pupil: *a,
            class: s.class.map(|c| c.mean),
            band: s.class.map(|c| (c.min, c.max)),
        })
        .collect();
    let _ = write!(out, "<div class=\"cols\"><div>{}</div><div><table><thead><tr><th class=\"name\">Matière</th><th>Élève</th><th>Classe</th><th>Écart</th></tr></thead><tbody>", spider(&axes));
    for (s, a) in d.subjects.iter().zip(&p.averages) {
        let class = s.class.map(|c| c.mean);
        let gap = match (a, class) {
            (Some(a), Some(c)) => {
                let g = a - c;
                format!("{}{}", if g >= 0.0 { "+" } else { "" }, points(g))
            }
            _ => "–".into(),
        };
        let _ = write!(
            out,
            "<tr><td class=\"name {}\">{}</td><td class=\"{}\">{}</td><td>{}</td><td>{gap}</td></tr>",
            kind_class(s.kind),
            esc(&s.name),
            cell_class(*a),
            opt_points(*a),
            opt_points(class)
        );
    }
    out.push_str("</tbody></table></div></div>");
    let _ = write!(
        out,
        "<div class=\"profile\"><b>{}</b> — {}</div>",
        profile_text(p.profile),
        esc(&profile_why(p))
    );

    let a = &p.attendance;
    let h = &p.homework;
    let q = &p.qcm;
    let rate = if q.answers > 0 {
        format!(
            "{} %",
            num(100.0 * f64::from(q.correct) / f64::from(q.answers), 0)
        )
    } else {
        "–".into()
    };
    let _ = write!(
        out,
        "<div class=\"facts\"><div><h3>Absences et retards</h3><table><tr><td>Absences</td><td>{}</td></tr><tr><td>Demi-journées manquées</td><td>{} (dont {} non justifiées)</td></tr><tr><td>Heures de cours manquées</td><td>{} (dont {} non justifiées)</td></tr><tr><td>Retards</td><td>{} ({} min ; {} non justifiés)</td></tr></table></div>\
         <div><h3>Travail personnel</h3><table><tr><td>Devoirs rendus à l'heure</td><td>{}</td></tr><tr><td>Rendus en retard</td><td>{}</td></tr><tr><td>Non rendus</td><td>{}</td></tr><tr><td>À venir</td><td>{}</td></tr></table></div>\
         <div><h3>QCM</h3><table><tr><td>Tentatives</td><td>{} (sur {} QCM)</td></tr><tr><td>Réponses justes</td><td>{} sur {} ({rate})</td></tr><tr><td>Temps passé</td><td>{} min</td></tr></table></div>",
        a.absences,
        a.half_days,
        a.half_days_unjustified,
        a.lessons,
        a.lessons_unjustified,
        a.latenesses,
        a.lateness_minutes,
        a.latenesses_unjustified,
        h.on_time,
        h.late,
        h.missing,
        h.pending,
        q.attempts,
        q.quizzes_tried,
        q.correct,
        q.answers,
        minutes(q.time_ms)
    );
    out.push_str("<div><h3>Socle commun</h3><table><tr><th class=\"name\">Composante</th><th>Élève</th><th>Classe</th></tr>");
    for c in &p.competencies {
        let level = c.level.map_or("–".to_owned(), |l| format!("{l}/4"));
        let _ = write!(
            out,
            "<tr><td class=\"name\" title=\"{}\">{}</td><td>{level}</td><td>{}</td></tr>",
            esc(c.label),
            esc(c.code),
            c.class_mean.map_or("–".into(), |m| num(m, 1))
        );
    }
    out.push_str("</table></div></div>");

    let _ = write!(out, "<div class=\"riskbox\"><b>Indicateur de risque de décrochage : <span class=\"badge {}\">{}</span></b> ({} point{})", risk_class(p.risk.level), p.risk.level.label(), p.risk.score, if p.risk.score > 1 { "s" } else { "" });
    if p.risk.factors.is_empty() {
        out.push_str("<br>Aucun facteur relevé.");
    } else {
        out.push_str("<ul>");
        for f in &p.risk.factors {
            let _ = write!(out, "<li>{} (+{})</li>", esc(&f.reason), f.points);
        }
        out.push_str("</ul>");
    }
    out.push_str("<span class=\"note\">Indicatif : chaque facteur est donné avec son seuil pour que le conseil puisse en juger et le contredire.</span></div></section>");
}

pub fn render(d: &ConseilData) -> String {
    let mut out = String::with_capacity(64 * 1024);
    let _ = write!(
        out,
        "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Conseil de classe {} — {}</title><style>{STYLE}</style></head><body><main>",
        esc(&d.class_name),
        esc(&d.period_name)
    );
    header(&mut out, d);
    summary(&mut out, d);
    recap(&mut out, d);
    for p in &d.pupils {
        pupil_section(&mut out, d, p);
    }
    out.push_str("<footer>Document de travail pour le conseil de classe, calculé à partir du journal des événements. Données personnelles d'élèves mineurs : ne pas diffuser hors du conseil.</footer></main></body></html>\n");
    out
}
