// The "Done when" list of issue 8, in a real browser: sign in, toggle the scope, add and
// remove a project and a group, edit policies, autopopulate from the log, download the CSV,
// sign out; and a developer trying to change the scope sees GitLab's message.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, test } from "node:test";

import { BASE, api, launch, seed, settingsUrl, signIn } from "./seed.mjs";

let browser, context, page, fx;

before(async () => {
  fx = await seed();
  browser = await launch();
  context = await browser.newContext({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
});

after(async () => {
  await browser?.close();
});

const scope = () => api("GET", "/projects/acme%2Fdeployer/job_token_scope");
const allowlist = async () => {
  const projects = await api("GET", "/projects/acme%2Fdeployer/job_token_scope/allowlist");
  const groups = await api("GET", "/projects/acme%2Fdeployer/job_token_scope/groups_allowlist");
  return { projects, groups };
};
const row = (path) => page.locator("table.allowlist tbody tr", { has: page.locator(".path", { hasText: new RegExp(`^${path}$`) }) });

test("a wrong token is refused in place, a right one signs in", async () => {
  await page.goto(`${BASE}/acme/deployer/-/settings/ci_cd`);
  await page.waitForURL(/\/users\/sign_in\?return_to=/);
  await page.getByLabel("Personal access token").fill("glpat-this-is-not-a-token");
  await page.getByRole("button", { name: "Sign in" }).click();
  await assert.doesNotReject(page.getByRole("alert").filter({ hasText: "This token is not valid" }).waitFor());
  assert.match(await page.getByRole("alert").innerText(), /401 Unauthorized/);

  await signIn(page, fx.maria.token);
  const cookies = await context.cookies();
  const session = cookies.find((c) => c.name === "_jobscope_session");
  assert.ok(session, "a session cookie");
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, "Strict");
  // The dashboard lists what Maria maintains, and only that.
  await page.getByRole("link", { name: /acme\/deployer/ }).waitFor();
  assert.equal(await page.getByRole("link", { name: /tools\/linter/ }).count(), 0);
  await page.getByLabel("Search projects").fill("deploy");
  await page.getByRole("button", { name: "Search" }).click();
  await page.getByRole("link", { name: /acme\/deployer/ }).click();
  await page.waitForURL(/\/acme\/deployer\/-\/settings\/ci_cd$/);
  await page.getByRole("heading", { name: "Job token permissions" }).waitFor();
});

test("toggle the scope", async () => {
  assert.equal((await scope()).inbound_enabled, false);
  const only = page.getByLabel("Only this project and any groups and projects in the allowlist");
  assert.equal(await only.isChecked(), false);
  assert.equal(await page.getByLabel("All groups and projects").isChecked(), true);
  await only.check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("status").filter({ hasText: "Job token permissions saved." }).waitFor();
  assert.equal(await page.getByLabel("Only this project and any groups and projects in the allowlist").isChecked(), true);
  assert.equal((await scope()).inbound_enabled, true);
});

test("add a project (with suggestions) and a group", async () => {
  const path = page.getByLabel("Group or project path");
  await path.pressSequentially("tools/li", { delay: 20 });
  // The script fills the <datalist> from the suggestions endpoint.
  await page.locator('#path-suggestions option[value="tools/linter"]').waitFor({ state: "attached" });
  await path.fill("tools/linter");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Added to the allowlist." }).waitFor();
  await row("tools/linter").waitFor();
  assert.match(await row("tools/linter").innerText(), /Maria Maintainer/);

  await page.getByLabel("Group or project path").fill("partners");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByRole("status").filter({ hasText: "Added to the allowlist." }).waitFor();
  await row("partners").waitFor();
  const { projects, groups } = await allowlist();
  assert.deepEqual(projects.map((p) => p.path_with_namespace).sort(), ["acme/deployer", "tools/linter"]);
  assert.deepEqual(groups.map((g) => g.web_url.replace(/.*\/groups\//, "")), ["partners"]);

  // A refusal of the API, in place and in words.
  await page.getByLabel("Group or project path").fill("tools/linter");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  const alert = page.locator("#add").getByRole("alert");
  await alert.waitFor();
  assert.match(await alert.innerText(), /That project is already in the allowlist/);
  assert.match(await alert.innerText(), /400 Bad request - This project is already in the job token allowlist\./);
});

test("edit policies", async () => {
  await page.goto(settingsUrl("acme/deployer"));
  await row("tools/linter").getByRole("link", { name: "Edit" }).click();
  await page.getByRole("heading", { name: "Permissions of tools/linter" }).waitFor();
  await page.getByLabel("Fine-grained permissions", { exact: true }).check();
  await page.getByLabel("Packages").selectOption("admin");
  await page.getByLabel("Releases").selectOption("read");
  await page.getByRole("button", { name: "Save permissions" }).click();
  await page.getByRole("status").filter({ hasText: "Permissions updated." }).waitFor();
  const text = await row("tools/linter").innerText();
  assert.match(text, /Packages: read and write/);
  assert.match(text, /Releases: read/);
  const entry = (await allowlist()).projects.find((p) => p.path_with_namespace === "tools/linter");
  assert.equal(entry.default_permissions, false);
  assert.deepEqual(entry.job_token_policies, ["admin_packages", "read_releases"]);
});

test("remove a project and a group, confirming in the dialog", async () => {
  for (const path of ["tools/linter", "partners"]) {
    await row(path).getByRole("link", { name: "Remove" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), new RegExp(`Remove ${path} from the allowlist\\?`));
    await dialog.getByRole("button", { name: "Remove" }).click();
    await page.getByRole("status").filter({ hasText: "Removed from the allowlist." }).waitFor();
    assert.equal(await row(path).count(), 0);
  }
  const { projects, groups } = await allowlist();
  assert.deepEqual(projects.map((p) => p.path_with_namespace), ["acme/deployer"]);
  assert.deepEqual(groups, []);
});

test("download the authentication log as CSV", async () => {
  await page.getByRole("link", { name: "Authentication log", exact: true }).click();
  await page.getByRole("heading", { name: "Authentication log" }).waitFor();
  for (const p of ["tools/linter", "tools/packager", "partners/website"]) {
    await page.locator("table.log .path", { hasText: p }).waitFor();
  }
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download CSV" }).click(),
  ]);
  assert.match(download.suggestedFilename(), new RegExp(`^job-token-authorizations-${fx.deployer.id}-\\d{14}\\.csv$`));
  const csv = await readFile(await download.path(), "utf8");
  const [header, ...rows] = csv.trim().split("\n");
  assert.equal(header, "Origin Project Path,Last Authorized At (UTC)");
  assert.deepEqual(rows.map((r) => r.split(",")[0]).sort(), ["partners/website", "tools/linter", "tools/packager"]);
  for (const r of rows) assert.match(r.split(",")[1], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test("autopopulate the allowlist from the log: preview, then apply", async () => {
  await page.getByRole("link", { name: "Add all to the allowlist" }).click();
  await page.getByRole("heading", { name: "Add all projects in the authentication log" }).waitFor();
  const preview = await page.locator("main").innerText();
  for (const p of ["tools/linter", "tools/packager", "partners/website"]) assert.match(preview, new RegExp(p));
  // The preview changed nothing.
  assert.deepEqual((await allowlist()).projects.map((p) => p.path_with_namespace), ["acme/deployer"]);
  await page.getByRole("button", { name: "Add entries" }).click();
  await page.getByRole("status").filter({ hasText: /authentication log is now in the allowlist/ }).waitFor();
  for (const p of ["tools/linter", "tools/packager", "partners/website"]) {
    await row(p).getByText("Autopopulated").waitFor();
  }
  const { projects } = await allowlist();
  assert.equal(projects.filter((p) => p.autopopulated).length, 3);
  // The audit events show who did it.
  await page.getByRole("link", { name: "Audit events", exact: true }).click();
  await page.getByText("Project tools/packager was added to inbound list of allowed projects for acme/deployer").waitFor();
});

test("the reverse lookup and a narrow screen", async () => {
  await page.goto(settingsUrl("acme/deployer"));
  await page.getByRole("link", { name: "Reachable projects", exact: true }).click();
  const reach = page.locator("table.reach tbody tr", { hasText: "partners/website" });
  await reach.waitFor();
  assert.match(await reach.innerText(), /An entry for the group acme/);
  await page.goto(`${BASE}/tools/packager/-/settings/ci_cd/reachable`);
  // Maria is only a Developer of tools/packager: GitLab's 403, explained.
  await page.getByText("403 Forbidden").waitFor();
  await page.setViewportSize({ width: 360, height: 800 });
  await page.goto(settingsUrl("acme/deployer"));
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px at 360px`);
  // Keyboard: the first Tab reaches the skip link, which moves focus to the content.
  await page.keyboard.press("Tab");
  assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to main content");
  await page.keyboard.press("Enter");
  assert.equal(await page.evaluate(() => document.activeElement.id), "main");
  await page.setViewportSize({ width: 1280, height: 900 });
});

test("sign out", async () => {
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/\/users\/sign_in\?reason=signed_out$/);
  await page.getByText("You have signed out.").waitFor();
  assert.equal((await context.cookies()).filter((c) => c.name === "_jobscope_session").length, 0);
  await page.goto(settingsUrl("acme/deployer"));
  await page.waitForURL(/\/users\/sign_in\?return_to=/);
});

test("a developer trying to change the scope sees GitLab's message", async () => {
  await signIn(page, fx.devon.token);
  await page.goto(settingsUrl("acme/deployer"));
  await page.getByText("only shown to members with the Maintainer or Owner role").waitFor();
  await page.getByLabel("All groups and projects").check();
  await page.getByRole("button", { name: "Save changes" }).click();
  const alert = page.locator("#scope").getByRole("alert");
  await alert.waitFor();
  const text = await alert.innerText();
  assert.match(text, /Only members with the Maintainer or Owner role on acme\/deployer can change its job token permissions/);
  assert.match(text, /GitLab's answer: 403 Forbidden/);
  assert.equal((await scope()).inbound_enabled, true, "nothing changed");
});
