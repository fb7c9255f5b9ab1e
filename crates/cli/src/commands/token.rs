//! `suivi token`: a bearer token for local use and tests.

use super::*;

#[derive(Args)]
pub(crate) struct TokenArgs {
    /// administrator, professeur_principal, teacher, guardian or pupil.
    #[arg(long, value_parser = parse_role)]
    role: suivi_domain::Role,
    /// The user: the teacher's id for staff, the guardian's or the pupil's id.
    #[arg(long)]
    subject: uuid::Uuid,
    /// The school (default: the only school of --store).
    #[arg(long)]
    school: Option<uuid::Uuid>,
    /// Store whose only school the token is for, when --school is not given.
    #[arg(long, env = "SUIVI_STORE")]
    store: Option<String>,
    /// How long the token is valid: 8h, 30m, 7d, 3600 (seconds).
    #[arg(long, default_value = "8h", value_parser = parse_ttl)]
    ttl: std::time::Duration,
    /// HS256 secret the server checks tokens with.
    #[arg(long, env = "SUIVI_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Scope ids: limit a staff token to these classes (comma-separated ids); the log's
    /// assignments still apply.
    #[arg(long, value_delimiter = ',')]
    classes: Vec<uuid::Uuid>,
    /// Scope ids: limit a guardian's token to these of their children.
    #[arg(long, value_delimiter = ',')]
    pupils: Vec<uuid::Uuid>,
}

pub(crate) fn parse_role(text: &str) -> Result<suivi_domain::Role, String> {
    suivi_graphql::jwt::parse_role(text)
}

pub(crate) fn parse_ttl(text: &str) -> Result<std::time::Duration, String> {
    suivi_graphql::jwt::parse_ttl(text)
}

pub(crate) async fn token(args: TokenArgs) -> anyhow::Result<ExitCode> {
    use suivi_graphql::jwt::{issue_hs256, Claims};
    let Some(secret) = args.jwt_secret else {
        anyhow::bail!(
            "no secret to sign with: set SUIVI_JWT_SECRET (or --jwt-secret) to the secret \
             the server checks tokens with"
        );
    };
    let school = match (args.school, &args.store) {
        (Some(school), _) => school,
        (None, Some(store)) => only_school(store).await?,
        (None, None) => anyhow::bail!("say which school the token is for: --school ID, or --store URL of a store with one school"),
    };
    let identity = suivi_graphql::Identity {
        role: args.role,
        subject_id: args.subject,
        school_id: suivi_domain::ids::SchoolId(school),
        within: suivi_graphql::identity::Within {
            classes: (!args.classes.is_empty()).then(|| {
                args.classes
                    .iter()
                    .map(|c| suivi_domain::ids::ClassId(*c))
                    .collect()
            }),
            pupils: (!args.pupils.is_empty()).then(|| {
                args.pupils
                    .iter()
                    .map(|p| suivi_domain::ids::PupilId(*p))
                    .collect()
            }),
        },
    };
    let claims = Claims::new(&identity, chrono::Utc::now(), args.ttl);
    let token = issue_hs256(secret.as_bytes(), &claims)?;
    println!("{token}");
    Ok(ExitCode::SUCCESS)
}
