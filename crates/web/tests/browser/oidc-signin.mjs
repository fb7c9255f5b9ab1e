// Drives Debian's chromium (headless, through playwright-core) through suivi's OpenID
// Connect sign-in against the test provider (oidc-provider.mjs, already running), and
// prints what it saw as one JSON object on stdout: where each sign-in landed and with which
// cookie, what each refused sign-in showed (and that it opened nothing), sign-out at the
// provider, the API answers to the provider's access tokens, a session read by a second
// server, and axe-core's violations on the pages a refused sign-in shows. It judges
// nothing: the Rust test (crates/cli/tests/oidc_signin.rs) starts the provider and the
// servers, links the accounts, writes the plan this script reads, and compares what the
// pages show with the API's answers.
//
//   node oidc-signin.mjs PLAN.json
//
// The plan's `phase` is "signin" (everything, and the storage of one signed-in browser is
// saved to plan.storage) or "restarted" (that browser, loaded from plan.storage, after the
// server restarted).

import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { createHash, randomBytes } from "node:crypto";
import { controlOf, loginInBrowser } from "./oidc-helpers.mjs";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const base = plan.base;
const op = plan.issuer;
const users = plan.users;
const CALLBACK = "/connexion/oidc/retour";

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

const context = (options = {}) => browser.newContext({ viewport: { width: 1280, height: 720 }, locale: "fr-FR", ...options });

// The provider's test controls (JSON in and out).
const control = controlOf(op);

async function axe(page) {
  await page.evaluate(AXE);
  return page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, target: v.nodes[0]?.target }));
  });
}

// What a page shows: its headings, the refusal's reason and account, the children it is
// about and the classes it links to, and all its text.
async function reading(page) {
  return page.evaluate(() => ({
    h1: document.querySelector("h1")?.innerText.trim() ?? null,
    error: document.getElementById("oidc-error")?.innerText.trim() ?? null,
    subject: document.getElementById("oidc-subject")?.innerText.trim() ?? null,
    children: Array.from(document.querySelectorAll("article.child")).map((a) => ({
      id: a.dataset.pupil,
      heading: a.querySelector("h2")?.innerText.trim() ?? null,
    })),
    classes: Array.from(document.querySelectorAll('a[href^="/classes/"]')).map((a) => a.getAttribute("href").split("/")[2]),
    signOut: document.querySelectorAll('form.signout[method="post"][action="/deconnexion"] button').length,
    body: document.body.innerText,
  }));
}

// The session cookie the browser holds for suivi (cookies ignore ports), if any.
async function sessionCookie(ctx) {
  return (await ctx.cookies()).find((c) => c.name === "suivi_session" && c.value) ?? null;
}

// Set-Cookie headers as "name=…" (a value) or "name=" (emptied), values left out.
const setCookieNames = (headers) => headers.map((h) => {
  const [name, ...value] = h.split(";")[0].split("=");
  return `${name.trim()}=${value.join("=").trim() ? "…" : ""}`;
});

const cookieFlags = (c) => c && { httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path, secure: c.secure };

// `GET /accueil` (or `path`) in this browser's cookies: the answer itself, not followed
// (a redirect's Location says where the browser would end), and when it is a page, that
// page as the browser shows it.
async function accueil(ctx, at = base, path = "/accueil") {
  const direct = await ctx.request.get(at + path, { maxRedirects: 0 });
  const location = direct.headers()["location"] ?? null;
  const out = { direct: direct.status(), location };
  if (location !== null) {
    const to = new URL(location, at + path);
    return { ...out, landed: to.pathname, port: to.port };
  }
  const page = await ctx.newPage();
  const response = await page.goto(at + path);
  const seen = await reading(page);
  await page.close();
  return {
    ...out,
    status: response ? response.status() : 0,
    landed: new URL(page.url()).pathname,
    port: new URL(page.url()).port,
    h1: seen.h1,
    classes: seen.classes,
    body: seen.body,
  };
}

// Holds every request of `page` to a URL starting with `prefix`, redirects included
// (playwright's page.route sees only the first request of a redirect chain, and the
// provider sends the browser back with a redirect), and hands its URL to `decide`, which
// answers { url } to send it on to another URL, or { page: html } to answer it here
// without it ever reaching the server.
async function hold(page, prefix, decide) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Fetch.enable", { patterns: [{ urlPattern: `${prefix}*`, requestStage: "Request" }] });
  cdp.on("Fetch.requestPaused", async (e) => {
    const answer = decide(e.request.url);
    if (answer.page !== undefined) {
      await cdp.send("Fetch.fulfillRequest", {
        requestId: e.requestId,
        responseCode: 200,
        responseHeaders: [{ name: "content-type", value: "text/html; charset=utf-8" }],
        body: Buffer.from(answer.page).toString("base64"),
      });
    } else {
      await cdp.send("Fetch.continueRequest", { requestId: e.requestId, url: answer.url ?? e.request.url });
    }
  });
  return cdp;
}

// A sign-in from suivi's sign-in page at `at`: the link, the provider's login page as
// `user`, back to suivi. Options: `tamperState` changes the callback's state on its way
// to suivi; `runAxe` runs axe-core on the page it ends on. Resolves to the page and what
// happened: every step's status, the callback's URL and the cookies it set, the flow
// cookies suivi set when sending the browser to the provider, where it landed and what
// the page there shows.
async function signIn(ctx, user, { at = base, tamperState = false, runAxe = false } = {}) {
  const page = await ctx.newPage();
  const navigations = [];
  page.on("response", (r) => {
    const q = r.request();
    if (q.isNavigationRequest() && q.frame() === page.mainFrame()) navigations.push(r);
  });
  let tampered = null;
  let held = null;
  if (tamperState) {
    held = await hold(page, at + CALLBACK, (href) => {
      const url = new URL(href);
      const state = url.searchParams.get("state") ?? "";
      const last = state.slice(-1);
      url.searchParams.set("state", state.slice(0, -1) + (last === "A" ? "B" : "A"));
      tampered = { sent: state, now: url.searchParams.get("state") };
      return { url: url.href };
    });
  }
  const ms = {};
  let since = Date.now();
  const step = (name) => { const now = Date.now(); ms[name] = now - since; since = now; };
  const first = await page.goto(at + "/connexion");
  step("connexion");
  const link = await page.getAttribute("#oidc-sign-in", "href");
  const linkText = (await page.textContent("#oidc-sign-in"))?.trim();
  await Promise.all([page.waitForURL((u) => u.origin === op), page.click("#oidc-sign-in")]);
  step("toProvider");
  // The flow cookies: those suivi's /connexion/oidc set (the provider's are op_*).
  const start = navigations.find((r) => new URL(r.url()).pathname === "/connexion/oidc");
  const startCookies = start ? setCookieNames(await start.headerValues("set-cookie")).map((c) => c.split("=")[0]) : [];
  const flowCookies = (await ctx.cookies()).filter((c) => startCookies.includes(c.name));
  const authorize = navigations.find((r) => r.url().startsWith(op));
  const authParams = authorize ? Object.fromEntries(new URL(authorize.url()).searchParams) : {};
  await loginInBrowser(page, user);
  await page.waitForLoadState("load");
  step("login");
  const callback = navigations.find((r) => new URL(r.url()).pathname === CALLBACK);
  const last = navigations[navigations.length - 1];
  const cookie = await sessionCookie(ctx);
  const seen = await reading(page);
  const result = {
    connexion: first.status(),
    link,
    linkText,
    start: start ? { status: start.status(), location: start.headers()["location"] ?? null } : null,
    authorize: { scope: authParams.scope, state: !!authParams.state, nonce: !!authParams.nonce, codeChallengeMethod: authParams.code_challenge_method ?? null, codeChallenge: !!authParams.code_challenge, redirectUri: authParams.redirect_uri ?? null, clientId: authParams.client_id ?? null },
    flowCookies: flowCookies.map((c) => c.name),
    callbackUrl: callback ? callback.url() : null,
    callbackQuery: callback ? Object.keys(Object.fromEntries(new URL(callback.url()).searchParams)) : [],
    callbackStatus: callback ? callback.status() : null,
    callbackSetCookies: callback ? setCookieNames(await callback.headerValues("set-cookie")) : [],
    tampered,
    status: last ? last.status() : 0,
    landed: new URL(page.url()).pathname,
    port: new URL(page.url()).port,
    cookie: cookieFlags(cookie),
    ...seen,
  };
  step("read");
  if (runAxe) { result.axe = await axe(page); step("axe"); }
  result.ms = ms;
  if (held) await held.detach();
  return { page, result, cookie, flowCookieValues: flowCookies };
}

// A sign-in that must be refused, as `user` in a browser of its own: what it showed, and
// what /accueil then answers that browser.
async function refusedSignIn(user, options = {}) {
  const ctx = await context();
  const { result } = await signIn(ctx, user, options);
  const since = Date.now();
  result.accueil = await accueil(ctx);
  result.ms.accueil = Date.now() - since;
  await ctx.close();
  return result;
}

const graphql = async (at, token, query, variables = {}) => {
  const r = await fetch(at + "/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch { body = text; }
  return { status: r.status, body };
};

const out = { phase: plan.phase, timings: {} };
const t0 = Date.now();
const lap = (name) => { out.timings[name] = Date.now() - t0; };

if (plan.phase === "restarted") {
  // The browser signed in before the restart, and a browser that never signed in.
  const ctx = await context({ storageState: plan.storage });
  out.restart = { cookie: cookieFlags(await sessionCookie(ctx)), after: await accueil(ctx) };
  await ctx.close();
  const fresh = await context();
  out.restart.fresh = await accueil(fresh);
  await fresh.close();
} else {
  // The sign-in page names the ENT link, and passes axe-core.
  {
    const ctx = await context();
    const page = await ctx.newPage();
    const r = await page.goto(base + "/connexion");
    out.connexion = { status: r.status(), link: await page.getAttribute("#oidc-sign-in", "href"), text: (await page.textContent("#oidc-sign-in"))?.trim(), axe: await axe(page) };
    await ctx.close();
  }

  // (a) Each person in their own browser, and (c) the teacher's code replayed.
  out.signIns = {};
  let teacherFlow = null;
  for (const role of ["teacher", "guardian", "pupil"]) {
    const ctx = await context();
    const { page, result, cookie, flowCookieValues } = await signIn(ctx, users[role]);
    // Opened again: the home still opens (a probe that the session is live), then the
    // callback once more in the same browser.
    result.again = await accueil(ctx, base, result.landed);
    if (role === "teacher") {
      teacherFlow = { url: result.callbackUrl, flowCookies: flowCookieValues };
      const replay = await page.goto(result.callbackUrl);
      const seen = await reading(page);
      const after = await sessionCookie(ctx);
      out.replaySameBrowser = {
        status: replay.status(),
        landed: new URL(page.url()).pathname,
        h1: seen.h1,
        error: seen.error,
        cookie: after === null ? "gone" : after.value === cookie?.value ? "same" : "changed",
        body: seen.body,
      };
    }
    out.signIns[role] = result;
    await ctx.close();
  }

  lap("signIns");
  // (c) The same callback in a browser that holds the flow cookie suivi set for it (the
  // code is spent: only the provider can tell), and in one that holds nothing.
  {
    const ctx = await context();
    await ctx.addCookies(teacherFlow.flowCookies);
    const page = await ctx.newPage();
    const r = await page.goto(teacherFlow.url);
    const seen = await reading(page);
    out.replayWithFlow = {
      flowCookies: teacherFlow.flowCookies.map((c) => c.name),
      status: r.status(), landed: new URL(page.url()).pathname, h1: seen.h1, error: seen.error,
      cookie: cookieFlags(await sessionCookie(ctx)), body: seen.body,
    };
    out.replayWithFlow.accueil = await accueil(ctx);
    await ctx.close();
  }
  {
    const ctx = await context();
    const page = await ctx.newPage();
    const r = await page.goto(teacherFlow.url);
    const seen = await reading(page);
    out.replayFresh = {
      status: r.status(), landed: new URL(page.url()).pathname, h1: seen.h1, error: seen.error,
      cookie: cookieFlags(await sessionCookie(ctx)), body: seen.body,
    };
    out.replayFresh.accueil = await accueil(ctx);
    await ctx.close();
  }

  lap("replays");
  // (d) The callback's state changed on its way back.
  out.stateMismatch = await refusedSignIn(users.teacher, { tamperState: true, runAxe: true });

  lap("state");
  // (b) Each mischief mode: armed, then a fresh sign-in; the mode is spent once suivi has
  // exchanged the code (so the refusal is about the ID token the provider altered).
  out.mischief = {};
  for (const mode of plan.mischief) {
    await control("POST", "/__test/mischief", { mode });
    const armed = (await control("GET", "/__test/state")).mischief;
    const result = await refusedSignIn(users.teacher, { runAxe: mode === "tamper" });
    result.armed = armed;
    result.spent = (await control("GET", "/__test/state")).mischief;
    out.mischief[mode] = result;
  }

  lap("mischief");
  // The provider refuses the account (a login it does not know): access_denied.
  out.providerRefused = await refusedSignIn(users.refused, { runAxe: true });

  // (e) An account nobody linked.
  out.unlinked = await refusedSignIn(users.unlinked, { runAxe: true });

  // (e2) First sign-in matched on a verified e-mail; then an unverified one.
  {
    const ctx = await context();
    const { result } = await signIn(ctx, users.byEmail);
    const unlink = await graphql(base, plan.admin,
      "mutation($i: UnlinkIdentityInput!) { unlinkIdentity(input: $i) { eventTypes } }",
      { i: { provider: op, subject: users.byEmail } });
    out.byEmail = { signIn: result, unlink };
    await ctx.close();
  }
  // Unlinked by the administrator: the same e-mail does not link it again.
  out.byEmailAgain = await refusedSignIn(users.byEmail);
  out.unverified = await refusedSignIn(users.unverified);

  lap("refusedAndUnlinked");
  // (f) Unlinked while signed in.
  {
    const ctx = await context();
    const { result } = await signIn(ctx, users.unlinkMidSession);
    const before = await accueil(ctx);
    const unlink = await graphql(base, plan.admin,
      "mutation($i: UnlinkIdentityInput!) { unlinkIdentity(input: $i) { position eventTypes } }",
      { i: { provider: op, subject: users.unlinkMidSession } });
    const after = await accueil(ctx);
    out.unlinkMidSession = { signIn: result, before, unlink, after };
    await ctx.close();
  }

  lap("unlinkMid");
  // (h) Sign-out: through the provider's end-session endpoint and back to /connexion.
  {
    const ctx = await context();
    const { page, cookie } = await signIn(ctx, users.teacher);
    const urls = [];
    page.on("request", (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) urls.push(r.url()); });
    const home = await page.goto(base + "/accueil");
    const homeStatus = home.status();
    const buttonText = (await page.textContent("form.signout button"))?.trim() ?? null;
    await Promise.all([
      page.waitForURL((u) => u.origin === base && u.pathname === "/connexion", { timeout: 15000 }),
      page.click("form.signout button"),
    ]);
    await page.waitForLoadState("load");
    const endSession = urls.find((u) => u.startsWith(op + "/session/end"));
    const endParams = endSession ? Object.fromEntries(new URL(endSession).searchParams) : null;
    const landed = new URL(page.url());
    out.logout = {
      homeStatus,
      buttonText,
      endSession: endParams && { clientId: endParams.client_id ?? null, postLogoutRedirectUri: endParams.post_logout_redirect_uri ?? null, idTokenHint: !!endParams.id_token_hint },
      landed: landed.pathname,
      landedOrigin: landed.origin,
      landedQuery: Object.keys(Object.fromEntries(landed.searchParams)),
      h1: (await reading(page)).h1,
      cookieAfter: cookieFlags(await sessionCookie(ctx)),
    };
    // The old cookie, in a browser of its own.
    const replay = await context();
    await replay.addCookies([cookie]);
    out.logout.oldCookie = await accueil(replay);
    await replay.close();
    // The provider's session has ended too: its login page again.
    await page.goto(base + "/connexion/oidc");
    out.logout.nextSignIn = {
      origin: new URL(page.url()).origin,
      loginShown: (await page.locator("form#op-login").count()) > 0 && (await page.locator("form#op-login").isVisible()),
    };
    await ctx.close();
  }

  lap("logout");
  // (g) The provider rotates its key: a fresh sign-in works with the new one.
  {
    const before = (await control("GET", "/__test/state")).kid;
    const rotated = await control("POST", "/__test/rotate");
    const ctx = await context();
    const { result } = await signIn(ctx, users.teacher);
    result.accueil = await accueil(ctx);
    out.rotation = { before, after: rotated.kid, signIn: result };
    await ctx.close();
  }

  lap("rotation");
  // (j) The API with the provider's access tokens, as another client of the provider (a
  // backend of the ENT) obtains them: code flow + PKCE in the browser, the exchange here.
  {
    const discovery = await (await fetch(op + "/.well-known/openid-configuration")).json();
    const tokensOf = async (user, backend = plan.backend) => {
      const ctx = await context();
      const page = await ctx.newPage();
      let back = null;
      await hold(page, backend.redirect_uri, (href) => {
        back = new URL(href);
        return { page: '<!DOCTYPE html><html lang="fr"><title>retour</title><p>retour</p></html>' };
      });
      const verifier = randomBytes(32).toString("base64url");
      const state = randomBytes(16).toString("base64url");
      const url = new URL(discovery.authorization_endpoint);
      Object.entries({
        response_type: "code", client_id: backend.client_id, redirect_uri: backend.redirect_uri, scope: "openid email profile",
        state, nonce: randomBytes(16).toString("base64url"),
        code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
      }).forEach(([k, v]) => url.searchParams.set(k, v));
      await page.goto(url.href);
      await loginInBrowser(page, user);
      await ctx.close();
      if (!back || back.searchParams.get("state") !== state) throw new Error(`no code for ${user}: ${back}`);
      // client_secret_basic: each half form-urlencoded first (RFC 6749 §2.3.1).
      const form = (s) => encodeURIComponent(s).replace(/%20/g, "+");
      const basic = Buffer.from(`${form(backend.client_id)}:${form(backend.client_secret)}`).toString("base64");
      const r = await fetch(discovery.token_endpoint, {
        method: "POST",
        headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "authorization_code", code: back.searchParams.get("code"), redirect_uri: backend.redirect_uri, code_verifier: verifier }),
      });
      const body = await r.json();
      if (r.status !== 200) throw new Error(`token endpoint for ${user}: ${r.status} ${JSON.stringify(body)}`);
      return body;
    };
    const claims = (jwt) => JSON.parse(Buffer.from(jwt.split(".")[1], "base64url").toString("utf8"));
    out.api = {};
    for (const [role, query] of Object.entries(plan.apiQueries)) {
      const tokens = await tokensOf(users[role]);
      const access = claims(tokens.access_token);
      out.api[role] = {
        accessAud: access.aud,
        idAud: claims(tokens.id_token).aud,
        answer: await graphql(base, tokens.access_token, query),
        withIdToken: await graphql(base, tokens.id_token, query),
      };
      if (role === "teacher") {
        // An ID token issued to suivi itself (its callback held, so suivi never sees
        // that code): its audience is the client id, not the API.
        const own = await tokensOf(users[role], plan.suiviClient);
        out.api[role].withSuiviIdToken = { idAud: claims(own.id_token).aud, answer: await graphql(base, own.id_token, query) };
      }
    }
    const stranger = await tokensOf(users.unlinked);
    out.api.unlinked = { accessAud: claims(stranger.access_token).aud, answer: await graphql(base, stranger.access_token, plan.apiQueries.teacher) };
  }

  lap("api");
  // (k) Two servers on one PostgreSQL store: signed in on A, B knows the session.
  if (plan.pg) {
    const ctx = await context();
    const probe = await accueil(ctx, plan.pg.b);
    const { result } = await signIn(ctx, users.teacher, { at: plan.pg.a });
    out.pg = { probe, signIn: result, onA: await accueil(ctx, plan.pg.a), onB: await accueil(ctx, plan.pg.b) };
    await ctx.close();
  }

  lap("pg");
  // (i) A browser signed in now, kept for after the restart.
  {
    const ctx = await context();
    const { result } = await signIn(ctx, users.teacher);
    out.restart = { signIn: result, before: await accueil(ctx) };
    await ctx.storageState({ path: plan.storage });
    await ctx.close();
  }
}

lap("end");
await browser.close();
process.stdout.write(JSON.stringify(out));
