//! The GraphQL types queries and mutations share (a grade's mark, a subject's kind), so
//! that neither side imports the other.

use async_graphql::Enum;
use suivi_domain::reference::SubjectKind;
use suivi_domain::values::Grade;

/// A vie scolaire mark given instead of a score.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GradeMark {
    /// Absent: left out of averages.
    Abs,
    /// Dispensé (exempted): left out of averages.
    Disp,
    /// Non rendu (not handed in): counts as 0 unless the school says otherwise.
    Nr,
}

impl From<GradeMark> for Grade {
    fn from(mark: GradeMark) -> Grade {
        match mark {
            GradeMark::Abs => Grade::Absent,
            GradeMark::Disp => Grade::Exempted,
            GradeMark::Nr => Grade::NotHandedIn,
        }
    }
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(name = "SubjectKind")]
pub enum SubjectKindGql {
    General,
    Vocational,
}

impl From<SubjectKindGql> for SubjectKind {
    fn from(kind: SubjectKindGql) -> Self {
        match kind {
            SubjectKindGql::General => SubjectKind::General,
            SubjectKindGql::Vocational => SubjectKind::Vocational,
        }
    }
}

impl From<SubjectKind> for SubjectKindGql {
    fn from(kind: SubjectKind) -> Self {
        match kind {
            SubjectKind::General => SubjectKindGql::General,
            SubjectKind::Vocational => SubjectKindGql::Vocational,
        }
    }
}
