// Helpers for tests that need the test OpenID provider (oidc-provider.mjs): start it as a
// child process, drive its control endpoints, and sign in on its login page with playwright.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const HARNESS = fileURLToPath(new URL("./oidc-provider.mjs", import.meta.url));

// Starts the provider with `config` (the CONFIG.json object, see OIDC.md) and resolves once
// it has printed its ready line. The child is killed when this process exits, so a failing
// test leaves no provider behind.
// The provider's test controls at `issuer` (JSON in and out): a function (method, path, body).
export function controlOf(issuer) {
  return async (method, path, body) => {
    const r = await fetch(issuer + path, {
      method,
      headers: body ? { "content-type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const answer = await r.json();
    if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(answer)}`);
    return answer;
  };
}

export async function startProvider(config, { readyTimeoutMs = 20000 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), "oidc-provider-"));
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify(config));
  const child = spawn(process.execPath, [HARNESS, file], { stdio: ["ignore", "pipe", "inherit"] });
  const killOnExit = () => child.kill("SIGTERM");
  process.once("exit", killOnExit);
  const exited = new Promise((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal)));

  // Everything the child prints on stdout: the ready line, then (it should stay empty)
  // anything after it.
  let out = "";
  child.stdout.setEncoding("utf8");
  let readyLine;
  try {
    readyLine = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("oidc-provider.mjs did not get ready in time")), readyTimeoutMs);
      child.stdout.on("data", (chunk) => {
        out += chunk;
        const nl = out.indexOf("\n");
        if (nl < 0 || readyLine !== undefined) return;
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      });
      exited.then((code) => { clearTimeout(timer); reject(new Error(`oidc-provider.mjs exited (${code}) before getting ready`)); });
    });
  } catch (err) {
    child.kill("SIGTERM");
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  let ready;
  try {
    ready = JSON.parse(readyLine);
  } catch {
    child.kill("SIGTERM");
    throw new Error(`bad ready line: ${readyLine}`);
  }
  const { issuer, port } = ready;
  const control = controlOf(issuer);

  return {
    issuer,
    port,
    readyLine,
    // What the child printed on stdout after its ready line (nothing, normally).
    laterStdout: () => out.slice(readyLine.length + 1),
    // The exit code (0 after SIGTERM) or the signal name.
    async stop() {
      process.off("exit", killOnExit);
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    // Arms a mischief mode for the next authorization_code token response ("none" disarms).
    mischief: (mode) => control("POST", "/__test/mischief", { mode }),
    // Switches to a new signing key; resolves to { kid } of the new key.
    rotate: () => control("POST", "/__test/rotate"),
    // { kid, mischief } as the provider has them now.
    state: () => control("GET", "/__test/state"),
  };
}

// Signs in as `user` on the provider's login page, which `page` is on or navigating to, and
// resolves once the browser has been redirected away from the provider (to the relying
// party's redirect URI, with a code or, for an unknown user, error=access_denied). There is
// no consent screen to get through.
export async function loginInBrowser(page, user, { password = "test", timeout = 15000 } = {}) {
  const login = page.locator("form#op-login input[name=login]");
  await login.waitFor({ timeout });
  const provider = new URL(page.url()).origin;
  await login.fill(user);
  await page.fill("form#op-login input[name=password]", password);
  await Promise.all([
    page.waitForURL((url) => url.origin !== provider, { timeout }),
    page.click("form#op-login button#sign-in"),
  ]);
}
