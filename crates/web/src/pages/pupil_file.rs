//! A pupil's file as the API answers it (`sheet::PUPIL_FIELDS`), read by the pupil
//! sheet and the family page, with the French words each part is shown in.

use super::conseil::{RiskData, SpreadData};
use super::PeriodRow;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use suivi_present::format::{date_time, french_decimal};

#[derive(Deserialize)]
pub struct Answer {
    pub pupil: PupilData,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PupilData {
    pub id: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub class: Option<ClassRef>,
    pub period: Option<PeriodRow>,
    pub average: Option<f64>,
    pub class_average: Option<SpreadData>,
    pub grades: Vec<SubjectGrades>,
    pub absences: Absences,
    pub attendance_records: Vec<AttendanceRecord>,
    pub homework: Vec<HomeworkLine>,
    pub homework_summary: HomeworkSummary,
    pub competencies: Vec<Competency>,
    #[serde(default)]
    pub spider: Option<SpiderData>,
    #[serde(default)]
    pub quizzes: Vec<QuizLine>,
    #[serde(default)]
    pub risk: Option<RiskData>,
}

impl PupilData {
    pub fn name(&self) -> String {
        self.display_name
            .clone()
            .unwrap_or_else(|| "(identité effacée)".to_owned())
    }
}

#[derive(Deserialize, Clone)]
pub struct ClassRef {
    pub id: String,
    pub name: String,
}

#[derive(Deserialize)]
pub struct SubjectGrades {
    pub subject: Option<SubjectRef>,
    pub average: Option<f64>,
    pub class: Option<SpreadData>,
    pub grades: Vec<Grade>,
}

#[derive(Deserialize, Clone)]
pub struct SubjectRef {
    pub name: String,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Grade {
    pub assessment_id: String,
    pub title: Option<String>,
    pub date: NaiveDate,
    pub scale: i64,
    pub coefficient: f64,
    pub score: Option<String>,
    pub mark: Option<String>,
    pub corrections: i64,
}

impl Grade {
    /// `12,5/20`, or the mark in words.
    pub fn shown(&self) -> String {
        match (&self.score, self.mark.as_deref()) {
            (Some(score), _) => format!("{}/{}", french_decimal(score), self.scale),
            (None, Some("ABS")) => "absent".to_owned(),
            (None, Some("DISP")) => "dispensé".to_owned(),
            (None, Some("NR")) => "non rendu".to_owned(),
            _ => "—".to_owned(),
        }
    }

    pub fn title_or_default(&self) -> String {
        self.title
            .clone()
            .unwrap_or_else(|| "Évaluation".to_owned())
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Absences {
    pub half_days: i64,
    pub half_days_justified: i64,
    pub half_days_unjustified: i64,
    pub latenesses: i64,
    pub latenesses_unjustified: i64,
    pub lateness_minutes: i64,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct AttendanceRecord {
    pub id: String,
    pub kind: String,
    pub justified: bool,
    pub at: DateTime<Utc>,
    pub half_days: Option<i64>,
    pub minutes: Option<i64>,
}

impl AttendanceRecord {
    pub fn shown(&self) -> String {
        let what = if self.kind == "LATENESS" {
            format!("Retard de {} min", self.minutes.unwrap_or(0))
        } else {
            let n = self.half_days.unwrap_or(0);
            format!("Absence ({n} demi-journée{})", if n > 1 { "s" } else { "" })
        };
        format!(
            "{what} le {}, {}",
            date_time(self.at),
            if self.justified {
                "justifiée"
            } else {
                "non justifiée"
            }
        )
    }
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct HomeworkLine {
    pub homework_id: String,
    pub title: Option<String>,
    pub subject: Named,
    pub due_at: DateTime<Utc>,
    pub status: HomeworkState,
}

impl HomeworkLine {
    pub fn status_text(&self) -> &'static str {
        match self.status.status.as_str() {
            "ON_TIME" => "rendu à l'heure",
            "LATE" => "rendu en retard",
            "MISSING" => "non rendu",
            _ => "à faire",
        }
    }

    pub fn due(&self) -> String {
        date_time(self.due_at)
    }

    pub fn title_or_default(&self) -> String {
        self.title.clone().unwrap_or_else(|| "Devoir".to_owned())
    }
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Named {
    pub name: String,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct HomeworkState {
    pub status: String,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct HomeworkSummary {
    pub on_time: i64,
    pub late: i64,
    pub missing: i64,
    pub pending: i64,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
pub struct Competency {
    pub framework_id: String,
    pub component: String,
    pub label: Option<String>,
    pub latest: Option<CompetencyMark>,
}

#[derive(Deserialize, Clone, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CompetencyMark {
    pub level: i64,
    pub level_label: Option<String>,
    pub on: NaiveDate,
}

impl Competency {
    /// The socle commun's four levels in words.
    pub fn level_text(&self) -> String {
        let Some(mark) = &self.latest else {
            return "non évalué".to_owned();
        };
        mark.level_label.clone().unwrap_or_else(|| {
            match mark.level {
                1 => "maîtrise insuffisante",
                2 => "maîtrise fragile",
                3 => "maîtrise satisfaisante",
                4 => "très bonne maîtrise",
                _ => "niveau inconnu",
            }
            .to_owned()
        })
    }

    pub fn name(&self) -> String {
        self.label.clone().unwrap_or_else(|| self.component.clone())
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpiderData {
    pub axes: Vec<SpiderAxis>,
    pub profile: String,
    pub profile_basis: String,
    pub general_mean: Option<f64>,
    pub vocational_mean: Option<f64>,
    pub gap: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SpiderAxis {
    pub subject: String,
    pub kind: Option<String>,
    pub value: Option<f64>,
    pub class_mean: Option<f64>,
    pub class_min: Option<f64>,
    pub class_max: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuizLine {
    pub title: Option<String>,
    pub attempts_used: i64,
    pub attempts_allowed: i64,
    pub best: Option<QuizScore>,
    pub time_ms: i64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QuizScore {
    pub correct: i64,
    pub out_of: i64,
    pub on_twenty: f64,
}
