//! The access matrix, driven by the schema: every root field and every object-valued
//! field reachable from one (`paths`) needs a row here, and a new one fails
//! `every_path_of_the_schema_has_a_row` until its access is decided.
//!
//! Who may enter is decided at the root (`ROOTS`: the target a root takes and who may
//! ask for it); below it, each field (`FIELDS`, by schema coordinate) says whether it is
//! read through the same door as its parent or is for staff only. The runs
//! (`matrix_queries`, `matrix_live`) then ask every path as every role, in scope and out
//! of it: allowed answers are checked to be the right pupil's (ids, and figures worked
//! out by hand from `activity` below), refused ones to hold nothing of the other pupil.

pub use super::matrix_world::*;
use super::paths::{Path, Schema};
use super::world::World;
use crate::seed::id;

/// How a field below a root is reached.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Access {
    /// Through its parent's door: whoever reads the parent reads it.
    Same,
    /// For staff: guardians and pupils get `FORBIDDEN` for it, and nothing of it.
    Staff,
    /// For staff: guardians and pupils get null, staff a value (e.g. a risk reading).
    StaffElseNull,
}

/// Object-valued fields below the roots, by type: (type, fields, access). A field of
/// the schema missing here, or named here and gone from the schema, fails the check.
pub const FIELDS: &[(&str, &str, Access)] = &[
    (
        "Assessment",
        "subject class period stats grades",
        Access::Same,
    ),
    ("AssessmentGrade", "pupil", Access::Same),
    (
        "Class",
        "year period periods headTeacher teaching subjects generalAverage pupils \
         assessments homework quizzes parcours sessions timeOnTask",
        Access::Same,
    ),
    (
        "ClassPupil",
        "averages spider absences homework",
        Access::Same,
    ),
    // The décrochage indicator: a conseil tool, null for families.
    ("ClassPupil", "risk", Access::StaffElseNull),
    ("Pupil", "risk", Access::StaffElseNull),
    ("Risk", "factors", Access::Same),
    ("CommandResult", "pupil", Access::Same),
    // Class-level views: a pupil's own deposit or attempt returns their file, not the board.
    (
        "CommandResult",
        "class assessment homework quiz liveBoard",
        Access::Staff,
    ),
    ("CompetencyView", "latest history validations", Access::Same),
    ("EnrolmentView", "class", Access::Same),
    ("GradeChange", "pupil", Access::Same),
    // The whole assessment, every pupil's grade: the `assessment` query's readers only.
    ("GradeChange", "assessment", Access::Staff),
    ("Homework", "subject class pupils", Access::Same),
    (
        "LiveBoard",
        "session counts rows stalled finishedEarly quiz parcours",
        Access::Same,
    ),
    ("LiveRow", "pupil parcours qcm", Access::Same),
    ("ParcoursBoard", "class steps counts rows", Access::Same),
    ("ParcoursRow", "pupil currentStep", Access::Same),
    (
        "Pupil",
        "class enrolments period grades classAverage spider absences attendanceRecords \
         homework homeworkSummary quizzes parcours competencies timeOnTask",
        Access::Same,
    ),
    ("PupilHomework", "pupil", Access::Same),
    ("PupilHomeworkLine", "subject class status", Access::Same),
    (
        "PupilQuiz",
        "pupil best last current questions",
        Access::Same,
    ),
    ("PupilSubject", "subject class grades", Access::Same),
    ("PupilTime", "pupil", Access::Same),
    ("QcmLive", "current best questions", Access::Same),
    ("Quiz", "subject class questions pupils", Access::Same),
    ("SchoolView", "periods subjects teachers", Access::Same),
    ("Session", "class teacher", Access::Same),
    ("Spider", "axes competencies", Access::Same),
    ("SubjectAverage", "subject", Access::Same),
    ("TeachingView", "teacher subject", Access::Same),
    ("TimeOnTask", "perPupil perBucket entries", Access::Same),
];

/// The access of the field at `coordinate` (`Pupil.quizzes`), if it has a row.
pub fn access(coordinate: &str) -> Option<Access> {
    let (ty, field) = coordinate.split_once('.')?;
    FIELDS
        .iter()
        .find(|(t, fields, _)| *t == ty && fields.split_whitespace().any(|f| f == field))
        .map(|(_, _, access)| *access)
}

/// What a root field is asked about.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Target {
    None,
    Pupil,
    ExternalId,
    ClassName,
    Class,
    Assessment,
    Homework,
    Quiz,
    Parcours,
    Session,
}

/// Who may ask a root field at all.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Who {
    /// Every role (the school's reference data, the log position).
    Everyone,
    /// Every role, within their scope: another family's pupil is `NOT_FOUND`.
    Scoped,
    /// Staff, within their classes; guardians and pupils get `FORBIDDEN`.
    Staff,
    /// The administrator; every other role gets `FORBIDDEN`.
    Admin,
}

/// One way to ask a root field: (root type, field, arguments with `$t`, `$t`'s type,
/// target, who). A field may have several (`timeOnTask` of a class and of a pupil).
pub type Root = (
    &'static str,
    &'static str,
    &'static str,
    &'static str,
    Target,
    Who,
);

pub const ROOTS: &[Root] = &[
    ("QueryRoot", "school", "", "", Target::None, Who::Everyone),
    ("QueryRoot", "position", "", "", Target::None, Who::Everyone),
    // A family's own pupils (a pupil: themself); empty for the staff.
    ("QueryRoot", "family", "", "", Target::None, Who::Everyone),
    ("QueryRoot", "classes", "", "", Target::None, Who::Staff),
    (
        "QueryRoot",
        "class",
        "(name: $t)",
        "String!",
        Target::ClassName,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "pupil",
        "(id: $t)",
        "ID!",
        Target::Pupil,
        Who::Scoped,
    ),
    (
        "QueryRoot",
        "pupilByExternalId",
        "(externalId: $t)",
        "String!",
        Target::ExternalId,
        Who::Scoped,
    ),
    (
        "QueryRoot",
        "liveBoard",
        "(sessionId: $t)",
        "ID!",
        Target::Session,
        Who::Staff,
    ),
    ("QueryRoot", "sessions", "", "", Target::None, Who::Staff),
    (
        "QueryRoot",
        "sessions",
        "(classId: $t)",
        "ID",
        Target::Class,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "assessment",
        "(id: $t)",
        "ID!",
        Target::Assessment,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "assessments",
        "(classId: $t)",
        "ID!",
        Target::Class,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "homework",
        "(id: $t)",
        "ID!",
        Target::Homework,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "classHomework",
        "(classId: $t)",
        "ID!",
        Target::Class,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "quiz",
        "(id: $t)",
        "ID!",
        Target::Quiz,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "parcoursBoard",
        "(id: $t)",
        "ID!",
        Target::Parcours,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "timeOnTask",
        "(classId: $t)",
        "ID",
        Target::Class,
        Who::Staff,
    ),
    (
        "QueryRoot",
        "timeOnTask",
        "(pupilId: $t)",
        "ID",
        Target::Pupil,
        Who::Scoped,
    ),
    (
        "QueryRoot",
        "competencies",
        "(pupilId: $t)",
        "ID!",
        Target::Pupil,
        Who::Scoped,
    ),
    (
        "QueryRoot",
        "accessJournal",
        "(pupilId: $t)",
        "ID",
        Target::Pupil,
        Who::Admin,
    ),
    (
        "SubscriptionRoot",
        "events",
        "(after: $t)",
        "Int!",
        Target::None,
        Who::Admin,
    ),
    (
        "SubscriptionRoot",
        "liveBoard",
        "(sessionId: $t)",
        "ID!",
        Target::Session,
        Who::Staff,
    ),
    (
        "SubscriptionRoot",
        "gradeRecorded",
        "(pupilId: $t)",
        "ID!",
        Target::Pupil,
        Who::Scoped,
    ),
    (
        "SubscriptionRoot",
        "changes",
        "",
        "",
        Target::None,
        Who::Everyone,
    ),
];

pub const ROLES: [&str; 5] = ["admin", "pp", "teacher", "guardian", "pupil"];

pub fn family(role: &str) -> bool {
    matches!(role, "guardian" | "pupil")
}

/// What `role` gets asking `who`'s root about a target in its scope: `None` allowed, or
/// the error code.
pub fn at_root(who: Who, role: &str) -> Option<&'static str> {
    match who {
        Who::Everyone | Who::Scoped => None,
        Who::Staff if family(role) => Some("FORBIDDEN"),
        Who::Admin if role != "admin" => Some("FORBIDDEN"),
        Who::Staff | Who::Admin => None,
    }
}

/// The target in `role`'s scope, the ones out of it, and a made-up one.
pub fn targets(w: &World, role: &str, target: Target) -> (String, Vec<String>, String) {
    let s = &w.s;
    let [a, b, _] = &s.pupils;
    let staff = !family(role);
    let admin = role == "admin";
    let pick = |inside: &String, outside: Vec<&String>| {
        (inside.clone(), outside.into_iter().cloned().collect(), id())
    };
    match target {
        Target::None => (String::new(), Vec::new(), String::new()),
        Target::Pupil if admin => pick(a, vec![&w.other_pupil]),
        Target::Pupil if staff => pick(a, vec![&w.d, &w.other_pupil]),
        Target::Pupil => pick(a, vec![b, &w.d, &w.other_pupil]),
        // The other school's pupil has external id E1 too: the administrator's E1 is a.
        Target::ExternalId => {
            let out: &[&str] = match role {
                "admin" => &[],
                "pp" | "teacher" => &["E4"],
                _ => &["E2", "E4"],
            };
            let out = out.iter().map(|e| e.to_string()).collect();
            ("E1".to_owned(), out, "E99".to_owned())
        }
        // Likewise the other school's class is a "2nde A".
        Target::ClassName if admin => ("2nde A".into(), Vec::new(), "2nde Z".into()),
        Target::ClassName => ("2nde A".into(), vec!["2nde B".into()], "2nde Z".into()),
        Target::Class if admin => pick(&s.class, vec![&w.other_class]),
        Target::Class => pick(&s.class, vec![&s.other_class, &w.other_class]),
        Target::Assessment if admin => pick(&s.f1, vec![]),
        // Maths is not the French teacher's subject, in the class they teach French.
        Target::Assessment if role == "teacher" => pick(&s.f1, vec![&w.assessment_b, &s.m1]),
        Target::Assessment => pick(&s.f1, vec![&w.assessment_b]),
        Target::Homework => pick(
            &w.homework[0],
            if admin { vec![] } else { vec![&w.homework[1]] },
        ),
        Target::Quiz => pick(&w.quiz[0], if admin { vec![] } else { vec![&w.quiz[1]] }),
        Target::Parcours => pick(
            &w.parcours[0],
            if admin { vec![] } else { vec![&w.parcours[1]] },
        ),
        Target::Session if admin => pick(&w.session[0], vec![]),
        // The head teacher's session in class A is not the French teacher's to watch.
        Target::Session if role == "teacher" => {
            pick(&w.french_session, vec![&w.session[1], &w.session[0]])
        }
        Target::Session => pick(&w.session[0], vec![&w.session[1]]),
    }
}

/// Every path of the schema under the roots the matrix covers, and each one's access.
pub fn schema_paths(schema: &Schema) -> Vec<Path> {
    let mut paths = schema.paths("QueryRoot");
    paths.extend(schema.paths("SubscriptionRoot"));
    // What every mutation returns: read through a mutation per role (`matrix_live`).
    paths.extend(
        schema
            .paths("MutationRoot")
            .into_iter()
            .filter(|p| p.root == "registerSchool"),
    );
    paths
}

#[test]
fn every_path_of_the_schema_has_a_row() {
    let schema = Schema::served();
    let mut missing = Vec::new();
    for root in ["QueryRoot", "SubscriptionRoot"] {
        for field in &schema.objects[root] {
            if !ROOTS.iter().any(|r| r.0 == root && r.1 == field.name) {
                missing.push(format!("{root}.{} (no row in ROOTS)", field.name));
            }
        }
    }
    let paths = schema_paths(&schema);
    for path in &paths {
        if !path.edges.is_empty() && access(&path.coordinate()).is_none() {
            missing.push(format!(
                "{} ({} has no row in FIELDS)",
                path.dotted(),
                path.coordinate()
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "paths without a row in the access matrix:\n{}",
        missing.join("\n")
    );
    // And no row for a field the schema no longer has.
    for (ty, fields, _) in FIELDS {
        for field in fields.split_whitespace() {
            assert!(
                schema.field(ty, field).is_some(),
                "FIELDS names {ty}.{field}, not in the schema"
            );
        }
    }
    for root in ROOTS {
        assert!(
            schema.field(root.0, root.1).is_some(),
            "ROOTS names {}.{}, not in the schema",
            root.0,
            root.1
        );
    }
    let roots = ROOTS.len();
    eprintln!(
        "access matrix: {} paths below {roots} ways into the roots, × {} roles",
        paths.len(),
        ROLES.len()
    );
    // The walk reaches what the matrix is asked to cover.
    for dotted in [
        "pupil.quizzes",
        "pupil.timeOnTask",
        "pupil.homework",
        "class.pupils.averages",
        "gradeRecorded.assessment.grades.pupil",
        "registerSchool.pupil.quizzes",
    ] {
        assert!(
            paths.iter().any(|p| p.dotted() == dotted),
            "{dotted} is not walked"
        );
    }
}
