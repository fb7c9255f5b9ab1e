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

/// The Cadre de référence des compétences numériques (CRCN), which Pix assesses: 16
/// competences in 5 domains, each on Pix levels 0 to 8. As a framework its levels are
/// numbered from 1: Pix level `n` is `MasteryLevel(n + 1)` (see `crcn_level`).
pub const CRCN_ID: FrameworkId =
    FrameworkId(Uuid::from_u128(0xc4c0_0000_c000_4000_8000_0000_0000_0001));

pub const CRCN_NAME: &str = "CRCN (Pix)";

pub const CRCN_COMPETENCES: [(&str, &str); 16] = [
    ("1.1", "Mener une recherche et une veille d'information"),
    ("1.2", "Gérer des données"),
    ("1.3", "Traiter des données"),
    ("2.1", "Interagir"),
    ("2.2", "Partager et publier"),
    ("2.3", "Collaborer"),
    ("2.4", "S'insérer dans le monde numérique"),
    ("3.1", "Développer des documents textuels"),
    ("3.2", "Développer des documents multimedia"),
    ("3.3", "Adapter les documents à leur finalité"),
    ("3.4", "Programmer"),
    ("4.1", "Sécuriser l'environnement numérique"),
    ("4.2", "Protéger les données personnelles et la vie privée"),
    ("4.3", "Protéger la santé, le bien-être et l'environnement"),
    ("5.1", "Résoudre des problèmes techniques"),
    ("5.2", "Construire un environnement numérique"),
];

/// Pix levels 0 to 8.
pub const CRCN_LEVELS: [&str; 9] = [
    "niveau 0", "niveau 1", "niveau 2", "niveau 3", "niveau 4", "niveau 5", "niveau 6", "niveau 7",
    "niveau 8",
];

/// The framework's level for a Pix level (0 to 8), if it is one.
pub fn crcn_level(pix_level: u8) -> Option<crate::values::MasteryLevel> {
    (usize::from(pix_level) < CRCN_LEVELS.len())
        .then_some(crate::values::MasteryLevel(pix_level + 1))
}

/// The CRCN as a `FrameworkDefined` (written once, by the first Pix import of a school).
pub fn crcn_framework() -> crate::events::FrameworkDefined {
    crate::events::FrameworkDefined {
        framework_id: CRCN_ID,
        name: CRCN_NAME.to_owned(),
        components: CRCN_COMPETENCES
            .iter()
            .map(|(code, label)| Component {
                code: (*code).to_owned(),
                label: (*label).to_owned(),
            })
            .collect(),
        levels: CRCN_LEVELS.iter().map(|l| (*l).to_owned()).collect(),
    }
}
