//! The per-pupil figures as CSV for a French spreadsheet: `;` between fields, decimal
//! commas, UTF-8 with a byte-order mark (so that accents open right).

use super::data::ConseilData;
use super::html::profile_text;
use suivi_present::format::{minutes, opt_points};

fn field(text: &str) -> String {
    if text.contains([';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

pub fn render(d: &ConseilData) -> String {
    let mut header: Vec<String> = vec![
        "Élève".into(),
        "Identifiant".into(),
        "Moyenne générale".into(),
    ];
    header.extend(d.subjects.iter().map(|s| s.name.clone()));
    header.extend(
        [
            "Moyenne matières générales",
            "Moyenne matières professionnelles",
            "Profil",
            "Absences",
            "Demi-journées d'absence",
            "dont non justifiées",
            "Heures manquées",
            "Retards",
            "Minutes de retard",
            "Devoirs à l'heure",
            "Devoirs en retard",
            "Devoirs non rendus",
            "Devoirs à venir",
            "Tentatives QCM",
            "Réponses QCM justes",
            "Réponses QCM",
            "Temps QCM (min)",
            "Risque",
            "Points de risque",
            "Facteurs de risque",
        ]
        .map(String::from),
    );
    let mut out = String::from("\u{feff}");
    out.push_str(
        &header
            .iter()
            .map(|h| field(h))
            .collect::<Vec<_>>()
            .join(";"),
    );
    out.push_str("\r\n");
    for p in &d.pupils {
        let mut row: Vec<String> =
            vec![p.name.clone(), p.external_id.clone(), opt_points(p.general)];
        row.extend(p.averages.iter().map(|a| opt_points(*a)));
        let a = &p.attendance;
        let h = &p.homework;
        let q = &p.qcm;
        row.extend([
            opt_points(p.general_mean),
            opt_points(p.vocational_mean),
            profile_text(p.profile).to_owned(),
            a.absences.to_string(),
            a.half_days.to_string(),
            a.half_days_unjustified.to_string(),
            a.lessons.to_string(),
            a.latenesses.to_string(),
            a.lateness_minutes.to_string(),
            h.on_time.to_string(),
            h.late.to_string(),
            h.missing.to_string(),
            h.pending.to_string(),
            q.attempts.to_string(),
            q.correct.to_string(),
            q.answers.to_string(),
            minutes(q.time_ms),
            p.risk.level.label().to_owned(),
            p.risk.score.to_string(),
            p.risk
                .factors
                .iter()
                .map(|f| f.reason.clone())
                .collect::<Vec<_>>()
                .join(" ; "),
        ]);
        out.push_str(&row.iter().map(|c| field(c)).collect::<Vec<_>>().join(";"));
        out.push_str("\r\n");
    }
    out
}
