//! `--demo`'s ready tokens: one demo user per role, picked from the demo school as the log
//! has it (so each one's scope is real), with whom each may see, signed with the server's
//! secret. Pupils are shown by their external id, never by name.

use crate::identity::{Identity, CONFIGURED_ADMIN};
use crate::jwt::{issue_hs256, role_claim, Claims};
use chrono::Utc;
use std::time::Duration;
use suivi_domain::ids::*;
use suivi_domain::Role;
use suivi_projections::reference::ClassInfo;
use suivi_projections::ReadModels;
use uuid::Uuid;

/// How long the demo's tokens last.
pub const DEMO_TOKEN_TTL: Duration = Duration::from_secs(24 * 3600);

/// A demo user and what they may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DemoUser {
    pub role: Role,
    pub subject: Uuid,
    pub sees: String,
}

fn class_name(models: &ReadModels, class: ClassId) -> String {
    models
        .reference()
        .class(class)
        .map_or_else(|| class.to_string(), |c| c.name.clone())
}

fn pupil_label(models: &ReadModels, pupil: PupilId) -> String {
    match models.reference().pupil(pupil) {
        Some(p) => format!("pupil {} (id {pupil})", p.external_id),
        None => format!("pupil {pupil}"),
    }
}

/// How many grades a pupil has in the class their file shows (their latest): a pupil
/// moved into the live class has theirs in the class they left.
fn grades_of(models: &ReadModels, pupil: PupilId) -> usize {
    let Some(class) = models
        .reference()
        .pupil(pupil)
        .and_then(|info| info.enrolments.last())
        .map(|e| e.class_id)
    else {
        return 0;
    };
    models
        .assessments_of(class, None)
        .into_iter()
        .filter(|a| a.grades.iter().any(|g| g.pupil_id == pupil))
        .count()
}

/// One user per role that exists in the school: the administrator, a professeur
/// principal (the one running the simulated sessions when `live` names them, else the
/// one of the first class by name), a teacher who leads no class, a guardian with a child
/// in a class the professeur principal leads (the one with the most children), and of
/// their children the one with the most grades in the class their file shows.
pub fn demo_users(
    models: &ReadModels,
    school: SchoolId,
    live: Option<(ClassId, TeacherId)>,
) -> Vec<DemoUser> {
    let reference = models.reference();
    let mut classes = reference.classes_of(school);
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    let pupils: usize = classes.iter().map(|c| c.members.len()).sum();
    let mut users = vec![DemoUser {
        role: Role::Admin,
        subject: CONFIGURED_ADMIN,
        sees: format!(
            "sees the whole school: {} classes, {pupils} pupils",
            classes.len()
        ),
    }];
    let head = live
        .and_then(|(class, teacher)| {
            classes
                .iter()
                .any(|c| c.class_id == class && c.head_teacher == Some(teacher))
                .then_some(teacher)
        })
        .or_else(|| classes.iter().find_map(|c| c.head_teacher));
    let led: Vec<&&ClassInfo> = classes
        .iter()
        .filter(|c| head.is_some() && c.head_teacher == head)
        .collect();
    if let Some(head) = head {
        let taught: Vec<String> = classes
            .iter()
            .filter(|c| c.head_teacher != Some(head) && c.teaching.iter().any(|(t, _)| *t == head))
            .map(|c| c.name.clone())
            .collect();
        let also = if taught.is_empty() {
            String::new()
        } else {
            format!("; teaches in {}", taught.join(", "))
        };
        let leads: Vec<String> = led
            .iter()
            .map(|c| {
                let live = live.is_some_and(|(l, _)| l == c.class_id);
                format!(
                    "{} ({} pupils{})",
                    c.name,
                    c.members.len(),
                    if live {
                        ", the live class sessions"
                    } else {
                        ""
                    }
                )
            })
            .collect();
        users.push(DemoUser {
            role: Role::HeadTeacher,
            subject: head.0,
            sees: format!(
                "leads {} (the conseil de classe view){also}",
                leads.join(", ")
            ),
        });
    }
    let heads: Vec<TeacherId> = classes.iter().filter_map(|c| c.head_teacher).collect();
    let mut teachers: Vec<TeacherId> = classes
        .iter()
        .flat_map(|c| c.teaching.iter().map(|(t, _)| *t))
        .filter(|t| !heads.contains(t))
        .collect();
    teachers.sort();
    teachers.dedup();
    if let Some(teacher) = teachers.first().copied() {
        let teaching: Vec<String> = classes
            .iter()
            .flat_map(|c| {
                c.teaching
                    .iter()
                    .filter(move |(t, _)| *t == teacher)
                    .map(move |(_, s)| {
                        let subject = reference
                            .subject(*s)
                            .map_or_else(|| s.to_string(), |s| s.name.clone());
                        format!("{subject} in {}", c.name)
                    })
            })
            .collect();
        users.push(DemoUser {
            role: Role::Teacher,
            subject: teacher.0,
            sees: format!("teaches {}", teaching.join(", ")),
        });
    }
    let roster: Vec<PupilId> = led
        .iter()
        .map(|c| &c.members)
        .chain(classes.iter().map(|c| &c.members))
        .flatten()
        .copied()
        .collect();
    // The guardian to show: one with a child in a class the professeur principal leads,
    // with the most children (the demo's family follows a child with a year of results
    // and one in the live class, see `demo::family`), the first in roster order among
    // equals; the pupil shown is their child with the most grades.
    let in_led = |guardian: GuardianId| {
        reference
            .children_of(guardian)
            .iter()
            .any(|p| led.iter().any(|c| c.members.contains(p)))
    };
    let mut guardians: Vec<GuardianId> = Vec::new();
    for pupil in &roster {
        for g in reference
            .pupil(*pupil)
            .map_or(&[][..], |p| p.guardians.as_slice())
        {
            if !guardians.contains(g) {
                guardians.push(*g);
            }
        }
    }
    let guardian = guardians
        .iter()
        .enumerate()
        .max_by_key(|(i, g)| {
            (
                in_led(**g),
                reference.children_of(**g).len(),
                std::cmp::Reverse(*i),
            )
        })
        .map(|(_, g)| *g);
    let family = guardian.and_then(|g| {
        let children = reference.children_of(g);
        children
            .iter()
            .enumerate()
            .max_by_key(|(i, p)| (grades_of(models, **p), std::cmp::Reverse(*i)))
            .map(|(_, p)| (g, *p))
    });
    if let Some((guardian, pupil)) = family {
        let children: Vec<String> = reference
            .children_of(guardian)
            .iter()
            .map(|p| pupil_label(models, *p))
            .collect();
        users.push(DemoUser {
            role: Role::Guardian,
            subject: guardian.0,
            sees: format!(
                "sees their child's file only: {} (an assessment's results show once the whole class is graded, or when published)",
                children.join(", ")
            ),
        });
        let class = reference
            .pupil(pupil)
            .and_then(|p| p.enrolments.last().map(|e| class_name(models, e.class_id)))
            .unwrap_or_default();
        users.push(DemoUser {
            role: Role::Pupil,
            subject: pupil.0,
            sees: format!(
                "sees their own file only: {} in {class}",
                pupil_label(models, pupil)
            ),
        });
    }
    users
}

/// The text `suivi serve --demo` prints: a token per demo user and how to use it.
pub fn announce(
    models: &ReadModels,
    school: SchoolId,
    live: Option<(ClassId, TeacherId)>,
    secret: &[u8],
) -> String {
    let mut text = format!(
        "Ready tokens for the demo school (HS256, valid {} h). In GraphiQL, open the \
         Headers pane (bottom left) and paste the line under a user, e.g.\n  \
         {{\"Authorization\": \"Bearer <token>\"}}\n\
         Subscriptions: send the same object as the connection_init payload.\n",
        DEMO_TOKEN_TTL.as_secs() / 3600
    );
    for user in demo_users(models, school, live) {
        let identity = Identity {
            role: user.role,
            subject_id: user.subject,
            school_id: school,
            within: Default::default(),
        };
        let claims = Claims::new(&identity, Utc::now(), DEMO_TOKEN_TTL);
        let token = match issue_hs256(secret, &claims) {
            Ok(token) => token,
            Err(error) => {
                tracing::error!(%error, "demo: signing a token failed");
                continue;
            }
        };
        text.push_str(&format!(
            "\n{} (subject {}) — {}\n  {{\"Authorization\": \"Bearer {token}\"}}\n",
            role_claim(user.role),
            user.subject,
            user.sees
        ));
    }
    text
}

/// The pages `suivi serve --demo` points a newcomer to: the sign-in page, then each
/// page with the demo user who opens it.
pub fn page_addresses(
    models: &ReadModels,
    school: SchoolId,
    live: Option<(ClassId, TeacherId)>,
    base: &str,
) -> String {
    let reference = models.reference();
    let mut classes = reference.classes_of(school);
    classes.sort_by(|a, b| a.name.cmp(&b.name));
    // The demo's professeur principal's first class by name (the one with a year of
    // results; the live copy's name sorts after it).
    let head = demo_users(models, school, live)
        .into_iter()
        .find(|u| u.role == Role::HeadTeacher)
        .map(|u| TeacherId(u.subject));
    let mut text = format!(
        "Pages (in French) — open {base}/connexion and pick a demo user \
         (« Se connecter en tant que … »):\n  sign-in          {base}/connexion\n  home (staff)     {base}/accueil\n"
    );
    if let Some(class) = classes
        .iter()
        .find(|c| c.head_teacher.is_some() && c.head_teacher == head)
    {
        text.push_str(&format!(
            "  conseil board    {base}/classes/{}/conseil  ({})\n",
            class.class_id, class.name
        ));
        if let Some(pupil) = class.members.first() {
            text.push_str(&format!("  pupil sheet      {base}/eleves/{pupil}\n"));
        }
    }
    text.push_str(&format!(
        "  live board       {base}/seances/<id>  (the running session is listed on {base}/accueil)\n"
    ));
    text.push_str(&format!(
        "  family page      {base}/famille  (the guardian)\n  pupil page       {base}/moi  (the pupil)\n\n"
    ));
    text
}
