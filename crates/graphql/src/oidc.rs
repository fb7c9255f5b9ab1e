//! The school's OpenID Connect provider (an ENT, an académie's identity provider), as a
//! relying party sees it: discovery, its signing keys, the code exchange, and the checks an
//! ID token or an access token must pass before anyone is signed in.
//!
//! - **Discovery** (`/.well-known/openid-configuration`) is fetched on first use and kept;
//!   its `issuer` must be the configured one, byte for byte. A provider that is down at
//!   start does not stop the server: sign-in says so, and tries again at the next attempt.
//! - **Keys** come from the provider's JWKS. A token naming a key we do not hold makes us
//!   fetch the JWKS again (one fetch at a time, at most one a second), so a key rotation at
//!   the provider just works and a flood of made-up key ids cannot turn us into a flood of
//!   requests.
//! - **Tokens**: signed with an asymmetric algorithm the key allows (never `none`, never a
//!   shared-secret HS* a public key could forge), `iss` the issuer, `aud` the client (ID
//!   token) or the API's audience (access token), `exp` in the future (60 s of clock skew),
//!   and for an ID token the `nonce` of the sign-in. An access token carrying a `nonce` is
//!   an ID token and is refused on the API.
//! - **Who**: the account is the token's `sub`, or the claim the school chose
//!   (`--oidc-claim`). Who that account is in suivi is the administrator's link
//!   (`IdentityLinked`), looked up in `linked_identity`.
//!
//! Messages of `OidcError` are English (logs, the API's 401); the pages say them in French.

use crate::identity::{Identity, Within};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use suivi_domain::ids::SchoolId;
use suivi_domain::Role;
use suivi_projections::ReadModels;

/// How the server signs people in with the school's provider.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OidcConfig {
    /// The provider's issuer URL (`--oidc-issuer`).
    pub issuer: String,
    pub client_id: String,
    pub client_secret: String,
    /// The `aud` the provider's access tokens carry for this API (`--oidc-audience`); the
    /// client id when absent.
    pub audience: Option<String>,
    /// The claim that names the account (`--oidc-claim`); `sub` when absent.
    pub claim: Option<String>,
    /// Staff with no link yet are matched on a verified e-mail at first sign-in
    /// (`--oidc-match-email`, see `email_matcher`).
    pub match_email: bool,
}

/// What the provider's discovery document says (the fields a relying party uses).
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// Why a sign-in or a provider token was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OidcError {
    #[error("the identity provider could not be reached: {0}")]
    Unreachable(String),
    #[error("the identity provider's answer is not usable: {0}")]
    BadAnswer(String),
    #[error("the identity provider refused the code: {0}")]
    CodeRefused(String),
    #[error("the token is not a well-formed JWT")]
    Malformed,
    #[error("the token is signed with {0}, which this server does not accept from the provider")]
    Algorithm(String),
    #[error("the token is signed with a key the provider does not publish")]
    UnknownKey,
    #[error("the token's signature does not verify")]
    Signature,
    #[error("the token has expired")]
    Expired,
    #[error("the token was issued by another issuer")]
    Issuer,
    #[error("the token is meant for another audience")]
    Audience,
    #[error("the token's nonce is not this sign-in's")]
    Nonce,
    #[error("an ID token is not an access token")]
    NotAnAccessToken,
    #[error("the token's claims are invalid: {0}")]
    Claims(String),
    #[error("the token names no account (claim {0})")]
    NoAccount(String),
}

/// The provider's token endpoint answer.
#[derive(Clone, Debug, Deserialize)]
pub struct Tokens {
    pub id_token: String,
    #[serde(default)]
    pub access_token: Option<String>,
}

struct Keys {
    set: JwkSet,
}

/// The provider, as this server knows it.
pub struct Provider {
    config: OidcConfig,
    http: reqwest::Client,
    discovery: RwLock<Option<Arc<Discovery>>>,
    keys: RwLock<Option<Arc<Keys>>>,
    /// Held while the JWKS is fetched again: one fetch at a time.
    refetch: tokio::sync::Mutex<()>,
    /// When the JWKS was last asked for, whatever came of it.
    last_fetch: std::sync::Mutex<Option<Instant>>,
    /// When discovery last failed: not tried again for `REFETCH_SPACING`.
    discovery_failed: std::sync::Mutex<Option<Instant>>,
}

/// The least time between two JWKS fetches.
const REFETCH_SPACING: Duration = Duration::from_secs(1);
/// Clock skew allowed on `exp` (and `nbf`/`iat`).
const LEEWAY_S: u64 = 60;
/// The algorithms a provider may sign with: asymmetric only.
const ACCEPTED: &[Algorithm] = &[
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

fn is_loopback(url: &str) -> bool {
    let host = url
        .strip_prefix("http://")
        .unwrap_or("")
        .split(['/', '?', '#'])
        .next()
        .unwrap_or("");
    // No user info: `http://localhost:1@elsewhere` is elsewhere.
    if host.contains('@') {
        return false;
    }
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    matches!(host, "127.0.0.1" | "localhost" | "[::1]")
}

impl Provider {
    /// A provider for `config`; its discovery document is fetched on first use. The
    /// issuer must be https (plain http only on loopback, for tests and local trials).
    pub fn new(config: OidcConfig) -> Result<Provider, String> {
        let issuer = config.issuer.trim_end_matches('/');
        if !(issuer.starts_with("https://") || is_loopback(issuer)) {
            return Err(format!(
                "the OpenID issuer {issuer:?} must be an https:// URL (plain http only on \
                 127.0.0.1 or localhost)"
            ));
        }
        if config.client_id.trim().is_empty() || config.client_secret.is_empty() {
            return Err("an OpenID provider needs a client id and a client secret \
                 (--oidc-client-id, --oidc-client-secret)"
                .to_owned());
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("the HTTP client: {e}"))?;
        Ok(Provider {
            config,
            http,
            discovery: RwLock::new(None),
            keys: RwLock::new(None),
            refetch: tokio::sync::Mutex::new(()),
            last_fetch: std::sync::Mutex::new(None),
            discovery_failed: std::sync::Mutex::new(None),
        })
    }

    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// The claim that names the account.
    pub fn claim(&self) -> &str {
        self.config.claim.as_deref().unwrap_or("sub")
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, OidcError> {
        let response = self
            .http
            .get(url)
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(format!("{url}: {e}")))?;
        if !response.status().is_success() {
            return Err(OidcError::BadAnswer(format!(
                "{url} answered {}",
                response.status()
            )));
        }
        response
            .json()
            .await
            .map_err(|e| OidcError::BadAnswer(format!("{url}: {e}")))
    }

    /// The discovery document, fetched once.
    pub async fn discovery(&self) -> Result<Arc<Discovery>, OidcError> {
        if let Some(known) = self
            .discovery
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
        {
            return Ok(known);
        }
        let recently = self
            .discovery_failed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some_and(|at| at.elapsed() < REFETCH_SPACING);
        if recently {
            return Err(OidcError::Unreachable(
                "its discovery failed a moment ago".to_owned(),
            ));
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            self.config.issuer.trim_end_matches('/')
        );
        let fetched = self.get_json::<Discovery>(&url).await.and_then(|found| {
            if found.issuer == self.config.issuer {
                Ok(found)
            } else {
                Err(OidcError::BadAnswer(format!(
                    "the discovery document names the issuer {:?}, not {:?}",
                    found.issuer, self.config.issuer
                )))
            }
        });
        let found = match fetched {
            Ok(found) => found,
            Err(error) => {
                *self
                    .discovery_failed
                    .lock()
                    .unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                return Err(error);
            }
        };
        let found = Arc::new(found);
        *self.discovery.write().unwrap_or_else(|e| e.into_inner()) = Some(found.clone());
        Ok(found)
    }

    /// Where to send a browser to sign in.
    pub async fn authorization_url(
        &self,
        redirect_uri: &str,
        state: &str,
        nonce: &str,
        code_challenge: &str,
    ) -> Result<String, OidcError> {
        let discovery = self.discovery().await?;
        let query = serde_urlencoded_pairs(&[
            ("response_type", "code"),
            ("client_id", &self.config.client_id),
            ("redirect_uri", redirect_uri),
            ("scope", "openid email profile"),
            ("state", state),
            ("nonce", nonce),
            ("code_challenge", code_challenge),
            ("code_challenge_method", "S256"),
        ]);
        let separator = if discovery.authorization_endpoint.contains('?') {
            '&'
        } else {
            '?'
        };
        Ok(format!(
            "{}{separator}{query}",
            discovery.authorization_endpoint
        ))
    }

    /// Where to send a browser to sign out at the provider too, if it offers it.
    pub async fn end_session_url(&self, post_logout_redirect_uri: &str) -> Option<String> {
        let discovery = self.discovery().await.ok()?;
        let endpoint = discovery.end_session_endpoint.as_ref()?;
        let query = serde_urlencoded_pairs(&[
            ("client_id", &self.config.client_id),
            ("post_logout_redirect_uri", post_logout_redirect_uri),
        ]);
        let separator = if endpoint.contains('?') { '&' } else { '?' };
        Some(format!("{endpoint}{separator}{query}"))
    }

    /// Exchanges an authorization code (once: the provider refuses a second use).
    pub async fn exchange(
        &self,
        code: &str,
        redirect_uri: &str,
        code_verifier: &str,
    ) -> Result<Tokens, OidcError> {
        let discovery = self.discovery().await?;
        // client_secret_basic: both parts form-urlencoded before base64 (RFC 6749 §2.3.1).
        let user = form_encode(&self.config.client_id);
        let password = form_encode(&self.config.client_secret);
        let body = serde_urlencoded_pairs(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("code_verifier", code_verifier),
        ]);
        let response = self
            .http
            .post(&discovery.token_endpoint)
            .basic_auth(user, Some(password))
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(body)
            .send()
            .await
            .map_err(|e| OidcError::Unreachable(format!("{}: {e}", discovery.token_endpoint)))?;
        let status = response.status();
        let answer: Value = response
            .json()
            .await
            .map_err(|e| OidcError::BadAnswer(format!("the token endpoint: {e}")))?;
        if !status.is_success() {
            let error = answer["error"].as_str().unwrap_or("unknown error");
            let description = answer["error_description"].as_str().unwrap_or("");
            return Err(OidcError::CodeRefused(
                format!("{error} {description}").trim().to_owned(),
            ));
        }
        serde_json::from_value(answer)
            .map_err(|e| OidcError::BadAnswer(format!("the token endpoint: {e}")))
    }

    fn kept_key(&self, kid: Option<&str>) -> Option<DecodingKey> {
        let keys = self
            .keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        let jwk = match kid {
            Some(kid) => keys.set.find(kid)?,
            None => match keys.set.keys.as_slice() {
                [only] => only,
                _ => return None,
            },
        };
        DecodingKey::from_jwk(jwk).ok()
    }

    /// The key a token names: from the JWKS we hold, else from a fresh fetch of it. One
    /// fetch at a time, and none sooner than `REFETCH_SPACING` after the last attempt
    /// (failed or not): a request that waited while another fetched, or comes too soon,
    /// uses what that fetch brought and is refused if the key is still not there. So a
    /// flood of made-up key ids costs the provider at most one request a second, and
    /// never queues behind itself.
    async fn key(&self, kid: Option<&str>) -> Result<DecodingKey, OidcError> {
        if let Some(key) = self.kept_key(kid) {
            return Ok(key);
        }
        let asked = Instant::now();
        let _one_at_a_time = self.refetch.lock().await;
        if let Some(key) = self.kept_key(kid) {
            return Ok(key);
        }
        {
            let mut last = self.last_fetch.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(at) = *last {
                if at >= asked || at.elapsed() < REFETCH_SPACING {
                    return Err(OidcError::UnknownKey);
                }
            }
            *last = Some(Instant::now());
        }
        let discovery = self.discovery().await?;
        let set: JwkSet = self.get_json(&discovery.jwks_uri).await?;
        *self.keys.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(Keys { set }));
        self.kept_key(kid).ok_or(OidcError::UnknownKey)
    }

    /// The claims of a token signed by the provider for `audience`.
    async fn verify(&self, token: &str, audience: &str) -> Result<Map<String, Value>, OidcError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| OidcError::Malformed)?;
        if !ACCEPTED.contains(&header.alg) {
            return Err(OidcError::Algorithm(format!("{:?}", header.alg)));
        }
        let key = self.key(header.kid.as_deref()).await?;
        let mut validation = Validation::new(header.alg);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[audience]);
        validation.leeway = LEEWAY_S;
        validation.validate_nbf = true;
        jsonwebtoken::decode::<Map<String, Value>>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                match e.kind() {
                    ErrorKind::ExpiredSignature | ErrorKind::ImmatureSignature => {
                        OidcError::Expired
                    }
                    ErrorKind::InvalidIssuer => OidcError::Issuer,
                    ErrorKind::InvalidAudience => OidcError::Audience,
                    ErrorKind::InvalidSignature => OidcError::Signature,
                    ErrorKind::InvalidAlgorithm | ErrorKind::InvalidAlgorithmName => {
                        OidcError::Algorithm(format!("{:?}", header.alg))
                    }
                    ErrorKind::MissingRequiredClaim(claim) => {
                        OidcError::Claims(format!("the {claim} claim is missing"))
                    }
                    ErrorKind::Base64(_) | ErrorKind::Json(_) | ErrorKind::Utf8(_) => {
                        OidcError::Malformed
                    }
                    _ => OidcError::Claims("not accepted".to_owned()),
                }
            })
    }

    /// An ID token's claims, if it is the provider's, for this client, unexpired, and
    /// carries this sign-in's `nonce`.
    pub async fn verify_id_token(
        &self,
        token: &str,
        nonce: &str,
    ) -> Result<Map<String, Value>, OidcError> {
        let claims = self.verify(token, &self.config.client_id).await?;
        // A token for several audiences must name us as the party it was issued to.
        if claims["aud"].is_array()
            && claims.get("azp").and_then(Value::as_str) != Some(&self.config.client_id)
        {
            return Err(OidcError::Audience);
        }
        match claims.get("nonce").and_then(Value::as_str) {
            Some(found) if crate::oidc::same(found, nonce) => Ok(claims),
            _ => Err(OidcError::Nonce),
        }
    }

    /// An access token's claims, if it is the provider's, for this API, unexpired.
    pub async fn verify_access_token(&self, token: &str) -> Result<Map<String, Value>, OidcError> {
        let audience = self
            .config
            .audience
            .as_deref()
            .unwrap_or(&self.config.client_id);
        let claims = self.verify(token, audience).await?;
        if claims.contains_key("nonce") {
            return Err(OidcError::NotAnAccessToken);
        }
        Ok(claims)
    }

    /// Whether an error is the provider's side (down, unusable answer) rather than the
    /// token's: the API then says so without the details, which go to the log.
    pub fn is_outage(error: &OidcError) -> bool {
        matches!(error, OidcError::Unreachable(_) | OidcError::BadAnswer(_))
    }

    /// The account a token's claims name.
    pub fn account(&self, claims: &Map<String, Value>) -> Result<String, OidcError> {
        claims
            .get(self.claim())
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .ok_or_else(|| OidcError::NoAccount(self.claim().to_owned()))
    }

    /// Whether a token (unverified) says it comes from this provider: the API then checks
    /// it against the provider's keys rather than the server's own.
    pub fn claims_to_be_ours(&self, token: &str) -> bool {
        jsonwebtoken::dangerous::insecure_decode_claims::<Map<String, Value>>(token)
            .ok()
            .and_then(|claims| claims.get("iss").and_then(Value::as_str).map(str::to_owned))
            .is_some_and(|iss| iss == self.config.issuer)
    }
}

/// Equality that takes the same time wherever the first difference lies.
pub fn same(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `application/x-www-form-urlencoded` of one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            other => out.push_str(&format!("%{other:02X}")),
        }
    }
    out
}

fn serde_urlencoded_pairs(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Who a provider's account is in this school, once the caller has checked its token: the
/// server builds it from its services (links in the projections, pupils' keys in the store).
pub type Resolve =
    Arc<dyn Fn(String) -> futures::future::BoxFuture<'static, Option<Identity>> + Send + Sync>;

/// A first sign-in with no link, matched on its claims (`--oidc-match-email`): the
/// identity it links, if any.
pub type FirstSignIn = Arc<
    dyn Fn(String, Map<String, Value>) -> futures::future::BoxFuture<'static, Option<Identity>>
        + Send
        + Sync,
>;

/// The provider's access tokens on the API, and who its accounts are.
pub struct ApiTokens {
    pub provider: Arc<Provider>,
    pub resolve: Resolve,
    /// With `--oidc-match-email`: staff matched on a verified e-mail at first sign-in.
    pub first_sign_in: Option<FirstSignIn>,
}

impl std::fmt::Debug for ApiTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiTokens")
            .field("issuer", &self.provider.issuer())
            .finish_non_exhaustive()
    }
}

impl ApiTokens {
    /// The person an access token stands for, and when it expires.
    pub async fn identify(
        &self,
        token: &str,
    ) -> Result<(Identity, chrono::DateTime<chrono::Utc>), crate::identity::IdentityRejection> {
        let claims = self.provider.verify_access_token(token).await?;
        let account = self.provider.account(&claims)?;
        let until = claims
            .get("exp")
            .and_then(Value::as_i64)
            .and_then(|exp| chrono::DateTime::from_timestamp(exp, 0))
            .ok_or_else(|| OidcError::Claims("exp is not a number".to_owned()))?;
        let identity = (self.resolve)(account)
            .await
            .ok_or(crate::identity::IdentityRejection::NotLinked)?;
        Ok((identity, until))
    }
}

/// The resolver of the server's services: the link in the projections, and for a pupil a
/// data key still in the store.
pub fn resolver(
    services: Arc<crate::context::Services>,
    school: SchoolId,
    issuer: String,
) -> Resolve {
    Arc::new(move |account: String| {
        let services = services.clone();
        let issuer = issuer.clone();
        Box::pin(async move {
            let models = services.snapshot();
            let link = models
                .reference()
                .identity_link(school, &issuer, &account)?
                .clone();
            let has_key = if link.role == Role::Pupil {
                matches!(
                    services
                        .keys
                        .key(suivi_domain::ids::PupilId(link.person_id))
                        .await,
                    Ok(Some(_))
                )
            } else {
                true
            };
            linked_identity(&models, school, &issuer, &account, |_| has_key)
        })
    })
}

/// `--oidc-match-email`: an account with no link yet whose provider vouches for its e-mail
/// (`email_verified` true) is linked to the one staff member the school registered with
/// that address, if there is exactly one, they have no account at this provider yet (a
/// second account never takes over a linked person) and no administrator ever unlinked
/// them or this account there. The link is an `IdentityLinked` event
/// like an administrator's, written by the system and visible in the log.
pub fn email_matcher(
    services: Arc<crate::context::Services>,
    school: SchoolId,
    issuer: String,
) -> FirstSignIn {
    Arc::new(move |account: String, claims: Map<String, Value>| {
        let services = services.clone();
        let issuer = issuer.clone();
        Box::pin(async move {
            let verified = matches!(claims.get("email_verified"), Some(Value::Bool(true)))
                || claims.get("email_verified").and_then(Value::as_str) == Some("true");
            let email = claims.get("email").and_then(Value::as_str)?;
            if !verified {
                return None;
            }
            let models = services.snapshot();
            let reference = models.reference();
            let [teacher] = reference.teachers_with_email(school, email)[..] else {
                return None;
            };
            let person = teacher.teacher_id;
            // A person who has an account here already, or whom an administrator
            // unlinked (this account or another of theirs), is linked by an administrator
            // only: an unlink is never undone by the next sign-in.
            if reference.has_identity_link(school, &issuer, person.0)
                || reference.was_unlinked(school, &issuer, &account, person.0)
            {
                return None;
            }
            let leads = reference
                .classes_of(school)
                .iter()
                .any(|c| c.head_teacher == Some(person));
            let role = if leads {
                Role::HeadTeacher
            } else {
                Role::Teacher
            };
            let meta = suivi_domain::Metadata {
                school_id: school,
                actor: suivi_domain::Actor::System("sign-in-by-verified-email".to_owned()),
                occurred_at: chrono::Utc::now(),
                correlation_id: None,
                causation_id: None,
            };
            let command =
                suivi_domain::Command::LinkIdentity(suivi_domain::events::IdentityLinked {
                    provider: issuer.clone(),
                    subject: account.clone(),
                    role,
                    person_id: person.0,
                });
            match services.gateway.execute(&meta, command).await {
                Ok(executed) => {
                    tracing::info!(teacher = %person.0, "an account was linked by its verified e-mail");
                    services.caught_up(executed.last_position).await;
                }
                Err(error) => {
                    tracing::warn!(%error, "linking an account by its e-mail was refused");
                    return None;
                }
            }
            Some(Identity {
                role,
                subject_id: person.0,
                school_id: school,
                within: Within::default(),
            })
        })
    })
}

/// Who the account `subject` at `provider` is in `school`: the administrator's link, if
/// there is one, to a person who is still there. A pupil must still hold a data key
/// (`pupil_has_key`): an erased pupil signs in as no one.
pub fn linked_identity(
    models: &ReadModels,
    school: SchoolId,
    provider: &str,
    subject: &str,
    pupil_has_key: impl FnOnce(uuid::Uuid) -> bool,
) -> Option<Identity> {
    let link = models
        .reference()
        .identity_link(school, provider, subject)?;
    if link.role == Role::Pupil && !pupil_has_key(link.person_id) {
        return None;
    }
    Some(Identity {
        role: link.role,
        subject_id: link.person_id,
        school_id: school,
        within: Within::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_form_encoded_before_basic_auth() {
        assert_eq!(form_encode("s3cr:et/+x y"), "s3cr%3Aet%2F%2Bx+y");
        assert_eq!(form_encode("suivi-client_1.0"), "suivi-client_1.0");
        assert_eq!(form_encode("é"), "%C3%A9");
    }

    #[test]
    fn an_issuer_must_be_https_or_loopback() {
        let config = |issuer: &str| OidcConfig {
            issuer: issuer.to_owned(),
            client_id: "suivi".to_owned(),
            client_secret: "secret".to_owned(),
            ..OidcConfig::default()
        };
        assert!(Provider::new(config("https://ent.example.fr")).is_ok());
        assert!(Provider::new(config("http://127.0.0.1:4000")).is_ok());
        assert!(Provider::new(config("http://localhost/op")).is_ok());
        let refused = Provider::new(config("http://ent.example.fr"))
            .err()
            .expect("refused");
        assert!(refused.contains("https://"), "{refused}");
        assert!(Provider::new(config("http://127.0.0.1.evil.fr")).is_err());
        assert!(Provider::new(config("http://localhost:1@evil.example")).is_err());
        let mut no_secret = config("https://ent.example.fr");
        no_secret.client_secret.clear();
        assert!(Provider::new(no_secret).is_err());
    }
}
