//! The test OpenID provider the sign-in tests run (crates/web/tests/browser/oidc-provider.mjs,
//! panva's certified `oidc-provider` with test-only controls) does what those tests rely
//! on: its self-test drives a whole authorization-code flow with PKCE in headless
//! chromium, verifies the ID token's signature against the JWKS, and checks each
//! control (tampered, re-signed and unsigned ID tokens, key rotation, logout).
//! Needs node, `npm ci` in crates/web/tests/browser and /usr/bin/chromium: `./test`
//! installs them.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_test_provider_passes_its_self_test() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    assert!(
        dir.join("node_modules/oidc-provider").exists(),
        "run `npm ci` in {} (./test does it) and install chromium",
        dir.display()
    );
    let run = Command::new("node")
        .arg(dir.join("oidc-selftest.mjs"))
        .current_dir(&dir)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&run.stdout);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        run.status.success(),
        "self-test failed:\n{stdout}\n{stderr}"
    );
    // "oidc selftest: N checks passed", with every check of the script run.
    let passed: usize = stdout
        .lines()
        .find_map(|l| l.strip_prefix("oidc selftest: "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no summary line in:\n{stdout}"));
    assert!(passed >= 100, "only {passed} checks ran:\n{stdout}");
}
