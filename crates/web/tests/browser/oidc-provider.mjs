// A test OpenID provider for suivi's OIDC sign-in tests, built on panva's oidc-provider.
//
//   node oidc-provider.mjs CONFIG.json
//
// Listens on 127.0.0.1 (CONFIG.port, 0 = any free port), prints one JSON line
// {"issuer":"http://127.0.0.1:NNNN","port":NNNN} once it answers, and runs until killed
// (SIGTERM/SIGINT exit 0). Besides the standard endpoints it has test-only control endpoints
// under /__test/ (mischief on the next ID token, signing-key rotation, state); see OIDC.md.

import { createServer } from "node:http";
import { generateKeyPairSync, randomBytes, sign as rsaSign } from "node:crypto";
import { readFileSync } from "node:fs";

// Nothing but the ready line goes to stdout: oidc-provider prints its development notices
// with console.info (stdout) and console.warn, which would corrupt what the parent reads.
// They are dropped unless OIDC_HARNESS_DEBUG is set, and then go to stderr. console.error
// (koa's report of a 500) still reaches stderr.
const debugging = !!process.env.OIDC_HARNESS_DEBUG;
const toStderr = (...args) => process.stderr.write(args.map(String).join(" ") + "\n");
console.log = console.info = console.warn = console.debug = debugging ? toStderr : () => {};
// Imported only now, as it warns on loading (Node 20 is below its supported Node 22).
const { Provider, errors } = await import("oidc-provider");
// One in-memory store for every Provider instance this process makes (see /__test/rotate),
// so a key rotation loses no session, grant or code, as at a real provider. (Deep import:
// oidc-provider has no exports map, and the version is pinned.)
const { createMemoryAdapter } = await import("oidc-provider/lib/adapters/memory_adapter.js");
const sharedStore = createMemoryAdapter(15);

const config = JSON.parse(readFileSync(process.argv[2], "utf8"));
const users = config.users ?? {};
const apiAudience = config.apiAudience;
if (typeof apiAudience !== "string" || !URL.canParse(apiAudience)) {
  throw new Error(`CONFIG.apiAudience must be an absolute URI (the API's resource indicator), got ${JSON.stringify(apiAudience)}`);
}

const MISCHIEF_MODES = new Set(["none", "tamper", "audience", "expired", "issuer", "nonce", "alg-none", "foreign-key"]);
const state = { mischief: "none", key: newSigningKey() };

// Kept across rotations so the browser's session cookie stays readable by the next Provider
// instance, which finds the session itself in the shared store.
const cookieKeys = [randomBytes(32).toString("base64url")];

function newSigningKey() {
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = `test-${randomBytes(6).toString("base64url")}`;
  return { privateKey, jwk: { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" } };
}

const b64url = (v) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");
const decodePart = (part) => JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
const signRs256 = (input, key) => rsaSign("sha256", Buffer.from(input), key).toString("base64url");
const epoch = () => Math.floor(Date.now() / 1000);

// The ID token as the chosen mischief makes it. Re-signed variants keep the provider's own
// header (same alg and kid), so only the changed claim can make a relying party refuse it.
function misbehave(idToken, mode) {
  const [header, payload] = idToken.split(".");
  const claims = decodePart(payload);
  const resign = (changes) => {
    const body = b64url({ ...claims, ...changes });
    return `${header}.${body}.${signRs256(`${header}.${body}`, state.key.privateKey)}`;
  };
  switch (mode) {
    case "tamper": {
      // One base64url character of the payload changed, the result still being a JSON
      // object, so that only the signature check can catch it.
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      for (let i = Math.floor(payload.length / 2); i < payload.length - 1; i++) {
        for (const c of alphabet) {
          if (c === payload[i]) continue;
          const altered = payload.slice(0, i) + c + payload.slice(i + 1);
          try {
            const parsed = decodePart(altered);
            if (parsed && typeof parsed === "object" && JSON.stringify(parsed) !== JSON.stringify(claims)) {
              return idToken.replace(payload, altered);
            }
          } catch { /* not JSON any more: try another character */ }
        }
      }
      throw new Error("no single-character tamper found");
    }
    case "audience":
      return resign({ aud: "someone-else" });
    case "expired": {
      // Expired an hour ago, issued (and authenticated) one token lifetime before that.
      const lifetime = claims.exp - claims.iat;
      const exp = epoch() - 3600;
      const shift = claims.exp - exp;
      return resign({ exp, iat: exp - lifetime, ...(claims.auth_time ? { auth_time: claims.auth_time - shift } : {}) });
    }
    case "issuer":
      return resign({ iss: "http://127.0.0.1:1/other" });
    case "nonce":
      return resign({ nonce: "not-the-nonce" });
    case "alg-none":
      return `${b64url({ alg: "none", typ: "JWT" })}.${payload}.`;
    case "foreign-key": {
      const stranger = newSigningKey();
      const h = b64url({ ...decodePart(header), kid: stranger.jwk.kid });
      return `${h}.${payload}.${signRs256(`${h}.${payload}`, stranger.privateKey)}`;
    }
    default:
      return idToken;
  }
}

const page = (title, body) => `<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${title}</h1>${body}</main></body></html>`;

const escapeHtml = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

async function readBody(req) {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text;
}

// The login page and its form. Built here rather than with oidc-provider's devInteractions,
// whose pages import a web font from a third-party host (no such traffic from tests).
const interactions = (provider) => async function loginInteraction(ctx, next) {
  const show = ctx.method === "GET" && ctx.path.match(/^\/interaction\/([^/]+)$/);
  const submit = ctx.method === "POST" && ctx.path.match(/^\/interaction\/([^/]+)\/login$/);
  if (!show && !submit) return next();
  ctx.set("cache-control", "no-store");
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  if (details.prompt.name === "consent") {
    // Only reached when the request forces it (prompt=consent): approved without a page,
    // like the implicit consent of loadExistingGrant below.
    const grant = (details.grantId && (await provider.Grant.find(details.grantId)))
      || new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    const missing = details.prompt.details;
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      grant.addResourceScope(indicator, scopes.join(" "));
    }
    const result = { consent: { grantId: await grant.save() } };
    await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: true });
    return;
  }
  if (details.prompt.name !== "login") {
    ctx.status = 501;
    ctx.type = "html";
    ctx.body = page("Interaction non prise en charge", `<p>${escapeHtml(details.prompt.name)}</p>`);
    return;
  }
  if (show) {
    ctx.type = "html";
    ctx.body = page("Connexion (fournisseur de test)", `
<form id="op-login" method="post" action="/interaction/${escapeHtml(details.uid)}/login" autocomplete="off">
  <p><label for="login">Identifiant</label>
     <input id="login" name="login" type="text" required autofocus value="${escapeHtml(details.params.login_hint ?? "")}"></p>
  <p><label for="password">Mot de passe (quelconque)</label>
     <input id="password" name="password" type="password"></p>
  <p><button id="sign-in" type="submit" name="action" value="login">Se connecter</button>
     <button id="cancel" type="submit" name="action" value="cancel" formnovalidate>Annuler</button></p>
</form>`);
    return;
  }
  const form = new URLSearchParams(await readBody(ctx.req));
  const login = form.get("login") ?? "";
  let result;
  if (form.get("action") === "cancel") {
    result = { error: "access_denied", error_description: "End-User cancelled the sign-in" };
  } else if (Object.hasOwn(users, login)) {
    result = { login: { accountId: login } };
  } else {
    // An unknown login ends the request with access_denied at the redirect URI, so a
    // relying party's error path can be tested with it.
    result = { error: "access_denied", error_description: "unknown user" };
  }
  await provider.interactionFinished(ctx.req, ctx.res, result, { mergeWithLastSubmission: false });
};

// Alters the next successful authorization_code token response's id_token (see misbehave).
async function tokenMischief(ctx, next) {
  await next();
  if (state.mischief === "none" || ctx.status !== 200 || ctx.oidc?.route !== "token") return;
  if (ctx.oidc?.params?.grant_type !== "authorization_code" || !ctx.body?.id_token) return;
  const mode = state.mischief;
  state.mischief = "none";
  ctx.body = { ...ctx.body, id_token: misbehave(ctx.body.id_token, mode) };
}

// The API the access tokens are for: its identifier (the `resource` value) is the audience.
const apiServer = { scope: "", audience: apiAudience, accessTokenFormat: "jwt", jwt: { sign: { alg: "RS256" } } };

function makeProvider(issuer) {
  const provider = new Provider(issuer, {
    clients: (config.clients ?? []).map((c) => ({
      grant_types: ["authorization_code"],
      response_types: ["code"],
      token_endpoint_auth_method: "client_secret_basic",
      id_token_signed_response_alg: "RS256",
      ...c,
    })),
    adapter: sharedStore,
    jwks: { keys: [state.key.jwk] },
    cookies: {
      keys: cookieKeys,
      // suivi and this provider both live on 127.0.0.1, and cookies ignore ports: names of
      // their own keep the two apart.
      names: { session: "op_session", interaction: "op_interaction", resume: "op_interaction_resume" },
    },
    scopes: ["openid", "email", "profile"],
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name", "given_name", "family_name", "preferred_username", "locale"],
    },
    // The scope-requested claims go in the ID token itself, the relying party's only source.
    conformIdTokenClaims: false,
    async findAccount(ctx, sub) {
      if (!Object.hasOwn(users, sub)) return undefined;
      return { accountId: sub, claims: async () => ({ ...users[sub], sub }) };
    },
    // No consent screen: every client is first-party, so the grant is topped up with what
    // the request asks for (scopes, claims, the API's scopes).
    async loadExistingGrant(ctx) {
      const { oidc } = ctx;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
      const grant = (grantId && (await oidc.provider.Grant.find(grantId)))
        || new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(" "));
      grant.addOIDCClaims([...oidc.requestParamClaims]);
      for (const [indicator, server] of Object.entries(oidc.resourceServers)) {
        grant.addResourceScope(indicator, server.scope);
      }
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    clientBasedCORS: () => false,
    features: {
      devInteractions: { enabled: false },
      // Claims live in the ID token and the access token is for the API: no userinfo.
      userinfo: { enabled: false },
      resourceIndicators: {
        enabled: true,
        // Every authorization request is for the API unless it names a resource itself...
        defaultResource: async () => apiAudience,
        // ...and the token endpoint issues the API token without a `resource` parameter.
        useGrantedResource: async () => true,
        async getResourceServerInfo(ctx, indicator) {
          if (indicator !== apiAudience) throw new errors.InvalidTarget();
          return apiServer;
        },
      },
      rpInitiatedLogout: {
        enabled: true,
        // Confirmed without a click: the page posts its own form (no-JS fallback: the button).
        async logoutSource(ctx) {
          const action = ctx.oidc.urlFor("end_session_confirm");
          ctx.type = "html";
          ctx.body = page("Déconnexion (fournisseur de test)", `
<form id="op-logout" method="post" action="${escapeHtml(action)}">
  <input type="hidden" name="xsrf" value="${escapeHtml(ctx.oidc.session.state.secret)}">
  <input type="hidden" name="logout" value="yes">
  <button id="sign-out" type="submit">Se déconnecter</button>
</form>
<script>document.getElementById("op-logout").submit();</script>`);
        },
        async postLogoutSuccessSource(ctx) {
          ctx.type = "html";
          ctx.body = page("Déconnecté", "<p>Vous êtes déconnecté du fournisseur de test.</p>");
        },
      },
    },
    async renderError(ctx, out) {
      ctx.type = "html";
      ctx.body = page("Erreur", Object.entries(out).map(([k, v]) => `<p><strong>${escapeHtml(k)}</strong>: ${escapeHtml(v)}</p>`).join(""));
    },
  });
  provider.use(tokenMischief);
  provider.use(interactions(provider));
  provider.on("server_error", (ctx, err) => toStderr("oidc-provider server_error:", err?.stack ?? err));
  return provider;
}

// The control endpoints, answered before the request reaches oidc-provider.
async function control(req, res, issuer) {
  const reply = (status, body) => {
    res.writeHead(status, { "content-type": "application/json", "cache-control": "no-store" });
    res.end(JSON.stringify(body));
  };
  const path = new URL(req.url, issuer).pathname;
  try {
    if (req.method === "GET" && path === "/__test/state") {
      return reply(200, { kid: state.key.jwk.kid, mischief: state.mischief });
    }
    if (req.method === "POST" && path === "/__test/mischief") {
      const text = await readBody(req);
      const mode = text ? JSON.parse(text).mode : undefined;
      if (!MISCHIEF_MODES.has(mode)) return reply(400, { error: `unknown mode ${JSON.stringify(mode)}`, modes: [...MISCHIEF_MODES] });
      state.mischief = mode;
      return reply(200, { mischief: mode });
    }
    if (req.method === "POST" && path === "/__test/rotate") {
      await readBody(req);
      // oidc-provider fixes its keystore at construction: a new instance with only the new
      // key takes over the same server (same port, same issuer).
      state.key = newSigningKey();
      handler = makeProvider(issuer).callback();
      return reply(200, { kid: state.key.jwk.kid });
    }
    return reply(404, { error: "no such control endpoint" });
  } catch (err) {
    return reply(400, { error: String(err?.message ?? err) });
  }
}

// Set once the port is known (the issuer holds it), replaced by /__test/rotate.
let issuer;
let handler;
const server = createServer((req, res) => {
  if (req.url.startsWith("/__test/")) return control(req, res, issuer);
  if (!handler) {
    res.writeHead(503).end();
    return;
  }
  return handler(req, res);
});

await new Promise((resolve, reject) => {
  server.once("error", reject);
  server.listen(config.port ?? 0, "127.0.0.1", resolve);
});
const { port } = server.address();
issuer = `http://127.0.0.1:${port}`;
const first = makeProvider(issuer);
// oidc-provider checks static client metadata on first use: a bad CONFIG fails here, before
// the ready line, rather than at the relying party's first request.
for (const { client_id: id } of config.clients ?? []) {
  if (!(await first.Client.find(id))) throw new Error(`client ${id} not found`);
}
handler = first.callback();

for (const signal of ["SIGTERM", "SIGINT"]) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
process.on("uncaughtException", (err) => {
  process.stderr.write(`oidc-provider harness: fatal: ${err?.stack ?? err}\n`);
  process.exit(1);
});

process.stdout.write(JSON.stringify({ issuer, port }) + "\n");
