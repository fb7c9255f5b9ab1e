// Proves the test OpenID provider (oidc-provider.mjs) and its helpers (oidc-helpers.mjs)
// without suivi: a tiny relying party of its own (an HTTP listener for the redirect URIs,
// fetch for the back channel, node:crypto for the signatures) drives Debian's chromium
// through code flow + PKCE, every mischief mode, key rotation and RP-initiated logout.
//
//   node oidc-selftest.mjs        (exit 0 and "oidc selftest: N checks passed")

import { chromium } from "playwright-core";
import { createServer } from "node:http";
import { createHash, createPublicKey, randomBytes, verify } from "node:crypto";
import { startProvider, loginInBrowser } from "./oidc-helpers.mjs";

let passed = 0;
function check(what, ok, detail) {
  if (!ok) throw new Error(`check failed: ${what}${detail === undefined ? "" : ` — ${typeof detail === "string" ? detail : JSON.stringify(detail)}`}`);
  passed++;
}

const random = (n = 16) => randomBytes(n).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);
const decode = (part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));

function parseJwt(token) {
  const parts = token.split(".");
  if (parts.length !== 3) throw new Error(`not a compact JWS: ${token}`);
  return { parts, header: decode(parts[0]), payload: decode(parts[1]) };
}

// RS256 against the JWKS, by kid, as a careful relying party would do it.
function signatureValid(token, jwks) {
  const parts = token.split(".");
  const header = decode(parts[0]);
  if (header.alg !== "RS256") return false;
  const jwk = jwks.keys.find((k) => k.kid === header.kid);
  if (!jwk) return false;
  return verify("sha256", Buffer.from(`${parts[0]}.${parts[1]}`), createPublicKey({ key: jwk, format: "jwk" }), Buffer.from(parts[2], "base64url"));
}

// The relying party's redirect URIs: a page that only says where the browser is.
const rp = createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!DOCTYPE html><html lang="fr"><title>rp</title><p>${new URL(req.url, "http://x").pathname}</p></html>`);
});
await new Promise((resolve) => rp.listen(0, "127.0.0.1", resolve));
const rpBase = `http://127.0.0.1:${rp.address().port}`;
const redirectUri = `${rpBase}/connexion/oidc/retour`;
const postLogoutUri = `${rpBase}/connexion`;
const client = { client_id: "suivi", client_secret: `s3cr:t/${random(8)}`, redirect_uris: [redirectUri], post_logout_redirect_uris: [postLogoutUri] };
const users = {
  "prof-martin": { email: "martin@ecole.test", email_verified: true, name: "M. Martin" },
  "parent-durand": { email: "durand@famille.test", email_verified: false, name: "Mme Durand" },
};
const apiAudience = "https://suivi.test/api";

const op = await startProvider({ port: 0, clients: [client], users, apiAudience });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

try {
  check("ready line is exactly {issuer, port}", op.readyLine === JSON.stringify({ issuer: `http://127.0.0.1:${op.port}`, port: op.port }), op.readyLine);

  const discovery = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
  check("discovery: issuer without trailing slash", discovery.issuer === op.issuer, discovery.issuer);
  check("discovery: end_session_endpoint", typeof discovery.end_session_endpoint === "string");
  check("discovery: S256 PKCE", discovery.code_challenge_methods_supported?.includes("S256"));
  check("discovery: RS256 ID tokens", discovery.id_token_signing_alg_values_supported?.includes("RS256"));
  check("discovery: client_secret_basic", discovery.token_endpoint_auth_methods_supported?.includes("client_secret_basic"));
  const jwksNow = async () => (await fetch(discovery.jwks_uri)).json();

  // One authorization request from `page`; logs in as `user` if the provider asks. Resolves
  // to the callback's parameters and what the relying party kept for the exchange.
  async function authorize(page, user, { omit = [], extra = {} } = {}) {
    const verifier = random(32);
    const flow = { verifier, state: random(), nonce: random() };
    const url = new URL(discovery.authorization_endpoint);
    const params = {
      response_type: "code", client_id: client.client_id, redirect_uri: redirectUri, scope: "openid email profile",
      state: flow.state, nonce: flow.nonce,
      code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256",
    };
    for (const [k, v] of Object.entries({ ...params, ...extra })) if (!omit.includes(k)) url.searchParams.set(k, v);
    await page.goto(url.href);
    flow.loginShown = page.url().startsWith(op.issuer) && (await page.locator("form#op-login").count()) > 0;
    if (flow.loginShown) await loginInBrowser(page, user);
    check("callback reached", page.url().startsWith(redirectUri), page.url());
    flow.callback = new URL(page.url()).searchParams;
    return flow;
  }

  async function exchange(code, verifier, { secret = client.client_secret } = {}) {
    // client_secret_basic: each half form-urlencoded, as RFC 6749 §2.3.1 says.
    const form = (s) => encodeURIComponent(s).replace(/%20/g, "+");
    const basic = Buffer.from(`${form(client.client_id)}:${form(secret)}`).toString("base64");
    const r = await fetch(discovery.token_endpoint, {
      method: "POST",
      headers: { authorization: `Basic ${basic}`, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "authorization_code", code, redirect_uri: redirectUri, code_verifier: verifier }),
    });
    return { status: r.status, body: await r.json() };
  }

  // Every context: what the browser asked of hosts other than the provider and the RP.
  const foreign = [];
  const newContext = async () => {
    const c = await browser.newContext();
    c.on("request", (r) => { if (!r.url().startsWith(op.issuer) && !r.url().startsWith(rpBase)) foreign.push(r.url()); });
    return c;
  };
  const ctx = await newContext();
  const page = await ctx.newPage();

  // The plain flow, signing in on the login page.
  const first = await authorize(page, "prof-martin");
  check("first flow shows the login page", first.loginShown);
  check("callback: state echoed", first.callback.get("state") === first.state);
  check("callback: iss parameter (RFC 9207)", first.callback.get("iss") === op.issuer, first.callback.get("iss"));
  const code = first.callback.get("code");
  check("callback: code", !!code);
  const tokens = await exchange(code, first.verifier);
  check("token endpoint: 200", tokens.status === 200, tokens);
  check("token endpoint: Bearer", tokens.body.token_type === "Bearer", tokens.body);
  check("token endpoint: no refresh token", tokens.body.refresh_token === undefined);
  const jwks = await jwksNow();
  const { kid } = await op.state();
  check("JWKS lists exactly the current key", jwks.keys.length === 1 && jwks.keys[0].kid === kid, jwks);
  check("JWKS has no private parts", !("d" in jwks.keys[0]));
  const id = parseJwt(tokens.body.id_token);
  check("ID token: RS256 with the current kid", id.header.alg === "RS256" && id.header.kid === kid, id.header);
  check("ID token: signature valid", signatureValid(tokens.body.id_token, jwks));
  check("ID token: iss", id.payload.iss === op.issuer);
  check("ID token: aud", id.payload.aud === client.client_id, id.payload.aud);
  check("ID token: nonce", id.payload.nonce === first.nonce);
  check("ID token: not expired", id.payload.exp > now() && id.payload.iat <= now() + 5, id.payload);
  check("ID token: sub is the user's key", id.payload.sub === "prof-martin");
  check("ID token: email, email_verified, name", id.payload.email === "martin@ecole.test" && id.payload.email_verified === true && id.payload.name === "M. Martin", id.payload);
  const at = parseJwt(tokens.body.access_token);
  check("access token: a JWT signed by the JWKS", signatureValid(tokens.body.access_token, jwks), at.header);
  check("access token: aud is the API", at.payload.aud === apiAudience, at.payload);
  check("access token: sub is the user", at.payload.sub === "prof-martin");
  check("access token: iss and client_id", at.payload.iss === op.issuer && at.payload.client_id === client.client_id, at.payload);

  const replay = await exchange(code, first.verifier);
  check("a code is redeemed once: invalid_grant the second time", replay.status === 400 && replay.body.error === "invalid_grant", replay);

  // Back-channel refusals a relying party may meet.
  {
    const other = await authorize(page, "prof-martin");
    check("single sign-on: no login page the second time", !other.loginShown);
    const wrongVerifier = await exchange(other.callback.get("code"), random(32));
    check("wrong code_verifier: invalid_grant", wrongVerifier.status === 400 && wrongVerifier.body.error === "invalid_grant", wrongVerifier);
    const third = await authorize(page, "prof-martin");
    const wrongSecret = await exchange(third.callback.get("code"), third.verifier, { secret: "nope" });
    check("wrong client secret: invalid_client", wrongSecret.status === 401 && wrongSecret.body.error === "invalid_client", wrongSecret);
    const noPkce = await authorize(page, "prof-martin", { omit: ["code_challenge", "code_challenge_method"] });
    check("no PKCE: invalid_request at the redirect URI", noPkce.callback.get("error") === "invalid_request", [...noPkce.callback]);
    const forced = await authorize(page, "prof-martin", { extra: { prompt: "login" } });
    check("prompt=login: the login page again, despite the session", forced.loginShown && !!forced.callback.get("code"));
    const aged = await authorize(page, "prof-martin", { extra: { max_age: "3600" } });
    const agedTokens = await exchange(aged.callback.get("code"), aged.verifier);
    check("max_age: auth_time in the ID token", typeof parseJwt(agedTokens.body.id_token).payload.auth_time === "number");
    check("no max_age: no auth_time", parseJwt(tokens.body.id_token).payload.auth_time === undefined);
  }

  // Each mischief mode alters the next ID token only, as it says.
  const expectations = {
    // Only that the signature fails here; the block below proves one character changed.
    tamper: (t) => !signatureValid(t.raw, jwks) && typeof t.payload === "object" && t.header.kid === kid,
    audience: (t) => signatureValid(t.raw, jwks) && t.payload.aud === "someone-else" && t.header.kid === kid,
    expired: (t) => signatureValid(t.raw, jwks) && t.payload.exp <= now() - 3500 && t.payload.iat < t.payload.exp,
    issuer: (t) => signatureValid(t.raw, jwks) && t.payload.iss === "http://127.0.0.1:1/other",
    nonce: (t) => signatureValid(t.raw, jwks) && t.payload.nonce === "not-the-nonce",
    "alg-none": (t) => t.header.alg === "none" && t.header.typ === "JWT" && t.parts[2] === "" && t.raw.endsWith("."),
    "foreign-key": (t) => t.header.alg === "RS256" && !jwks.keys.some((k) => k.kid === t.header.kid) && !signatureValid(t.raw, jwks),
  };
  for (const [mode, expected] of Object.entries(expectations)) {
    await op.mischief(mode);
    check(`mischief ${mode}: armed`, (await op.state()).mischief === mode);
    const flow = await authorize(page, "prof-martin");
    const got = await exchange(flow.callback.get("code"), flow.verifier);
    check(`mischief ${mode}: token response 200`, got.status === 200, got);
    const t = { raw: got.body.id_token, ...parseJwt(got.body.id_token) };
    check(`mischief ${mode}: as the mode says`, expected(t), { header: t.header, payload: t.payload });
    if (mode !== "tamper") {
      check(`mischief ${mode}: other claims untouched`, t.payload.sub === "prof-martin" && t.payload.email === "martin@ecole.test"
        && (mode === "nonce" || t.payload.nonce === flow.nonce));
    }
    check(`mischief ${mode}: access token untouched`, signatureValid(got.body.access_token, jwks) && parseJwt(got.body.access_token).payload.aud === apiAudience);
    check(`mischief ${mode}: reset after one response`, (await op.state()).mischief === "none");
  }
  // tamper: exactly one payload character differs from a token the provider really signed.
  {
    await op.mischief("tamper");
    // A failed exchange has no ID token to alter: the mode stays armed for the next success.
    const failed = await exchange("not-a-code", random(32));
    check("mischief survives a failed token request", failed.status === 400 && (await op.state()).mischief === "tamper");
    const flow = await authorize(page, "prof-martin");
    const got = await exchange(flow.callback.get("code"), flow.verifier);
    const tampered = parseJwt(got.body.id_token);
    // Put back each single character in turn until the signature holds again.
    const p = tampered.parts[1];
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let restored = null;
    for (let i = 0; i < p.length && !restored; i++) {
      for (const c of alphabet) {
        const candidate = `${tampered.parts[0]}.${p.slice(0, i)}${c}${p.slice(i + 1)}.${tampered.parts[2]}`;
        if (c !== p[i] && signatureValid(candidate, jwks)) { restored = candidate; break; }
      }
    }
    check("mischief tamper: exactly one payload character changed, signature left as is", restored !== null);
    check("mischief tamper: the restored token is the real one", restored && parseJwt(restored).payload.nonce === flow.nonce);
  }

  // Users: another configured user gets their own claims; an unknown one is refused.
  {
    const c2 = await newContext();
    const p2 = await c2.newPage();
    const flow = await authorize(p2, "parent-durand");
    const got = await exchange(flow.callback.get("code"), flow.verifier);
    const t = parseJwt(got.body.id_token).payload;
    check("second user: own claims", t.sub === "parent-durand" && t.email === "durand@famille.test" && t.email_verified === false && t.name === "Mme Durand", t);
    await c2.close();
    const c3 = await newContext();
    const p3 = await c3.newPage();
    const unknown = await authorize(p3, "intrus");
    check("unknown user: access_denied at the redirect URI", unknown.callback.get("error") === "access_denied" && unknown.callback.get("state") === unknown.state, [...unknown.callback]);
    // Cancel on the login page: the same refusal.
    const verifierless = new URL(discovery.authorization_endpoint);
    Object.entries({ response_type: "code", client_id: "suivi", redirect_uri: redirectUri, scope: "openid", state: "s", code_challenge: random(32), code_challenge_method: "S256" })
      .forEach(([k, v]) => verifierless.searchParams.set(k, v));
    await p3.goto(verifierless.href);
    await Promise.all([p3.waitForURL((u) => u.href.startsWith(redirectUri)), p3.click("form#op-login button#cancel")]);
    check("cancel: access_denied", new URL(p3.url()).searchParams.get("error") === "access_denied");
    await c3.close();
  }

  // scope=openid alone still yields the API's JWT access token (and no email in the ID token).
  {
    const c4 = await newContext();
    const p4 = await c4.newPage();
    const url = new URL(discovery.authorization_endpoint);
    const verifier = random(32);
    Object.entries({ response_type: "code", client_id: "suivi", redirect_uri: redirectUri, scope: "openid", state: "s", nonce: "n",
      code_challenge: createHash("sha256").update(verifier).digest("base64url"), code_challenge_method: "S256" })
      .forEach(([k, v]) => url.searchParams.set(k, v));
    await p4.goto(url.href);
    await loginInBrowser(p4, "prof-martin");
    const got = await exchange(new URL(p4.url()).searchParams.get("code"), verifier);
    check("scope openid: token response 200", got.status === 200, got);
    const atp = parseJwt(got.body.access_token);
    check("scope openid: access token is the API's JWT", signatureValid(got.body.access_token, jwks) && atp.payload.aud === apiAudience && atp.payload.sub === "prof-martin", atp.payload);
    check("scope openid: no email in the ID token", parseJwt(got.body.id_token).payload.email === undefined);
    await c4.close();
  }

  // Rotation: a new kid in the JWKS (the old one gone) and on the next ID token.
  let lastIdToken;
  {
    const rotated = await op.rotate();
    check("rotate: answers a new kid", rotated.kid && rotated.kid !== kid, rotated);
    check("rotate: state has the new kid", (await op.state()).kid === rotated.kid);
    const jwks2 = await jwksNow();
    check("rotate: JWKS serves the new key only", jwks2.keys.length === 1 && jwks2.keys[0].kid === rotated.kid, jwks2.keys.map((k) => k.kid));
    const discovery2 = await (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json();
    check("rotate: same issuer", discovery2.issuer === op.issuer);
    const flow = await authorize(page, "prof-martin");
    const got = await exchange(flow.callback.get("code"), flow.verifier);
    const t = parseJwt(got.body.id_token);
    check("rotate: next ID token has the new kid", t.header.kid === rotated.kid, t.header);
    check("rotate: it verifies against the new JWKS", signatureValid(got.body.id_token, jwks2));
    check("rotate: not against the cached old JWKS", !signatureValid(got.body.id_token, jwks));
    check("rotate: access token signed with the new key", parseJwt(got.body.access_token).header.kid === rotated.kid && signatureValid(got.body.access_token, jwks2));
    check("rotate: the browser's session survived", !flow.loginShown);
    lastIdToken = got.body.id_token;
    // A logout hint signed with the key rotated out no longer validates: the provider shows
    // an error page and does not redirect.
    const stale = new URL(discovery.end_session_endpoint);
    stale.searchParams.set("id_token_hint", tokens.body.id_token);
    stale.searchParams.set("post_logout_redirect_uri", postLogoutUri);
    const refused = await page.goto(stale.href);
    check("rotate: a pre-rotation id_token_hint is refused at logout", refused.status() === 400 && page.url().startsWith(op.issuer)
      && (await page.textContent("body")).includes("could not validate id_token_hint"), page.url());
  }

  // RP-initiated logout: with id_token_hint, no click, lands on the post-logout URI.
  {
    const url = new URL(discovery.end_session_endpoint);
    url.searchParams.set("id_token_hint", lastIdToken);
    url.searchParams.set("post_logout_redirect_uri", postLogoutUri);
    url.searchParams.set("state", "bye");
    await page.goto(url.href);
    await page.waitForURL((u) => u.href.startsWith(postLogoutUri));
    check("logout: lands on post_logout_redirect_uri with state", new URL(page.url()).searchParams.get("state") === "bye", page.url());
    const after = await authorize(page, "prof-martin");
    check("logout: the provider's session is gone (login page again)", after.loginShown);
    // With client_id instead of id_token_hint.
    const byClient = new URL(discovery.end_session_endpoint);
    byClient.searchParams.set("client_id", client.client_id);
    byClient.searchParams.set("post_logout_redirect_uri", postLogoutUri);
    await page.goto(byClient.href);
    await page.waitForURL((u) => u.href.startsWith(postLogoutUri));
    check("logout by client_id: lands on post_logout_redirect_uri", page.url().startsWith(postLogoutUri));
    const again = await authorize(page, "prof-martin");
    check("logout by client_id: session gone", again.loginShown);
  }

  // A forced consent prompt is approved without a page.
  {
    const flow = await authorize(page, "prof-martin", { extra: { prompt: "consent" } });
    check("prompt=consent: no page, straight back with a code", !!flow.callback.get("code") && !flow.loginShown, [...flow.callback]);
    const got = await exchange(flow.callback.get("code"), flow.verifier);
    check("prompt=consent: tokens", got.status === 200 && parseJwt(got.body.id_token).payload.email === "martin@ecole.test", got);
  }

  await ctx.close();
  check("the provider's pages load nothing from other hosts", foreign.length === 0, foreign);
  check("nothing on stdout after the ready line", op.laterStdout() === "", op.laterStdout());
} catch (err) {
  await browser.close().catch(() => {});
  await op.stop();
  rp.close();
  process.stderr.write(`oidc selftest: FAILED after ${passed} checks: ${err?.stack ?? err}\n`);
  process.exit(1);
}

await browser.close();
const code = await op.stop();
rp.close();
check("SIGTERM: the provider exits 0", code === 0, code);
console.log(`oidc selftest: ${passed} checks passed`);
