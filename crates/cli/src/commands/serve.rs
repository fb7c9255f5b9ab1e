//! `suivi serve`: the API and the pages, with the demo school or on a store.

use super::*;

#[derive(Args)]
pub(crate) struct ServeArgs {
    /// Store URL: sqlite:PATH, postgres://user@host/db or memory:. With --demo and no
    /// --store, a fresh SQLite file in a temporary directory.
    #[arg(long, env = "SUIVI_STORE")]
    store: Option<String>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: std::net::SocketAddr,
    /// Load the demo school into an empty store and run a simulated class session.
    #[arg(long)]
    demo: bool,
    /// The school to serve when the store holds several.
    #[arg(long)]
    school: Option<uuid::Uuid>,
    #[command(flatten)]
    jwt: JwtArgs,
    /// Schema introspection on or off (default: on with --demo, off otherwise).
    #[arg(long, value_name = "on|off", value_parser = parse_switch)]
    introspection: Option<bool>,
    /// Mutations one user may send at once…
    #[arg(long, default_value_t = suivi_graphql::Limits::default().burst)]
    write_burst: u32,
    /// …and per second after that (beyond: RATE_LIMITED errors).
    #[arg(long, default_value_t = suivi_graphql::Limits::default().per_second)]
    writes_per_second: u32,
    /// Compute every query, even one repeated while nothing it reads has changed (by
    /// default such a query is answered from the answer cache).
    #[arg(long)]
    no_answer_cache: bool,
    /// Minutes without a request after which a page session ends (sign in again).
    #[arg(long, value_name = "MINUTES", default_value_t = 30)]
    session_idle: u64,
    /// Hours after sign-in at which a page session ends, whatever the activity.
    #[arg(long, value_name = "HOURS", default_value_t = 12)]
    session_max: u64,
    /// Seconds without progress after which a pupil shows as "bloqué" on the live boards.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    stall_after: u64,
    #[command(flatten)]
    oidc: OidcArgs,
    /// The address people open the pages at (e.g. https://suivi.lycee.fr), for the
    /// redirect URI registered with the identity provider: PUBLIC_URL/connexion/oidc/retour.
    /// Default: the address the browser used.
    #[arg(long, env = "SUIVI_PUBLIC_URL")]
    public_url: Option<String>,
}

/// Sign-in with the school's OpenID Connect provider (ENT, académie).
#[derive(Args)]
pub(crate) struct OidcArgs {
    /// The provider's issuer URL (its discovery document is ISSUER/.well-known/openid-configuration).
    #[arg(long, env = "SUIVI_OIDC_ISSUER", requires_all = ["oidc_client_id", "oidc_client_secret"])]
    oidc_issuer: Option<String>,
    /// The client id suivi is registered with at the provider.
    #[arg(long, env = "SUIVI_OIDC_CLIENT_ID", requires = "oidc_issuer")]
    oidc_client_id: Option<String>,
    /// The client secret (sent with HTTP Basic authentication to the token endpoint).
    #[arg(
        long,
        env = "SUIVI_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        requires = "oidc_issuer"
    )]
    oidc_client_secret: Option<String>,
    /// The audience (`aud`) of the provider's access tokens accepted on /graphql
    /// (default: the client id).
    #[arg(long, env = "SUIVI_OIDC_AUDIENCE", requires = "oidc_issuer")]
    oidc_audience: Option<String>,
    /// The ID token claim that names the account (default: sub).
    #[arg(long, env = "SUIVI_OIDC_CLAIM", requires = "oidc_issuer")]
    oidc_claim: Option<String>,
    /// At first sign-in, link a staff member with no account yet by a verified e-mail
    /// claim equal to the e-mail the school registered for them (registerTeacher's email).
    #[arg(long, env = "SUIVI_OIDC_MATCH_EMAIL", requires = "oidc_issuer")]
    oidc_match_email: bool,
}

impl OidcArgs {
    fn config(self) -> Option<suivi_graphql::oidc::OidcConfig> {
        Some(suivi_graphql::oidc::OidcConfig {
            issuer: self.oidc_issuer?,
            client_id: self.oidc_client_id.unwrap_or_default(),
            client_secret: self.oidc_client_secret.unwrap_or_default(),
            audience: self.oidc_audience,
            claim: self.oidc_claim,
            match_email: self.oidc_match_email,
        })
    }
}

pub(crate) fn parse_switch(text: &str) -> Result<bool, String> {
    match text {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(format!("{other:?}: expected on or off")),
    }
}

/// How bearer tokens are checked: exactly one of the two outside `--demo`.
#[derive(Args)]
pub(crate) struct JwtArgs {
    /// HS256 secret (at least 32 bytes) that tokens are signed with.
    #[arg(long, env = "SUIVI_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// PEM file of the identity provider's public key (RSA: RS256, EC P-256: ES256).
    #[arg(long, env = "SUIVI_JWT_PUBLIC_KEY", conflicts_with = "jwt_secret")]
    jwt_public_key: Option<PathBuf>,
    /// The issuer (`iss`) every token must name.
    #[arg(long, env = "SUIVI_JWT_ISSUER")]
    jwt_issuer: Option<String>,
    /// The audience (`aud`) every token must name.
    #[arg(long, env = "SUIVI_JWT_AUDIENCE")]
    jwt_audience: Option<String>,
}

pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let store_url = match args.store {
        Some(url) => url,
        None if args.demo => suivi_cli::demo::fresh_store_url()?,
        None => "sqlite:suivi.db".to_owned(),
    };
    let loader: suivi_graphql::DemoLoader = Box::new(|store| {
        Box::pin(async move {
            let summary = suivi_cli::demo::load_demo(store)
                .await
                .map_err(|e| -> suivi_graphql::BoxError { e.to_string().into() })?;
            tracing::info!(
                events = summary.events_written,
                pupils = summary.pupils,
                classes = summary.classes.len(),
                "demo school loaded"
            );
            Ok(())
        })
    });
    let config = suivi_graphql::ServeConfig {
        store_url,
        addr: args.addr,
        demo: args.demo,
        school: args.school.map(suivi_domain::ids::SchoolId),
        auth: suivi_graphql::AuthConfig {
            jwt_secret: args.jwt.jwt_secret,
            jwt_public_key: args.jwt.jwt_public_key,
            jwt_issuer: args.jwt.jwt_issuer,
            jwt_audience: args.jwt.jwt_audience,
        },
        introspection: args.introspection,
        write_burst: args.write_burst,
        writes_per_second: args.writes_per_second,
        answer_cache: !args.no_answer_cache,
        stall_after: Some(std::time::Duration::from_secs(args.stall_after)),
        oidc: args.oidc.config(),
    };
    let idle = std::time::Duration::from_secs(args.session_idle.max(1) * 60);
    let absolute = std::time::Duration::from_secs(args.session_max.max(1) * 3600);
    let public_url = args.public_url;
    let pages: suivi_graphql::PagesFactory = Box::new(move |setup| {
        let sessions =
            suivi_web::session::Sessions::new(setup.sessions, setup.session_key, idle, absolute);
        let options = suivi_web::PageOptions {
            demo_users: setup.demo_users,
            idle,
            absolute,
            public_url,
        };
        suivi_web::router(setup.state, options, sessions)
    });
    // The demo's ready tokens go to stdout, for the person who just started it.
    suivi_graphql::serve_pages(config, Some(loader), Some(pages), |text| {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
        let _ = out.flush();
    })
    .await?;
    Ok(ExitCode::SUCCESS)
}
