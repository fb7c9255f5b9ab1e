// Drives Debian's chromium (headless, through playwright-core) over suivi's pages as
// each demo user, and prints what it saw as JSON on stdout: where each sign-in landed,
// the cookie's flags, axe-core's violations on every page, the figures each page shows,
// the answers to what must be refused, and how long the live board took to show a change.
// The Rust test (crates/cli/tests/pages.rs) starts the server, writes the plan this
// script reads, and judges the result against the API.
//
//   node pages.mjs PLAN.json [SCREENSHOT_DIR]

import { chromium } from "playwright-core";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const shots = process.argv[3];
const base = plan.base;
const out = { signIns: {}, pages: {}, refusals: {}, csrf: {}, signOut: {}, live: {} };

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});

async function context() {
  return browser.newContext({ viewport: { width: 1280, height: 720 }, locale: "fr-FR" });
}

// Every page: its status, axe-core's violations (WCAG 2.1 A and AA), the CSP refusals
// the console reported, and the requests made to another host.
async function visit(page, path, name, extract) {
  const refused = [];
  const foreign = [];
  const onConsole = (m) => { if (/Content Security Policy|Refused to/.test(m.text())) refused.push(m.text()); };
  const onRequest = (r) => { if (!r.url().startsWith(base) && !r.url().startsWith("data:")) foreign.push(r.url()); };
  page.on("console", onConsole);
  page.on("request", onRequest);
  const response = await page.goto(base + path);
  await page.waitForLoadState("load");
  const status = response ? response.status() : 0;
  await page.evaluate(AXE);
  const axe = await page.evaluate(async () => {
    const r = await window.axe.run(document, {
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, help: v.help, target: v.nodes[0]?.target }));
  });
  const body = await page.evaluate(() => document.body.innerText);
  const data = extract ? await page.evaluate(extract) : null;
  const bytes = (await page.content()).length;
  if (shots && name) await page.screenshot({ path: `${shots}/${name}.png`, fullPage: name !== "seance" });
  page.off("console", onConsole);
  page.off("request", onRequest);
  const entry = { path, status, url: page.url(), axe, refused, foreign, data, bytes, lang: await page.getAttribute("html", "lang") };
  if (name) out.pages[name] = entry;
  return { ...entry, body };
}

async function signIn(role) {
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(base + "/connexion");
  await Promise.all([
    page.waitForNavigation(),
    page.click(`form[action="/connexion/demo"]:has(input[name="role"][value="${role}"]) button`),
  ]);
  const cookie = (await ctx.cookies()).find((c) => c.name === "suivi_session");
  out.signIns[role] = {
    landed: new URL(page.url()).pathname,
    httpOnly: cookie?.httpOnly ?? null,
    sameSite: cookie?.sameSite ?? null,
  };
  return { ctx, page, cookie };
}

const boardFigures = () => ({
  pupils: Array.from(document.querySelectorAll("table.pupils tbody tr[data-pupil]")).map((tr) => ({
    id: tr.dataset.pupil,
    name: tr.querySelector("th").innerText.trim(),
    general: tr.querySelector("td.general").innerText.trim(),
    flagged: tr.classList.contains("flagged"),
  })),
  subjects: Array.from(document.querySelectorAll("table.figures tr[data-subject]")).map((tr) => {
    const c = tr.querySelectorAll("td");
    return { name: tr.dataset.subject, mean: c[1].innerText.trim(), min: c[2].innerText.trim(), max: c[3].innerText.trim(), graded: c[4].innerText.trim() };
  }),
});
const sheetFigures = () => ({
  general: document.getElementById("moyenne-generale")?.innerText.trim(),
  axes: Array.from(document.querySelectorAll("tr[data-subject]")).map((tr) => {
    const c = tr.querySelectorAll("td");
    return { name: tr.dataset.subject, pupil: c[0].innerText.trim(), mean: c[1].innerText.trim() };
  }),
  chart: document.querySelectorAll("svg.spider polygon").length,
});
const familyFigures = () => Array.from(document.querySelectorAll("article.child")).map((a) => ({
  id: a.dataset.pupil,
  general: a.querySelector(".general")?.innerText.trim(),
  subjects: Array.from(a.querySelectorAll("tr[data-subject]")).map((tr) => ({ name: tr.dataset.subject, average: tr.querySelectorAll("td")[0].innerText.trim() })),
}));
const tiles = () => Array.from(document.querySelectorAll("li.tile")).map((t) => ({
  id: t.dataset.pupil, status: t.dataset.status, text: t.querySelector(".tile-status").innerText.trim(),
}));

// The sign-in page itself, signed out.
{
  const ctx = await context();
  const page = await ctx.newPage();
  await visit(page, "/connexion", "connexion");
  await ctx.close();
}

// The professeur principal: home, the conseil board, a pupil sheet, the live board.
{
  const { ctx, page } = await signIn("professeur_principal");
  await visit(page, "/accueil", "accueil");
  await visit(page, plan.conseil, "conseil", boardFigures);
  const sheet = await page.getAttribute(`table.pupils tr[data-pupil="${plan.sheetPupil}"] a`, "href");
  await visit(page, sheet, "eleve", sheetFigures);
  out.pages.eleve.href = sheet;
  // Printed: the sheet on A4 portrait, the board on A4 landscape (the print stylesheet's
  // page sizes; the PDF's first MediaBox in points).
  const mediaBox = async () => {
    const pdf = (await page.pdf({ preferCSSPageSize: true })).toString("latin1");
    const m = pdf.match(/\/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]/);
    return m ? [Number(m[1]), Number(m[2])] : null;
  };
  out.pages.eleve.printed = await mediaBox();
  await page.goto(base + plan.conseil);
  out.pages.conseil.printed = await mediaBox();
  // Sorting by the general average puts the highest first on the second press.
  await page.goto(base + plan.conseil);
  const sortButton = page.locator("table.pupils thead button").nth(2);
  await sortButton.focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("Enter");
  out.pages.conseil.sortedDescending = await page.evaluate(() =>
    Array.from(document.querySelectorAll("table.pupils tbody tr")).map((tr) => tr.querySelector("td.general").dataset.sort));
  out.pages.conseil.ariaSort = await page.getAttribute("table.pupils thead th:nth-child(3)", "aria-sort");

  // The live board: the poked pupil's tile changes without a reload.
  await visit(page, plan.live, "seance", tiles);
  // Every sentence the polite live region says from now on.
  await page.evaluate(() => {
    window.__said = [];
    const region = document.getElementById("annonces");
    new MutationObserver(() => window.__said.push(region.textContent)).observe(region, { childList: true, characterData: true, subtree: true });
  });
  // The stream is live once it has pushed a first board.
  for (let i = 0; i < 1000 && !(await page.evaluate(() => document.getElementById("tableau").dataset.updated)); i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const pupilId = await page.evaluate((ids) =>
    Array.from(document.querySelectorAll('li.tile[data-status="pas-commence"]')).map((t) => t.dataset.pupil).find((id) => ids.includes(id)),
    Object.keys(plan.poke.tokens));
  const before = await page.getAttribute(`li.tile[data-pupil="${pupilId}"]`, "data-status");
  const sent = Date.now();
  const answer = await fetch(base + "/graphql", {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${plan.poke.tokens[pupilId]}` },
    body: JSON.stringify({ query: plan.poke.mutation, variables: { i: { ...plan.poke.input, pupilId } } }),
  }).then((r) => r.json());
  let seenAfter = null;
  let waitError = null;
  let after = before;
  // Polled from here: the page's CSP forbids the string evaluation waitForFunction uses.
  while (Date.now() - sent < 5000) {
    const now = await page.evaluate((id) => document.querySelector(`li.tile[data-pupil="${id}"]`)?.dataset.status, pupilId);
    if (now !== before) { seenAfter = Date.now() - sent; after = now; break; }
    await new Promise((r) => setTimeout(r, 10));
  }
  // No event of theirs after the start: after the stall delay, time alone turns the
  // tile "bloqué" (the server pushes at the board's nextChange).
  let stalled = null;
  while (after === "en-cours" && Date.now() - sent < 20000) {
    const tile = await page.evaluate((id) => {
      const t = document.querySelector(`li.tile[data-pupil="${id}"]`);
      return t && { status: t.dataset.status, text: t.querySelector(".tile-status").innerText.trim() };
    }, pupilId);
    if (tile && tile.status !== "en-cours") { stalled = { ...tile, afterMs: Date.now() - sent }; break; }
    await new Promise((r) => setTimeout(r, 50));
  }
  out.live = {
    stalled,
    pupilId, before, after, waitError, seenAfterMs: seenAfter, mutation: answer,
    announced: await page.evaluate(() => window.__said.join(" | ")),
    tiles: await page.evaluate(tiles),
  };
  if (shots) await page.screenshot({ path: `${shots}/seance.png` });

  // A sign-out form posted without its token is refused: still signed in after.
  const noToken = await page.request.post(base + "/deconnexion", { form: { csrf: "" }, maxRedirects: 0 });
  out.csrf.signOutWithoutToken = noToken.status();
  out.csrf.stillSignedIn = (await page.request.get(base + "/accueil", { maxRedirects: 0 })).status();

  // Signing out: the old cookie opens nothing afterwards.
  const cookie = (await ctx.cookies()).find((c) => c.name === "suivi_session");
  await page.goto(base + "/accueil");
  await Promise.all([page.waitForNavigation(), page.click("form.signout button")]);
  out.signOut.landed = new URL(page.url()).pathname;
  const replay = await context();
  await replay.addCookies([{ ...cookie }]);
  const again = await replay.newPage();
  const r = await again.goto(base + plan.conseil);
  out.signOut.replayedLanded = new URL(again.url()).pathname;
  out.signOut.replayedStatus = r.status();
  out.signOut.replayedBody = await again.evaluate(() => document.body.innerText);
  await replay.close();
  await ctx.close();
}

// The administrator: the same board, and the live board.
{
  const { ctx, page } = await signIn("administrator");
  await visit(page, "/accueil", "accueil-admin");
  await visit(page, plan.conseil, "conseil-admin", boardFigures);
  await visit(page, plan.live, "seance-admin", tiles);
  await ctx.close();
}

// The teacher: their home; another class's board and a session they do not run are 404.
{
  const { ctx, page } = await signIn("teacher");
  await visit(page, "/accueil", "accueil-teacher");
  const foreign = await visit(page, plan.foreignConseil, "foreign-conseil");
  const live = await visit(page, plan.live, "foreign-seance");
  out.refusals.teacherForeignBoard = { status: foreign.status, leaked: plan.foreignNames.filter((n) => foreign.body.includes(n)) };
  out.refusals.teacherForeignSession = { status: live.status, leaked: plan.liveNames.filter((n) => live.body.includes(n)) };
  const unknown = await visit(page, "/classes/00000000-0000-7000-8000-000000000000/conseil");
  out.refusals.unknownBoard = { status: unknown.status, body: unknown.body };
  out.refusals.foreignBody = foreign.body;
  await ctx.close();
}

// The guardian: the family page; another family's child is 404.
{
  const { ctx, page } = await signIn("guardian");
  await visit(page, "/famille", "famille", familyFigures);
  const other = await visit(page, plan.otherPupil, "foreign-eleve");
  out.refusals.guardianOtherChild = { status: other.status, leaked: [plan.otherPupilName].filter((n) => other.body.includes(n)) };
  await ctx.close();
}

// The pupil: their own page; a class board is 404.
{
  const { ctx, page } = await signIn("pupil");
  await visit(page, "/moi", "moi", familyFigures);
  const board = await visit(page, plan.conseil, "pupil-conseil");
  out.refusals.pupilBoard = { status: board.status, leaked: plan.boardNames.filter((n) => board.body.includes(n)) };
  await ctx.close();
}

// A sign-in form posted without its token (or with another browser's) opens nothing.
{
  const ctx = await context();
  const page = await ctx.newPage();
  await page.goto(base + "/connexion");
  const missing = await page.request.post(base + "/connexion/demo", { form: { role: "administrator" }, maxRedirects: 0 });
  const wrong = await page.request.post(base + "/connexion/demo", { form: { role: "administrator", csrf: "0".repeat(64) }, maxRedirects: 0 });
  out.csrf.signInWithoutToken = missing.status();
  out.csrf.signInWrongToken = wrong.status();
  out.csrf.sessionCookieAfter = (await ctx.cookies()).some((c) => c.name === "suivi_session" && c.value);
  out.csrf.accueilAfter = (await page.request.get(base + "/accueil", { maxRedirects: 0 })).status();
  await ctx.close();
}

await browser.close();
process.stdout.write(JSON.stringify(out));
