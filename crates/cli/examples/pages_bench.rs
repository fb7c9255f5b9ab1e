//! The pages under load, on loopback, with the real `suivi serve --demo` (issue 13):
//!
//! 1. **CPU per page, cold.** Closed loop on one connection: the conseil board of each
//!    class by the staff who may open it, pupil sheets, and `/moi` for every pupil, each
//!    from its own signed-in session (many distinct identities; pages never go through
//!    the API's answer cache). The server's CPU time (from `/proc`) over the requests,
//!    beside the same figure for `GET /static/suivi.css` (HTTP and sessions, no data).
//! 2. **Open loop at R pages/s** for D seconds, a mix of boards, sheets and family pages:
//!    latency from the instant a request was due; a request unanswered 5 s after the
//!    last one was due counts as failed.
//! 3. **Sizes**: each page with its stylesheet and script.
//! 4. **Live board**: an SSE stream on a quiet session the example starts itself (a class
//!    where the demo's simulation does not run, a parcours published for it); N times a
//!    pupil starts or completes a step with their own token, and the time until the stream
//!    carries their changed tile is measured from the mutation leaving the client.
//!
//! Run: `cargo run --release -p suivi-cli --example pages_bench -- [RATE SECONDS POKES]`
//! (default 200 10 40).

use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use suivi_domain::ids::SchoolId;
use suivi_domain::Role;
use suivi_graphql::jwt::{issue_hs256, Claims};
use suivi_graphql::Identity;

#[path = "bench_http/mod.rs"]
mod bench_http;
use bench_http::{cpu_seconds, get, graphql, percentile, sign_in, suivi_bin};

const SECRET: &str = "pages-bench-secret-of-at-least-32-bytes!";

fn token(role: Role, subject: &str, school: SchoolId) -> String {
    let identity = Identity {
        role,
        subject_id: subject.parse().expect("a uuid"),
        school_id: school,
        within: Default::default(),
    };
    let claims = Claims::new(&identity, chrono::Utc::now(), Duration::from_secs(3600));
    issue_hs256(SECRET.as_bytes(), &claims).expect("a token")
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rate: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(200.0);
    let seconds: f64 = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10.0);
    let pokes: usize = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(40);
    let dir = std::env::temp_dir().join(format!("pages-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a scratch directory");
    let store = format!("sqlite:{}", dir.join("demo.db").display());
    let mut child = Command::new(suivi_bin())
        .args([
            "serve",
            "--demo",
            "--store",
            &store,
            "--addr",
            "127.0.0.1:0",
        ])
        .env("SUIVI_JWT_SECRET", SECRET)
        .env_remove("RUST_LOG")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start suivi serve --demo");
    let pid = child.id();
    let mut addr = String::new();
    let mut admin = String::new();
    let mut last = String::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("a line");
        if let Some(rest) = line.strip_prefix("suivi demo on http://") {
            addr = rest.trim_end_matches('/').to_owned();
        }
        if last.starts_with("administrator (subject") {
            admin = line
                .trim()
                .trim_start_matches("{\"Authorization\": \"Bearer ")
                .trim_end_matches("\"}")
                .to_owned();
        }
        if line.starts_with("pupil (subject") {
            break;
        }
        last = line;
    }
    let all = graphql(
        &addr,
        &admin,
        "{ school { id } classes { id name headTeacher { id } teaching { teacher { id } } pupils { id } } }",
        json!({}),
    );
    let data = &all["data"];
    let school = SchoolId(
        data["school"]["id"]
            .as_str()
            .expect("id")
            .parse()
            .expect("uuid"),
    );

    // Sessions: the administrator, each professeur principal and teacher, every pupil.
    let mut pages: Vec<(String, String)> = Vec::new();
    let mut staff = 0;
    let admin_cookie = sign_in(&addr, &admin);
    let mut boards = Vec::new();
    for class in data["classes"].as_array().expect("classes") {
        let id = class["id"].as_str().expect("id");
        let pupils: Vec<&str> = class["pupils"]
            .as_array()
            .expect("pupils")
            .iter()
            .filter_map(|p| p["id"].as_str())
            .collect();
        boards.push((id.to_owned(), pupils.len()));
        let mut teachers: Vec<(Role, &str)> = class["teaching"]
            .as_array()
            .expect("teaching")
            .iter()
            .filter_map(|t| t["teacher"]["id"].as_str())
            .map(|t| (Role::Teacher, t))
            .collect();
        if let Some(head) = class["headTeacher"]["id"].as_str() {
            teachers.retain(|(_, t)| *t != head);
            teachers.push((Role::HeadTeacher, head));
        }
        teachers.sort_by_key(|(_, t)| *t);
        teachers.dedup_by_key(|(_, t)| *t);
        for (role, teacher) in teachers {
            let cookie = sign_in(&addr, &token(role, teacher, school));
            staff += 1;
            pages.push((format!("/classes/{id}/conseil"), cookie.clone()));
            for pupil in pupils.iter().take(3) {
                pages.push((format!("/eleves/{pupil}"), cookie.clone()));
            }
        }
        for pupil in &pupils {
            pages.push((
                "/moi".to_owned(),
                sign_in(&addr, &token(Role::Pupil, pupil, school)),
            ));
        }
    }
    // Only the pages each session may open (a teacher's sheet of a pupil who has left
    // their class is a 404).
    pages.retain(|(path, cookie)| get(&addr, path, cookie).0 == 200);
    let identities = staff + pages.iter().filter(|(p, _)| p == "/moi").count() + 1;
    println!(
        "{} sessions ({} staff, {} pupils, 1 administrator), {} distinct pages",
        identities,
        staff,
        identities - staff - 1,
        pages.len()
    );

    // 1. CPU per page, cold, closed loop.
    let (class, size) = boards
        .iter()
        .max_by_key(|(_, n)| *n)
        .cloned()
        .expect("a class");
    let staff_pages: Vec<&(String, String)> = pages
        .iter()
        .filter(|(p, _)| p.contains("/conseil"))
        .collect();
    let measure = |path_of: &dyn Fn(usize) -> (String, String), n: usize| -> (f64, f64) {
        let before = cpu_seconds(pid);
        let started = Instant::now();
        for i in 0..n {
            let (path, cookie) = path_of(i);
            let (status, _) = get(&addr, &path, &cookie);
            assert_eq!(status, 200, "{path}");
        }
        (
            (cpu_seconds(pid) - before) / n as f64 * 1e3,
            started.elapsed().as_secs_f64() / n as f64 * 1e3,
        )
    };
    let n = 400;
    let (css_cpu, css_wall) = measure(
        &|_| ("/static/suivi.css".to_owned(), admin_cookie.clone()),
        n,
    );
    let (board_cpu, board_wall) = measure(
        &|_| (format!("/classes/{class}/conseil"), admin_cookie.clone()),
        n,
    );
    let (boards_cpu, boards_wall) = measure(&|i| staff_pages[i % staff_pages.len()].clone(), n);
    let (mixed_cpu, mixed_wall) = measure(&|i| pages[(i * 7919) % pages.len()].clone(), n);
    println!("\n1. server CPU per request, closed loop, {n} requests each (ms CPU, ms wall):");
    println!("   GET /static/suivi.css (floor)                 {css_cpu:.3}  {css_wall:.3}");
    println!(
        "   conseil board, class of {size}, administrator     {board_cpu:.3}  {board_wall:.3}"
    );
    println!("   conseil boards, every class, their staff       {boards_cpu:.3}  {boards_wall:.3}");
    println!(
        "   mixed pages, {} sessions                      {mixed_cpu:.3}  {mixed_wall:.3}",
        identities
    );

    // 2. Open loop.
    let total = (rate * seconds) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let start = Instant::now() + Duration::from_millis(200);
    let (tx, rx) = std::sync::mpsc::channel();
    let cpu_before = cpu_seconds(pid);
    for i in 0..total {
        let due = start + interval * i as u32;
        let now = Instant::now();
        if due > now {
            std::thread::sleep(due - now);
        }
        let (path, cookie) = pages[(i * 104_729) % pages.len()].clone();
        let addr = addr.clone();
        let tx = tx.clone();
        std::thread::spawn(move || {
            let (status, _) = get(&addr, &path, &cookie);
            let _ = tx.send((status, due.elapsed().as_secs_f64() * 1e3));
        });
    }
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut latencies = Vec::new();
    let mut failed = 0;
    while latencies.len() + failed < total {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok((200, ms)) => latencies.push(ms),
            Ok(_) => failed += 1,
            Err(_) => break,
        }
    }
    let unanswered = total - latencies.len() - failed;
    let cpu = (cpu_seconds(pid) - cpu_before) / total as f64 * 1e3;
    latencies.sort_by(f64::total_cmp);
    println!(
        "\n2. open loop, {rate} pages/s for {seconds} s ({total} requests): p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms; failed or unanswered {}; server CPU {cpu:.3} ms/page",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies.last().copied().unwrap_or(f64::NAN),
        failed + unanswered
    );

    // 3. Sizes.
    let css = get(&addr, "/static/suivi.css", "").1.len();
    let sort = get(&addr, "/static/tri.js", "").1.len();
    let live_js = get(&addr, "/static/seance.js", "").1.len();
    // The demo's simulation starts its sessions a moment after the server is up.
    let mut session = Value::Null;
    for _ in 0..60 {
        let running = graphql(
            &addr,
            &admin,
            "{ sessions(active: true) { id teacher { id } parcoursId } }",
            json!({}),
        );
        if let Some(first) = running["data"]["sessions"]
            .as_array()
            .and_then(|s| s.iter().find(|s| !s["parcoursId"].is_null()))
        {
            session = first.clone();
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(!session.is_null(), "a running session");
    let session_id = session["id"].as_str().expect("id").to_owned();
    println!("\n3. sizes (bytes, HTML + stylesheet + script):");
    for (name, path, script) in [
        ("conseil board", format!("/classes/{class}/conseil"), sort),
        (
            "pupil sheet",
            pages
                .iter()
                .find(|(p, _)| p.starts_with("/eleves/"))
                .map(|(p, _)| p.clone())
                .unwrap_or_default(),
            0,
        ),
        ("live board", format!("/seances/{session_id}"), live_js),
    ] {
        let html = get(&addr, &path, &admin_cookie).1.len();
        println!(
            "   {name:14} {html} + {css} + {script} = {}",
            html + css + script
        );
    }
    let moi = pages.iter().find(|(p, _)| p == "/moi").expect("a pupil");
    let html = get(&addr, "/moi", &moi.1).1.len();
    println!(
        "   {:14} {html} + {css} + 0 = {}",
        "family (/moi)",
        html + css
    );

    // 4. Live board latency, on a quiet session of the bench's own: a class where no
    // session runs (the demo's simulation works in another), a parcours published for
    // it, a session started with it. Nothing but the bench writes there, so each push
    // on the stream after a mutation is that mutation's.
    let quiet = data["classes"]
        .as_array()
        .expect("classes")
        .iter()
        .find(|c| {
            c["headTeacher"]["id"].is_string()
                && c["pupils"].as_array().is_some_and(|p| p.len() >= 10)
                && graphql(
                    &addr,
                    &admin,
                    "query($c: ID) { sessions(classId: $c, active: true) { id } }",
                    json!({ "c": c["id"] }),
                )["data"]["sessions"]
                    .as_array()
                    .is_some_and(|s| s.is_empty())
        })
        .expect("a class with no running session");
    let quiet_class = quiet["id"].as_str().expect("id");
    let head = quiet["headTeacher"]["id"].as_str().expect("teacher");
    let quiet_pupils: Vec<String> = quiet["pupils"]
        .as_array()
        .expect("pupils")
        .iter()
        .filter_map(|p| p["id"].as_str().map(str::to_owned))
        .collect();
    let steps_per_pupil = pokes.div_ceil(2 * quiet_pupils.len()).max(1);
    let steps: Vec<Value> = (0..steps_per_pupil)
        .map(|i| json!({ "id": uuid::Uuid::now_v7().to_string(), "title": format!("Étape {}", i + 1), "kind": "RESOURCE" }))
        .collect();
    let head_token = token(Role::HeadTeacher, head, school);
    let published = graphql(
        &addr,
        &head_token,
        "mutation($i: PublishParcoursInput!) { publishParcours(input: $i) { id } }",
        json!({ "i": { "classId": quiet_class, "title": "Parcours du banc d'essai", "steps": steps } }),
    );
    let parcours = published["data"]["publishParcours"]["id"].clone();
    assert!(parcours.is_string(), "a parcours: {published}");
    let started = graphql(
        &addr,
        &head_token,
        "mutation($i: StartSessionInput!) { startSession(input: $i) { id } }",
        json!({ "i": { "classId": quiet_class, "teacherId": head, "parcoursId": parcours } }),
    );
    let quiet_session = started["data"]["startSession"]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a session: {started}"))
        .to_owned();
    let head_cookie = sign_in(&addr, &head_token);
    let mut stream = TcpStream::connect(&addr).expect("connect");
    write!(
        stream,
        "GET /seances/{quiet_session}/flux HTTP/1.1\r\nHost: {addr}\r\nCookie: {head_cookie}\r\n\r\n"
    )
    .expect("write");
    let (events_tx, events_rx) = std::sync::mpsc::channel::<(Instant, String)>();
    std::thread::spawn(move || {
        let reader = BufReader::new(stream);
        for line in reader.lines() {
            let Ok(line) = line else { break };
            if line.starts_with("data: ")
                && line.contains("class=\"live\"")
                && events_tx.send((Instant::now(), line)).is_err()
            {
                break;
            }
        }
    });
    let tile = |html: &str, pupil: &str| -> String {
        html.split(&format!("data-pupil=\"{pupil}\""))
            .nth(1)
            .and_then(|r| r.split("</li>").next())
            .map(|t| t.split("class=\"ago\"").next().unwrap_or("").to_owned())
            .unwrap_or_default()
    };
    let mut last_board = events_rx
        .recv_timeout(Duration::from_secs(10))
        .expect("a first board")
        .1;
    // Poke k: pupil k mod n starts (even round) or completes (odd round) their next step,
    // with their own token, as the pupil's device would.
    let mut waits = Vec::new();
    let mut missed = 0;
    let mut refused = 0;
    for k in 0..pokes {
        let pupil = &quiet_pupils[k % quiet_pupils.len()];
        let round = k / quiet_pupils.len();
        let step = &steps[(round / 2) % steps.len()]["id"];
        let pupil_token = token(Role::Pupil, pupil, school);
        while let Ok((_, b)) = events_rx.try_recv() {
            last_board = b;
        }
        let before = tile(&last_board, pupil);
        let sent = Instant::now();
        let answer = if round.is_multiple_of(2) {
            graphql(
                &addr,
                &pupil_token,
                "mutation($i: StartStepInput!) { startStep(input: $i) { position } }",
                json!({ "i": { "parcoursId": parcours, "pupilId": pupil, "stepId": step, "sessionId": quiet_session } }),
            )
        } else {
            graphql(
                &addr,
                &pupil_token,
                "mutation($i: StepInput!) { completeStep(input: $i) { position } }",
                json!({ "i": { "parcoursId": parcours, "pupilId": pupil, "stepId": step } }),
            )
        };
        if !answer["errors"].is_null() {
            refused += 1;
            if refused == 1 {
                eprintln!("a step mutation was refused: {}", answer["errors"]);
            }
            continue;
        }
        let mut seen = None;
        while let Ok((at, board)) = events_rx.recv_timeout(Duration::from_secs(3)) {
            let changed = tile(&board, pupil) != before;
            last_board = board;
            if changed {
                seen = Some(at.saturating_duration_since(sent).as_secs_f64() * 1e3);
                break;
            }
        }
        match seen {
            Some(ms) => waits.push(ms),
            None => missed += 1,
        }
    }
    waits.sort_by(f64::total_cmp);
    println!(
        "\n4. live board, a quiet session of {} pupils: {} pokes (startStep / completeStep by the pupil), the changed tile on the stream p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms after the mutation left; not seen within 3 s: {missed}; mutations refused: {refused}",
        quiet_pupils.len(),
        waits.len() + missed + refused,
        percentile(&waits, 50.0),
        percentile(&waits, 99.0),
        waits.last().copied().unwrap_or(f64::NAN)
    );
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for (p, _) in &pages {
        *counts
            .entry(if p.contains("conseil") {
                "board"
            } else if p.starts_with("/eleves") {
                "sheet"
            } else {
                "family"
            })
            .or_default() += 1;
    }
    println!("\npage mix: {counts:?}");
}
