//! Reference data that ships with suivi: the kinds of subject and the socle commun.

use crate::ids::FrameworkId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Matières générales or professionnelles: the spider chart's profile read-out compares them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    General,
    Vocational,
}

impl SubjectKind {
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "general" | "générale" | "generale" | "g" => Some(Self::General),
            "vocational" | "professionnelle" | "pro" | "p" => Some(Self::Vocational),
            _ => None,
        }
    }
}

/// Trimestre or semestre.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Trimestre,
    Semestre,
}

/// One component of a competency framework.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub code: String,
    pub label: String,
}

/// The socle commun de connaissances, de compétences et de culture: 8 components
/// (domain 1 counts four), assessed on 4 levels of mastery.
pub const SOCLE_COMMUN_ID: FrameworkId =
    FrameworkId(Uuid::from_u128(0x50c1_e000_c000_4000_8000_0000_0000_0001));

pub const SOCLE_COMMUN_COMPONENTS: [(&str, &str); 8] = [
    ("D1.1", "Comprendre, s'exprimer en utilisant la langue française à l'oral et à l'écrit"),
    ("D1.2", "Comprendre, s'exprimer en utilisant une langue étrangère et, le cas échéant, une langue régionale"),
    ("D1.3", "Comprendre, s'exprimer en utilisant les langages mathématiques, scientifiques et informatiques"),
    ("D1.4", "Comprendre, s'exprimer en utilisant les langages des arts et du corps"),
    ("D2", "Les méthodes et outils pour apprendre"),
    ("D3", "La formation de la personne et du citoyen"),
    ("D4", "Les systèmes naturels et les systèmes techniques"),
    ("D5", "Les représentations du monde et l'activité humaine"),
];

pub const SOCLE_COMMUN_LEVELS: [&str; 4] = [
    "maîtrise insuffisante",
    "maîtrise fragile",
    "maîtrise satisfaisante",
    "très bonne maîtrise",
];

pub fn socle_commun_components() -> Vec<Component> {
    SOCLE_COMMUN_COMPONENTS
        .iter()
        .map(|(code, label)| Component {
            code: (*code).to_owned(),
            label: (*label).to_owned(),
        })
        .collect()
}
