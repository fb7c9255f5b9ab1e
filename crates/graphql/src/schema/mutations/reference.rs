//! The school's reference data: school, year, periods, subjects, classes, staff, pupils.

use super::{administrator, run, run_keyed, writer, Affected, CommandResult};
use crate::context::services;
use crate::errors::{self, bad_input, coded, id_or_new, parse_id, NOT_FOUND};
use crate::limits::{text_within, MAX_NAME_CHARS};
use crate::schema::types::SubjectKindGql;
use async_graphql::{Context, Enum, InputObject, Object, Result, ID};
use chrono::NaiveDate;
use rand::RngCore;
use suivi_domain::events::*;
use suivi_domain::identity::{seal, GuardianContact, PupilIdentity, NONCE_LEN};
use suivi_domain::ids::*;
use suivi_domain::reference::{Component, PeriodKind};
use suivi_domain::Command;
use suivi_projections::gateway::sealed_registration;

use super::grades::coefficient_of;

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PeriodKindInput {
    Trimestre,
    Semestre,
}

#[derive(InputObject)]
pub struct RegisterSchoolInput {
    pub name: String,
    /// Whether a NR (not handed in) counts as 0 in averages.
    #[graphql(default = true)]
    pub nr_counts_as_zero: bool,
}

#[derive(InputObject)]
pub struct DefineSchoolYearInput {
    pub id: Option<ID>,
    pub label: String,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(InputObject)]
pub struct DefinePeriodInput {
    pub id: Option<ID>,
    pub year_id: ID,
    pub name: String,
    pub kind: PeriodKindInput,
    pub starts_on: NaiveDate,
    pub ends_on: NaiveDate,
}

#[derive(InputObject)]
pub struct DefineSubjectInput {
    pub id: Option<ID>,
    pub name: String,
    pub kind: SubjectKindGql,
    /// The subject's weight in the general average, a decimal such as "2"; 1 when absent.
    pub coefficient: Option<String>,
}

#[derive(InputObject)]
pub struct OpenClassInput {
    pub id: Option<ID>,
    pub year_id: ID,
    pub name: String,
}

#[derive(InputObject)]
pub struct RegisterTeacherInput {
    pub id: Option<ID>,
    pub display_name: String,
    /// Their professional e-mail (optional): with `--oidc-match-email`, the first sign-in
    /// whose provider vouches for this address links their account.
    pub email: Option<String>,
}

#[derive(InputObject)]
pub struct AssignTeachingInput {
    pub teacher_id: ID,
    pub class_id: ID,
    pub subject_id: ID,
}

#[derive(InputObject)]
pub struct AssignHeadTeacherInput {
    pub teacher_id: ID,
    pub class_id: ID,
}

#[derive(InputObject)]
pub struct RegisterPupilInput {
    pub id: Option<ID>,
    /// The id the vie scolaire software gives the pupil.
    pub external_id: String,
    pub last_name: String,
    pub first_name: String,
    pub birth_date: Option<NaiveDate>,
}

#[derive(InputObject)]
pub struct EnrolPupilInput {
    pub pupil_id: ID,
    pub class_id: ID,
    pub on: NaiveDate,
}

#[derive(InputObject)]
pub struct TransferPupilInput {
    pub pupil_id: ID,
    pub from_class_id: ID,
    pub to_class_id: ID,
    /// First day in the new class.
    pub on: NaiveDate,
}

#[derive(InputObject)]
pub struct LinkGuardianInput {
    pub guardian_id: Option<ID>,
    pub pupil_id: ID,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// mère, père, tuteur…
    pub relation: Option<String>,
}

#[derive(InputObject)]
pub struct ComponentInput {
    pub code: String,
    pub label: String,
}

#[derive(InputObject)]
pub struct DefineFrameworkInput {
    pub id: Option<ID>,
    pub name: String,
    pub components: Vec<ComponentInput>,
    /// Level labels, lowest first.
    pub levels: Vec<String>,
}

#[derive(Default)]
pub struct ReferenceMutations;

/// Pupil `pupil`'s data key: NOT_FOUND for an unknown or erased pupil.
async fn pupil_key(ctx: &Context<'_>, pupil: PupilId) -> Result<suivi_domain::identity::PupilKey> {
    services(ctx)?
        .gateway
        .store()
        .get_key(pupil)
        .await
        .map_err(|e| errors::command(e.into()))?
        .ok_or_else(|| {
            coded(
                NOT_FOUND,
                format!("pupil {pupil} has no data key: unknown or erased pupil"),
            )
        })
}

/// Who a linked account signs in as.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum IdentityRole {
    Administrator,
    /// Professeur principal.
    HeadTeacher,
    Teacher,
    Guardian,
    Pupil,
}

impl From<IdentityRole> for suivi_domain::Role {
    fn from(role: IdentityRole) -> Self {
        use suivi_domain::Role;
        match role {
            IdentityRole::Administrator => Role::Admin,
            IdentityRole::HeadTeacher => Role::HeadTeacher,
            IdentityRole::Teacher => Role::Teacher,
            IdentityRole::Guardian => Role::Guardian,
            IdentityRole::Pupil => Role::Pupil,
        }
    }
}

#[derive(InputObject)]
pub struct LinkIdentityInput {
    /// The identity provider's issuer URL, as its discovery document names it.
    pub provider: String,
    /// The account's identifier at the provider (its `sub` claim), matched exactly.
    pub subject: String,
    pub role: IdentityRole,
    /// A teacher's id for the staff roles, a guardian's or a pupil's.
    pub person_id: ID,
}

#[derive(InputObject)]
pub struct UnlinkIdentityInput {
    pub provider: String,
    pub subject: String,
}

#[Object]
impl ReferenceMutations {
    /// Registers the school of the request's identity.
    async fn register_school(
        &self,
        ctx: &Context<'_>,
        input: RegisterSchoolInput,
    ) -> Result<CommandResult> {
        let school_id = writer(ctx)?.school_id;
        let event = SchoolRegistered {
            school_id,
            name: input.name,
            nr_counts_as_zero: input.nr_counts_as_zero,
        };
        run(ctx, None, Command::RegisterSchool(event), None, vec![]).await
    }

    async fn define_school_year(
        &self,
        ctx: &Context<'_>,
        input: DefineSchoolYearInput,
    ) -> Result<CommandResult> {
        let year_id: SchoolYearId = id_or_new("id", input.id.as_ref())?;
        let event = SchoolYearDefined {
            year_id,
            label: input.label,
            starts_on: input.starts_on,
            ends_on: input.ends_on,
        };
        run(ctx, None, Command::DefineSchoolYear(event), None, vec![])
            .await
            .map(|r| r.with_id(year_id))
    }

    async fn define_period(
        &self,
        ctx: &Context<'_>,
        input: DefinePeriodInput,
    ) -> Result<CommandResult> {
        let period_id: PeriodId = id_or_new("id", input.id.as_ref())?;
        let event = PeriodDefined {
            period_id,
            year_id: parse_id("yearId", &input.year_id)?,
            name: input.name,
            kind: match input.kind {
                PeriodKindInput::Trimestre => PeriodKind::Trimestre,
                PeriodKindInput::Semestre => PeriodKind::Semestre,
            },
            starts_on: input.starts_on,
            ends_on: input.ends_on,
        };
        run(ctx, None, Command::DefinePeriod(event), None, vec![])
            .await
            .map(|r| r.with_id(period_id))
    }

    async fn define_subject(
        &self,
        ctx: &Context<'_>,
        input: DefineSubjectInput,
    ) -> Result<CommandResult> {
        let subject_id: SubjectId = id_or_new("id", input.id.as_ref())?;
        let event = SubjectDefined {
            subject_id,
            name: input.name,
            kind: input.kind.into(),
            coefficient: coefficient_of(input.coefficient.as_deref())?,
        };
        run(ctx, None, Command::DefineSubject(event), None, vec![])
            .await
            .map(|r| r.with_id(subject_id))
    }

    async fn open_class(&self, ctx: &Context<'_>, input: OpenClassInput) -> Result<CommandResult> {
        let class_id: ClassId = id_or_new("id", input.id.as_ref())?;
        let event = ClassOpened {
            class_id,
            year_id: parse_id("yearId", &input.year_id)?,
            name: input.name,
        };
        run(
            ctx,
            None,
            Command::OpenClass(event),
            None,
            vec![Affected::Class(class_id)],
        )
        .await
    }

    async fn register_teacher(
        &self,
        ctx: &Context<'_>,
        input: RegisterTeacherInput,
    ) -> Result<CommandResult> {
        let teacher_id: TeacherId = id_or_new("id", input.id.as_ref())?;
        let event = TeacherRegistered {
            teacher_id,
            display_name: input.display_name,
            email: input.email,
        };
        run(ctx, None, Command::RegisterTeacher(event), None, vec![])
            .await
            .map(|r| r.with_id(teacher_id))
    }

    async fn assign_teaching(
        &self,
        ctx: &Context<'_>,
        input: AssignTeachingInput,
    ) -> Result<CommandResult> {
        let event = TeachingAssigned {
            teacher_id: parse_id("teacherId", &input.teacher_id)?,
            class_id: parse_id("classId", &input.class_id)?,
            subject_id: parse_id("subjectId", &input.subject_id)?,
        };
        let class = Affected::Class(event.class_id);
        run(ctx, None, Command::AssignTeaching(event), None, vec![class]).await
    }

    async fn assign_head_teacher(
        &self,
        ctx: &Context<'_>,
        input: AssignHeadTeacherInput,
    ) -> Result<CommandResult> {
        let event = HeadTeacherAssigned {
            teacher_id: parse_id("teacherId", &input.teacher_id)?,
            class_id: parse_id("classId", &input.class_id)?,
        };
        let class = Affected::Class(event.class_id);
        run(
            ctx,
            None,
            Command::AssignHeadTeacher(event),
            None,
            vec![class],
        )
        .await
    }

    /// Registers a pupil. The name is sealed with a fresh per-pupil key before it reaches
    /// the log; destroying the key later erases it.
    async fn register_pupil(
        &self,
        ctx: &Context<'_>,
        input: RegisterPupilInput,
    ) -> Result<CommandResult> {
        administrator(ctx)?;
        let pupil_id: PupilId = id_or_new("id", input.id.as_ref())?;
        for (field, value) in [
            ("lastName", &input.last_name),
            ("firstName", &input.first_name),
        ] {
            if value.trim().is_empty() {
                return Err(bad_input(format!("{field} must not be empty")));
            }
            text_within(field, value, MAX_NAME_CHARS)?;
        }
        text_within("externalId", &input.external_id, MAX_NAME_CHARS)?;
        let person = PupilIdentity {
            last_name: input.last_name,
            first_name: input.first_name,
            birth_date: input.birth_date,
        };
        // The key is stored with the event, only if the registration is accepted.
        let (command, key) = sealed_registration(pupil_id, input.external_id, &person);
        run_keyed(
            ctx,
            None,
            command,
            None,
            vec![Affected::Pupil(pupil_id)],
            vec![(pupil_id, key)],
        )
        .await
    }

    async fn enrol_pupil(
        &self,
        ctx: &Context<'_>,
        input: EnrolPupilInput,
    ) -> Result<CommandResult> {
        let event = PupilEnrolled {
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            class_id: parse_id("classId", &input.class_id)?,
            on: input.on,
        };
        let affected = vec![
            Affected::Pupil(event.pupil_id),
            Affected::Class(event.class_id),
        ];
        run(ctx, None, Command::EnrolPupil(event), None, affected).await
    }

    async fn transfer_pupil(
        &self,
        ctx: &Context<'_>,
        input: TransferPupilInput,
    ) -> Result<CommandResult> {
        let event = PupilTransferred {
            pupil_id: parse_id("pupilId", &input.pupil_id)?,
            from_class_id: parse_id("fromClassId", &input.from_class_id)?,
            to_class_id: parse_id("toClassId", &input.to_class_id)?,
            on: input.on,
        };
        let affected = vec![
            Affected::Pupil(event.pupil_id),
            Affected::Class(event.to_class_id),
        ];
        run(ctx, None, Command::TransferPupil(event), None, affected).await
    }

    /// Links a guardian to a pupil; the contact is sealed with the pupil's key.
    async fn link_guardian(
        &self,
        ctx: &Context<'_>,
        input: LinkGuardianInput,
    ) -> Result<CommandResult> {
        administrator(ctx)?;
        let guardian_id: GuardianId = id_or_new("guardianId", input.guardian_id.as_ref())?;
        let pupil_id: PupilId = parse_id("pupilId", &input.pupil_id)?;
        if input.name.trim().is_empty() {
            return Err(bad_input("name must not be empty"));
        }
        text_within("name", &input.name, MAX_NAME_CHARS)?;
        for (field, value) in [
            ("email", &input.email),
            ("phone", &input.phone),
            ("relation", &input.relation),
        ] {
            if let Some(value) = value {
                text_within(field, value, MAX_NAME_CHARS)?;
            }
        }
        let key = pupil_key(ctx, pupil_id).await?;
        let mut nonce = [0u8; NONCE_LEN];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let contact = GuardianContact {
            name: input.name,
            email: input.email,
            phone: input.phone,
            relation: input.relation,
        };
        let event = GuardianLinked {
            guardian_id,
            pupil_id,
            contact: seal(&key, nonce, pupil_id, &contact),
        };
        run(
            ctx,
            None,
            Command::LinkGuardian(event),
            None,
            vec![Affected::Pupil(pupil_id)],
        )
        .await
        .map(|r| r.with_id(guardian_id))
    }

    /// The account `subject` at `provider` is this person, with this role (what the
    /// OpenID Connect sign-in will read). Administrators only; a subject is linked once
    /// in a school (unlink it to change it).
    async fn link_identity(
        &self,
        ctx: &Context<'_>,
        input: LinkIdentityInput,
    ) -> Result<CommandResult> {
        administrator(ctx)?;
        text_within("provider", &input.provider, MAX_NAME_CHARS)?;
        text_within("subject", &input.subject, MAX_NAME_CHARS)?;
        let person_id: uuid::Uuid = parse_id("personId", &input.person_id)?;
        // An erased pupil is known to the log but has no key: nobody is linked to them.
        if input.role == IdentityRole::Pupil {
            pupil_key(ctx, PupilId(person_id)).await?;
        }
        let event = IdentityLinked {
            provider: input.provider,
            subject: input.subject,
            role: input.role.into(),
            person_id,
        };
        run(ctx, None, Command::LinkIdentity(event), None, vec![]).await
    }

    /// The account is no longer anyone's in suivi.
    async fn unlink_identity(
        &self,
        ctx: &Context<'_>,
        input: UnlinkIdentityInput,
    ) -> Result<CommandResult> {
        administrator(ctx)?;
        text_within("provider", &input.provider, MAX_NAME_CHARS)?;
        text_within("subject", &input.subject, MAX_NAME_CHARS)?;
        let event = IdentityUnlinked {
            provider: input.provider,
            subject: input.subject,
        };
        run(ctx, None, Command::UnlinkIdentity(event), None, vec![]).await
    }

    async fn define_framework(
        &self,
        ctx: &Context<'_>,
        input: DefineFrameworkInput,
    ) -> Result<CommandResult> {
        let framework_id: FrameworkId = id_or_new("id", input.id.as_ref())?;
        let event = FrameworkDefined {
            framework_id,
            name: input.name,
            components: input
                .components
                .into_iter()
                .map(|c| Component {
                    code: c.code,
                    label: c.label,
                })
                .collect(),
            levels: input.levels,
        };
        run(ctx, None, Command::DefineFramework(event), None, vec![])
            .await
            .map(|r| r.with_id(framework_id))
    }
}
