//! Sign-in with the school's OpenID Connect provider, end to end: a real provider
//! (`crates/web/tests/browser/oidc-provider.mjs`, panva's oidc-provider), `suivi serve` as a
//! child process on a port chosen first (the provider must know the redirect URIs), and
//! Debian's chromium driven headless by playwright-core (`oidc-signin.mjs`). It proves:
//!
//! - a teacher, a guardian and a pupil, each linked by an administrator (`linkIdentity`),
//!   sign in through the provider's login page (code flow, PKCE S256, state, nonce) and land
//!   on their own home with an HttpOnly, SameSite=Lax cookie, seeing their own people (the
//!   API's answer to their demo token) and no one else's;
//! - every ID token the provider spoils (tampered, another audience, expired, another
//!   issuer, another nonce, `alg: none`, a key not in the JWKS) and a refusal by the
//!   provider end on the French failure page with 401, a changed state or a callback with
//!   no sign-in behind it with 400, a replayed code with 400 or 401 (even in a browser
//!   holding the flow cookie it was issued with): no session, nothing of any pupil shown.
//!   An account nobody linked gets 403 and its identifier, and nothing else;
//! - with `--oidc-match-email`, a first sign-in whose provider vouches for the e-mail the
//!   school registered for a teacher links that account (the unlink that follows finds
//!   it), but never again once an administrator unlinked it; an unverified e-mail links
//!   nothing (403);
//! - unlinking an account ends its session at once; after the provider rotates its key, a
//!   sign-in still works; signing out ends the session here and at the provider;
//! - the provider's access tokens open the API as the linked person (the same answer as
//!   that person's demo token), while an ID token or an unlinked account's token gets 401;
//! - sessions live beside the log: one survives a restart of the server on its SQLite
//!   store, and a second server on the same PostgreSQL schema knows a session opened on
//!   the first;
//! - the pages a refused sign-in shows pass axe-core.
//!
//! Needs node, `npm ci` in crates/web/tests/browser, /usr/bin/chromium (`./test` installs
//! them) and PostgreSQL (`SUIVI_PG_URL`, default postgres://postgres@127.0.0.1:5432/test):
//! without it the test fails. `SUIVI_OIDC_SEEN=FILE` keeps what the browser saw (JSON).

mod common;
mod pg;

use common::demo_server::{post, DemoServer};
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The HS256 secret of the demo tokens (the same on every server of the test).
const SECRET: &str = "oidc-signin-test-secret-of-at-least-32-bytes!";
/// suivi's client secret at the provider: `:`, `/` and `+` must survive the HTTP Basic
/// encoding of the token request.
const CLIENT_SECRET: &str = "s3cr:et/+x";
const BACKEND_SECRET: &str = "b4ck:end/+y";
const API_AUDIENCE: &str = "https://suivi.test/api";

const CLASSES: &str = "{ classes { id name pupils { id displayName } } }";
const FAMILY: &str = "{ family { id displayName } }";

/// The provider's accounts: login (= `sub`) for each part the test plays.
const TEACHER: &str = "prof";
const GUARDIAN: &str = "parent";
const PUPIL: &str = "eleve";
const UNLINKED: &str = "inconnu";
const UNLINK_MID_SESSION: &str = "prof2";
/// No link: matched at first sign-in on the verified e-mail the school registered
/// (`--oidc-match-email`, the main server only)…
const BY_EMAIL: &str = "nouvelle";
const BY_EMAIL_ADDRESS: &str = "claire.nouvelle@ecole.test";
/// …but not on an e-mail the provider does not vouch for.
const UNVERIFIED: &str = "douteux";
const UNVERIFIED_ADDRESS: &str = "paul.douteux@ecole.test";
/// Not an account of the provider: it refuses the login with access_denied.
const REFUSED: &str = "personne";

const MISCHIEF: [&str; 7] = [
    "tamper",
    "audience",
    "expired",
    "issuer",
    "nonce",
    "alg-none",
    "foreign-key",
];

/// A demo user's subject and token.
struct Person {
    subject: String,
    token: String,
}

/// The test provider as a child process, stopped when dropped.
struct Provider {
    child: Child,
    issuer: String,
}

impl Provider {
    fn start(config: &Value, scratch: &Scratch) -> Provider {
        let path = scratch.write("provider.json", config.to_string().as_bytes());
        let mut child = Command::new("node")
            .arg(repo_file("crates/web/tests/browser/oidc-provider.mjs"))
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("node runs the test provider");
        let stdout = child.stdout.take().expect("the provider's stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Drains stdout for as long as the provider runs (it should stay quiet).
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let ready = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the provider prints its ready line");
        let ready: Value = serde_json::from_str(&ready).expect("the ready line is JSON");
        let issuer = ready["issuer"].as_str().expect("issuer").to_owned();
        assert_eq!(issuer, format!("http://127.0.0.1:{}", ready["port"]));
        Provider { child, issuer }
    }
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// When the test fails, the end of each server's log (they write no personal data).
struct LogsOnFailure(Vec<PathBuf>);

impl Drop for LogsOnFailure {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        for path in &self.0 {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let lines: Vec<&str> = text.lines().collect();
            let tail = &lines[lines.len().saturating_sub(40)..];
            eprintln!("--- {} (last {} lines)", path.display(), tail.len());
            for line in tail {
                eprintln!("{line}");
            }
        }
    }
}

/// `n` distinct ports free right now (held together while they are picked).
fn free_ports(n: usize) -> Vec<u16> {
    let held: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").expect("a free port"))
        .collect();
    held.iter()
        .map(|l| l.local_addr().expect("address").port())
        .collect()
}

fn oidc_args(issuer: &str) -> Vec<String> {
    [
        "--oidc-issuer",
        issuer,
        "--oidc-client-id",
        "suivi",
        "--oidc-client-secret",
        CLIENT_SECRET,
        "--oidc-audience",
        API_AUDIENCE,
    ]
    .map(str::to_owned)
    .to_vec()
}

fn query(addr: &str, token: &str, text: &str, variables: Value) -> Value {
    let (status, body) = post(addr, token, text, variables);
    assert_eq!(status, 200, "{text}: {body}");
    assert!(body["errors"].is_null(), "{text}: {body}");
    body["data"].clone()
}

fn link(addr: &str, admin: &str, issuer: &str, subject: &str, role: &str, person: &str) {
    let data = query(
        addr,
        admin,
        "mutation($i: LinkIdentityInput!) { linkIdentity(input: $i) { eventTypes } }",
        json!({ "i": { "provider": issuer, "subject": subject, "role": role, "personId": person } }),
    );
    assert_eq!(
        data["linkIdentity"]["eventTypes"],
        json!(["IdentityLinked"]),
        "{subject}"
    );
}

fn run_browser(plan: &Value, scratch: &Scratch, name: &str) -> Value {
    let path = scratch.write(name, plan.to_string().as_bytes());
    let run = Command::new("node")
        .arg(repo_file("crates/web/tests/browser/oidc-signin.mjs"))
        .arg(&path)
        .output()
        .expect("node runs");
    assert!(
        run.status.success(),
        "the browser script failed ({name}):\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).expect("the script prints JSON")
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

fn ids(v: &Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|x| text(x).to_owned())
        .collect()
}

/// Names in `all` the page must not show: not `allowed`, and not part of an allowed name
/// (a page showing "Léa Martinez" does contain "Léa Martin").
fn others(all: &[String], allowed: &[String]) -> Vec<String> {
    all.iter()
        .filter(|n| !allowed.iter().any(|a| a.contains(n.as_str())))
        .cloned()
        .collect()
}

fn shows_none(body: &Value, names: &[String], what: &str) {
    let body = text(body);
    assert!(!names.is_empty(), "{what}: names to look for");
    let shown: Vec<&String> = names.iter().filter(|n| body.contains(n.as_str())).collect();
    assert!(shown.is_empty(), "{what}: the page shows {shown:?}");
}

/// `GET /accueil` as the script saw it sent to sign in: 303 to /connexion, ending there.
fn sent_to_sign_in(seen: &Value, what: &str) {
    assert_eq!(seen["direct"], json!(303), "{what}: {seen}");
    let location = text(&seen["location"]);
    // Relative, or absolute on this server.
    let path = match location.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("", |i| &rest[i..]),
        None => location,
    };
    assert!(
        path == "/connexion" || path.starts_with("/connexion?"),
        "{what}: redirected to {location}"
    );
    assert_eq!(seen["landed"], json!("/connexion"), "{what}");
}

/// A refused sign-in: the failure page with `status`, a reason, no session, no pupil.
fn refused(seen: &Value, status: u16, h1: &str, names: &[String], what: &str) {
    assert_eq!(seen["callbackStatus"], json!(status), "{what}: {seen}");
    assert_eq!(seen["status"], json!(status), "{what}");
    assert_eq!(seen["h1"], json!(h1), "{what}");
    assert!(seen["cookie"].is_null(), "{what}: a session cookie was set");
    let set = seen["callbackSetCookies"].as_array().expect("cookies");
    assert!(
        !set.contains(&json!("suivi_session=…")),
        "{what}: the callback set a session: {set:?}"
    );
    shows_none(&seen["body"], names, what);
    sent_to_sign_in(&seen["accueil"], what);
}

#[test]
fn people_sign_in_with_the_schools_openid_provider() {
    let browser_dir = repo_file("crates/web/tests/browser");
    assert!(
        browser_dir.join("node_modules/playwright-core").exists()
            && browser_dir.join("node_modules/oidc-provider").exists(),
        "run `npm ci` in {} (./test does it) and install chromium",
        browser_dir.display()
    );
    let started = Instant::now();
    let s = Scratch::new();
    let schema = pg::Schema::fresh();
    // PostgreSQL is part of what this test proves: unreachable is a failure.
    schema.execute("SELECT 1");

    let ports = free_ports(4);
    let (port, port_a, port_b, port_backend) = (ports[0], ports[1], ports[2], ports[3]);
    let addr = format!("127.0.0.1:{port}");
    let base = format!("http://{addr}");
    let (addr_a, addr_b) = (format!("127.0.0.1:{port_a}"), format!("127.0.0.1:{port_b}"));
    let backend_redirect = format!("http://127.0.0.1:{port_backend}/nulle-part");

    let user =
        |email: &str, name: &str| json!({ "email": email, "email_verified": true, "name": name });
    let servers = [port, port_a, port_b];
    let redirect_uris: Vec<String> = servers
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}/connexion/oidc/retour"))
        .collect();
    let post_logout_uris: Vec<String> = servers
        .iter()
        .map(|p| format!("http://127.0.0.1:{p}/connexion"))
        .collect();
    let config = json!({
        "port": 0,
        "clients": [
            {
                "client_id": "suivi",
                "client_secret": CLIENT_SECRET,
                "redirect_uris": redirect_uris,
                "post_logout_redirect_uris": post_logout_uris,
            },
            {
                "client_id": "ent-backend",
                "client_secret": BACKEND_SECRET,
                "redirect_uris": [backend_redirect],
            },
        ],
        "users": {
            TEACHER: user("prof@ecole.test", "Professeur principal"),
            GUARDIAN: user("parent@famille.test", "Responsable"),
            PUPIL: user("eleve@ecole.test", "Élève"),
            UNLINKED: user("inconnu@ecole.test", "Inconnu"),
            UNLINK_MID_SESSION: user("prof2@ecole.test", "Professeur"),
            BY_EMAIL: user(BY_EMAIL_ADDRESS, "Claire Nouvelle"),
            UNVERIFIED: { "email": UNVERIFIED_ADDRESS, "email_verified": false, "name": "Paul Douteux" },
        },
        "apiAudience": API_AUDIENCE,
    });
    let provider = Provider::start(&config, &s);
    let issuer = provider.issuer.clone();
    let oidc = oidc_args(&issuer);
    let oidc: Vec<&str> = oidc.iter().map(String::as_str).collect();
    let mut main_args = oidc.clone();
    main_args.push("--oidc-match-email");

    let store = s.store("oidc.db");
    let logs = LogsOnFailure(vec![
        s.path("serve.log"),
        s.path("serve-restarted.log"),
        s.path("serve-a.log"),
        s.path("serve-b.log"),
    ]);
    let migrate = suivi(&["migrate", "--store", &schema.url]);
    assert!(migrate.ok(), "suivi migrate: {}", migrate.stderr);
    // The SQLite server and PostgreSQL's A load their demo schools side by side.
    let (demo, a) = std::thread::scope(|scope| {
        let main = scope.spawn(|| {
            DemoServer::start_at(
                &store,
                &addr,
                true,
                SECRET,
                &main_args,
                Some(&s.path("serve.log")),
            )
        });
        let a = scope.spawn(|| {
            DemoServer::start_at(
                &schema.url,
                &addr_a,
                true,
                SECRET,
                &oidc,
                Some(&s.path("serve-a.log")),
            )
        });
        (
            main.join().expect("the server starts"),
            a.join().expect("server A starts"),
        )
    });
    eprintln!("servers up after {:?}", started.elapsed());

    let admin = demo.user("administrator").token.clone();
    // Owned: the server is restarted before the last checks (the tokens stay valid, the
    // secret is the same).
    let person = |role: &str| {
        let u = demo.user(role);
        Person {
            subject: u.subject.clone(),
            token: u.token.clone(),
        }
    };
    let (head, teacher, guardian, pupil) = (
        person("professeur_principal"),
        person("teacher"),
        person("guardian"),
        person("pupil"),
    );

    // What each person may see, from the API with their demo tokens.
    let all = query(&demo.addr, &admin, CLASSES, json!({}));
    let mut everyone: Vec<(String, String)> = all["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .flat_map(|c| c["pupils"].as_array().expect("pupils").iter())
        .map(|p| {
            (
                text(&p["id"]).to_owned(),
                text(&p["displayName"]).to_owned(),
            )
        })
        .collect();
    everyone.sort();
    everyone.dedup();
    let all_names: Vec<String> = everyone.iter().map(|(_, n)| n.clone()).collect();
    let head_classes: BTreeSet<String> = query(&demo.addr, &head.token, CLASSES, json!({}))
        ["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| text(&c["id"]).to_owned())
        .collect();
    assert!(
        !head_classes.is_empty(),
        "the professeur principal has classes"
    );
    let family = query(&demo.addr, &guardian.token, FAMILY, json!({}));
    let family: Vec<(String, String)> = family["family"]
        .as_array()
        .expect("family")
        .iter()
        .map(|c| {
            (
                text(&c["id"]).to_owned(),
                text(&c["displayName"]).to_owned(),
            )
        })
        .collect();
    assert!(!family.is_empty(), "the demo guardian follows a child");
    let family_names: Vec<String> = family.iter().map(|(_, n)| n.clone()).collect();
    let pupil_name = everyone
        .iter()
        .find(|(id, _)| *id == pupil.subject)
        .map(|(_, n)| n.clone())
        .expect("the demo pupil is in a class");
    assert!(
        family.iter().any(|(id, _)| *id == pupil.subject),
        "the demo pupil is the demo guardian's child"
    );

    // The administrator links the provider's accounts to the demo's people.
    for (subject, role, person) in [
        (TEACHER, "HEAD_TEACHER", &head.subject),
        (UNLINK_MID_SESSION, "TEACHER", &teacher.subject),
        (GUARDIAN, "GUARDIAN", &guardian.subject),
        (PUPIL, "PUPIL", &pupil.subject),
    ] {
        link(&demo.addr, &admin, &issuer, subject, role, person);
    }
    // Two new teachers with an e-mail the school registered, and no link.
    for (name, email) in [
        ("Mme Nouvelle", BY_EMAIL_ADDRESS),
        ("M. Douteux", UNVERIFIED_ADDRESS),
    ] {
        let data = query(
            &demo.addr,
            &admin,
            "mutation($i: RegisterTeacherInput!) { registerTeacher(input: $i) { eventTypes } }",
            json!({ "i": { "displayName": name, "email": email } }),
        );
        assert_eq!(
            data["registerTeacher"]["eventTypes"],
            json!(["TeacherRegistered"])
        );
    }
    // On PostgreSQL: the teacher linked through A, then B started on the same schema.
    let head_a = a.user("professeur_principal");
    link(
        &a.addr,
        &a.user("administrator").token,
        &issuer,
        TEACHER,
        "HEAD_TEACHER",
        &head_a.subject,
    );
    let classes_a: BTreeSet<String> = query(&a.addr, &head_a.token, CLASSES, json!({}))["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .map(|c| text(&c["id"]).to_owned())
        .collect();
    let b = DemoServer::start_at(
        &schema.url,
        &addr_b,
        false,
        SECRET,
        &oidc,
        Some(&s.path("serve-b.log")),
    );

    let storage = s.path("browser-storage.json");
    let mut plan = json!({
        "phase": "signin",
        "base": base,
        "issuer": issuer,
        "users": {
            "teacher": TEACHER, "guardian": GUARDIAN, "pupil": PUPIL, "unlinked": UNLINKED,
            "unlinkMidSession": UNLINK_MID_SESSION, "refused": REFUSED,
            "byEmail": BY_EMAIL, "unverified": UNVERIFIED,
        },
        "admin": admin,
        "mischief": MISCHIEF,
        "storage": storage,
        "backend": { "client_id": "ent-backend", "client_secret": BACKEND_SECRET, "redirect_uri": backend_redirect },
        "suiviClient": { "client_id": "suivi", "client_secret": CLIENT_SECRET, "redirect_uri": format!("{base}/connexion/oidc/retour") },
        "apiQueries": { "teacher": CLASSES, "guardian": FAMILY },
        "pg": { "a": format!("http://{addr_a}"), "b": format!("http://{addr_b}") },
    });
    let seen = run_browser(&plan, &s, "plan.json");
    eprintln!(
        "browser run done after {:?}; its steps (ms from its start): {}",
        started.elapsed(),
        seen["timings"]
    );

    // The restart: SIGTERM, then the same store on the same port.
    let stopped = demo.terminate();
    assert!(stopped.success(), "the server stops cleanly: {stopped}");
    let demo = DemoServer::start_at(
        &store,
        &addr,
        true,
        SECRET,
        &main_args,
        Some(&s.path("serve-restarted.log")),
    );
    plan["phase"] = json!("restarted");
    let restarted = run_browser(&plan, &s, "plan-restarted.json");
    if let Ok(path) = std::env::var("SUIVI_OIDC_SEEN") {
        let both = json!({ "signin": seen, "restarted": restarted });
        std::fs::write(&path, serde_json::to_string_pretty(&both).expect("JSON"))
            .expect("writing SUIVI_OIDC_SEEN");
    }
    eprintln!("all runs done after {:?}", started.elapsed());

    // The sign-in page offers the ENT.
    let connexion = &seen["connexion"];
    assert_eq!(connexion["status"], json!(200));
    assert_eq!(connexion["link"], json!("/connexion/oidc"));
    assert_eq!(connexion["text"], json!("Se connecter avec l'ENT"));
    assert_eq!(
        connexion["axe"],
        json!([]),
        "/connexion: axe-core violations"
    );

    // (a) Each person lands on their home, with their own people.
    let redirect_uri = format!("{base}/connexion/oidc/retour");
    for (role, home) in [
        ("teacher", "/accueil"),
        ("guardian", "/famille"),
        ("pupil", "/moi"),
    ] {
        let signed = &seen["signIns"][role];
        assert_eq!(signed["connexion"], json!(200), "{role}: {signed}");
        assert_eq!(signed["link"], json!("/connexion/oidc"), "{role}");
        assert_eq!(signed["start"]["status"], json!(303), "{role}");
        assert!(
            text(&signed["start"]["location"]).starts_with(&issuer),
            "{role}: sent to {}",
            signed["start"]["location"]
        );
        let asked = &signed["authorize"];
        assert_eq!(asked["scope"], json!("openid email profile"), "{role}");
        assert_eq!(asked["clientId"], json!("suivi"), "{role}");
        assert_eq!(asked["redirectUri"], json!(redirect_uri), "{role}");
        assert_eq!(asked["codeChallengeMethod"], json!("S256"), "{role}");
        for key in ["state", "nonce", "codeChallenge"] {
            assert_eq!(asked[key], json!(true), "{role}: {key}");
        }
        assert!(
            !signed["flowCookies"].as_array().expect("names").is_empty(),
            "{role}: /connexion/oidc sets a flow cookie"
        );
        let back = ids(&signed["callbackQuery"]);
        for key in ["code", "state", "iss"] {
            assert!(
                back.contains(key),
                "{role}: the callback has {key}: {back:?}"
            );
        }
        assert_eq!(signed["callbackStatus"], json!(303), "{role}: {signed}");
        assert_eq!(signed["landed"], json!(home), "{role}");
        assert_eq!(signed["status"], json!(200), "{role}");
        assert_eq!(signed["cookie"]["httpOnly"], json!(true), "{role}");
        assert_eq!(signed["cookie"]["sameSite"], json!("Lax"), "{role}");
        assert!(
            signed["signOut"].as_u64().expect("count") >= 1,
            "{role}: the page has the sign-out form"
        );
        assert_eq!(
            signed["again"]["direct"],
            json!(200),
            "{role}: home opens again"
        );
    }
    let signed = &seen["signIns"]["teacher"];
    assert_eq!(signed["h1"], json!("Accueil"));
    assert_eq!(
        ids(&signed["classes"]),
        head_classes,
        "the teacher's classes"
    );
    let signed = &seen["signIns"]["guardian"];
    let shown: BTreeSet<String> = signed["children"]
        .as_array()
        .expect("children")
        .iter()
        .map(|c| text(&c["id"]).to_owned())
        .collect();
    let expected: BTreeSet<String> = family.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(shown, expected, "the guardian's page: their children");
    for name in &family_names {
        assert!(
            text(&signed["body"]).contains(name.as_str()),
            "the guardian's page names {name}"
        );
    }
    shows_none(
        &signed["body"],
        &others(&all_names, &family_names),
        "the guardian's page",
    );
    let signed = &seen["signIns"]["pupil"];
    let shown: Vec<&str> = signed["children"]
        .as_array()
        .expect("sections")
        .iter()
        .map(|c| text(&c["id"]))
        .collect();
    assert_eq!(
        shown,
        vec![pupil.subject.as_str()],
        "the pupil's page: them only"
    );
    assert!(
        text(&signed["children"][0]["heading"]).contains(&pupil_name),
        "the pupil's page is headed with their name"
    );
    shows_none(
        &signed["body"],
        &others(&all_names, std::slice::from_ref(&pupil_name)),
        "the pupil's page",
    );

    // (c) The teacher's callback once more: in the same browser, in one given the flow
    // cookie it was issued with (so only the spent code can tell), and in an empty one.
    let failure = "Connexion impossible";
    let again = &seen["replaySameBrowser"];
    assert!(
        [json!(400), json!(401)].contains(&again["status"]),
        "replayed callback: {again}"
    );
    assert_eq!(again["h1"], json!(failure));
    assert_ne!(
        again["cookie"],
        json!("changed"),
        "the replay opened a new session"
    );
    shows_none(&again["body"], &all_names, "replayed callback");
    let with_flow = &seen["replayWithFlow"];
    assert!(!with_flow["flowCookies"]
        .as_array()
        .expect("names")
        .is_empty());
    assert!(
        [json!(400), json!(401)].contains(&with_flow["status"]),
        "replayed code with its flow cookie: {with_flow}"
    );
    assert_eq!(with_flow["h1"], json!(failure));
    assert!(
        with_flow["cookie"].is_null(),
        "the replayed code opened a session"
    );
    shows_none(&with_flow["body"], &all_names, "replayed code");
    sent_to_sign_in(&with_flow["accueil"], "after a replayed code");
    let fresh = &seen["replayFresh"];
    assert_eq!(
        fresh["status"],
        json!(400),
        "a callback with no flow: {fresh}"
    );
    assert_eq!(fresh["h1"], json!(failure));
    assert!(fresh["cookie"].is_null());
    shows_none(&fresh["body"], &all_names, "callback with no flow");
    sent_to_sign_in(&fresh["accueil"], "after a callback with no flow");

    // (d) A changed state.
    let tampered = &seen["stateMismatch"];
    assert_ne!(
        tampered["tampered"]["sent"], tampered["tampered"]["now"],
        "the state was changed"
    );
    refused(tampered, 400, failure, &all_names, "changed state");
    assert!(!text(&tampered["error"]).is_empty());
    assert_eq!(tampered["axe"], json!([]), "failure page (400): axe-core");

    // (b) Every spoiled ID token: the provider answered with it (the mode is spent), and
    // suivi refused it.
    for mode in MISCHIEF {
        let seen = &seen["mischief"][mode];
        assert_eq!(seen["armed"], json!(mode));
        assert_eq!(
            seen["spent"],
            json!("none"),
            "{mode}: suivi exchanged the code"
        );
        refused(seen, 401, failure, &all_names, mode);
        let reason = text(&seen["error"]);
        assert!(
            reason.starts_with("La connexion avec l'ENT n'a pas abouti"),
            "{mode}: {reason}"
        );
        eprintln!("{mode}: {reason}");
    }
    assert_eq!(
        seen["mischief"]["tamper"]["axe"],
        json!([]),
        "failure page (401): axe-core"
    );

    // The provider's own refusal.
    let denied = &seen["providerRefused"];
    refused(denied, 401, failure, &all_names, "access_denied");
    assert_eq!(
        denied["axe"],
        json!([]),
        "failure page (access_denied): axe-core"
    );

    // (e) An account nobody linked: 403, its identifier, nothing else.
    let unknown = &seen["unlinked"];
    refused(
        unknown,
        403,
        "Compte pas encore relié",
        &all_names,
        "unlinked account",
    );
    assert_eq!(unknown["subject"], json!(UNLINKED));
    assert_eq!(
        unknown["axe"],
        json!([]),
        "the 'pas encore relié' page: axe-core"
    );

    // (e2) --oidc-match-email: the verified e-mail links the account to the one teacher
    // registered with it (the unlink that follows finds the link the sign-in wrote); an
    // e-mail the provider does not vouch for links nothing.
    let by_email = &seen["byEmail"];
    assert_eq!(
        by_email["signIn"]["landed"],
        json!("/accueil"),
        "{by_email}"
    );
    assert_eq!(by_email["signIn"]["status"], json!(200), "{by_email}");
    assert!(
        text(&by_email["signIn"]["body"]).contains("Connecté : Enseignant"),
        "signed in as a teacher: {by_email}"
    );
    assert_eq!(
        by_email["unlink"]["body"]["data"]["unlinkIdentity"]["eventTypes"],
        json!(["IdentityUnlinked"]),
        "the sign-in linked the account: {by_email}"
    );
    refused(
        &seen["byEmailAgain"],
        403,
        "Compte pas encore relié",
        &all_names,
        "an account the administrator unlinked, signing in again with its e-mail",
    );
    refused(
        &seen["unverified"],
        403,
        "Compte pas encore relié",
        &all_names,
        "an unverified e-mail",
    );

    // (f) Unlinked while signed in: the next page sends them to sign in.
    let mid = &seen["unlinkMidSession"];
    assert_eq!(mid["signIn"]["landed"], json!("/accueil"), "{mid}");
    assert_eq!(mid["before"]["direct"], json!(200));
    assert_eq!(mid["before"]["h1"], json!("Accueil"));
    assert_eq!(mid["unlink"]["status"], json!(200), "{}", mid["unlink"]);
    assert!(
        mid["unlink"]["body"]["errors"].is_null(),
        "{}",
        mid["unlink"]
    );
    sent_to_sign_in(&mid["after"], "after unlinking");

    // (h) Sign-out: through the provider, back on /connexion; the old cookie opens
    // nothing, and the provider asks for the login again.
    let out = &seen["logout"];
    assert_eq!(out["homeStatus"], json!(200), "{out}");
    assert_eq!(out["buttonText"], json!("Se déconnecter"));
    assert_eq!(
        out["endSession"]["postLogoutRedirectUri"],
        json!(format!("{base}/connexion")),
        "{out}"
    );
    assert_eq!(out["endSession"]["clientId"], json!("suivi"), "{out}");
    assert_eq!(out["landedOrigin"], json!(base));
    assert_eq!(out["landed"], json!("/connexion"));
    assert_eq!(out["h1"], json!("Connexion à suivi"));
    assert!(
        out["cookieAfter"].is_null(),
        "a session cookie after sign-out"
    );
    sent_to_sign_in(&out["oldCookie"], "the cookie after sign-out");
    assert_eq!(out["nextSignIn"]["origin"], json!(issuer));
    assert_eq!(out["nextSignIn"]["loginShown"], json!(true), "{out}");

    // (g) After the provider's key rotation.
    let rotation = &seen["rotation"];
    assert_ne!(rotation["before"], rotation["after"]);
    assert_eq!(
        rotation["signIn"]["landed"],
        json!("/accueil"),
        "{rotation}"
    );
    assert_eq!(rotation["signIn"]["cookie"]["httpOnly"], json!(true));
    assert_eq!(rotation["signIn"]["accueil"]["direct"], json!(200));

    // (j) The provider's access tokens on the API: the same answers as the demo tokens.
    for (role, token, text_of) in [
        ("teacher", &head.token, CLASSES),
        ("guardian", &guardian.token, FAMILY),
    ] {
        let api = &seen["api"][role];
        assert_eq!(api["accessAud"], json!(API_AUDIENCE));
        assert_eq!(
            api["answer"]["status"],
            json!(200),
            "{role}: {}",
            api["answer"]
        );
        let expected = query(&demo.addr, token, text_of, json!({}));
        assert!(
            api["answer"]["body"]["errors"].is_null(),
            "{role}: {}",
            api["answer"]
        );
        assert_eq!(api["answer"]["body"]["data"], expected, "{role}'s answer");
        assert_eq!(
            api["withIdToken"]["status"],
            json!(401),
            "{role}: ID token as bearer"
        );
        assert!(api["withIdToken"]["body"]["data"].is_null());
    }
    let own = &seen["api"]["teacher"]["withSuiviIdToken"];
    assert_eq!(own["idAud"], json!("suivi"), "an ID token issued to suivi");
    assert_eq!(
        own["answer"]["status"],
        json!(401),
        "suivi's own ID token as bearer: {own}"
    );
    assert!(own["answer"]["body"]["data"].is_null());
    let stranger = &seen["api"]["unlinked"];
    assert_eq!(stranger["accessAud"], json!(API_AUDIENCE));
    assert_eq!(stranger["answer"]["status"], json!(401), "{stranger}");
    assert!(stranger["answer"]["body"]["data"].is_null());

    // (k) PostgreSQL: B knows the session opened on A.
    let pg = &seen["pg"];
    sent_to_sign_in(&pg["probe"], "B before signing in");
    assert_eq!(pg["signIn"]["landed"], json!("/accueil"), "{pg}");
    assert_eq!(pg["signIn"]["port"], json!(port_a.to_string()));
    assert_eq!(pg["onA"]["direct"], json!(200));
    assert_eq!(pg["onB"]["direct"], json!(200), "B: {}", pg["onB"]);
    assert_eq!(pg["onB"]["port"], json!(port_b.to_string()));
    assert_eq!(pg["onB"]["h1"], json!("Accueil"));
    assert_eq!(
        ids(&pg["onB"]["classes"]),
        classes_a,
        "B shows the teacher's classes"
    );

    // (i) The restart: the same browser is still signed in, as the same person.
    let before = &seen["restart"]["before"];
    assert_eq!(before["direct"], json!(200), "{before}");
    let after = &restarted["restart"]["after"];
    assert_eq!(restarted["restart"]["cookie"]["httpOnly"], json!(true));
    assert_eq!(after["direct"], json!(200), "after the restart: {after}");
    assert_eq!(after["h1"], json!("Accueil"));
    assert_eq!(ids(&after["classes"]), head_classes);
    sent_to_sign_in(
        &restarted["restart"]["fresh"],
        "a new browser after the restart",
    );

    drop((demo, a, b, provider, logs));
    eprintln!("done after {:?}", started.elapsed());
}
