// Fixtures for the browser tests and the screenshots, created through jobscope's REST API as
// root (the way python-gitlab or the CLI would), plus small helpers shared by both scripts.
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

export const BASE = process.env.JOBSCOPE_URL;
const ROOT = process.env.JOBSCOPE_ROOT_TOKEN;
assert.ok(BASE && ROOT, "JOBSCOPE_URL and JOBSCOPE_ROOT_TOKEN come from run.sh");

/** A request to /api/v4 as root (or with `token`); returns the parsed body. */
export async function api(method, path, body, { token = ROOT, expect } = {}) {
  const resp = await fetch(`${BASE}/api/v4${path}`, {
    method,
    headers: { "PRIVATE-TOKEN": token, ...(body ? { "Content-Type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await resp.text();
  if (expect !== undefined) {
    assert.equal(resp.status, expect, `${method} ${path}: ${text}`);
  } else {
    assert.ok(resp.ok, `${method} ${path} -> ${resp.status}: ${text}`);
  }
  return text ? JSON.parse(text) : null;
}

const enc = (p) => encodeURIComponent(p);

/**
 * acme/deployer is the project whose permissions are managed. Maria maintains it, Devon is a
 * developer there. Jobs of tools/linter, tools/packager and partners/website reached it while
 * its allowlist was off, so the authentication log has three entries. partners/website's
 * allowlist names the group acme, so deployer's jobs may reach it.
 */
export async function seed() {
  const user = async (username, name) => {
    const u = await api("POST", "/users", {
      username, name, email: `${username}@example.com`, password: `${username}-password-1234`,
    });
    const t = await api("POST", `/users/${u.id}/personal_access_tokens`, { name: "ui", scopes: ["api"] });
    return { ...u, token: t.token };
  };
  const maria = await user("maria", "Maria Maintainer");
  const devon = await user("devon", "Devon Developer");
  const group = (name, path) => api("POST", "/groups", { name, path, visibility: "private" });
  const acme = await group("Acme", "acme");
  const tools = await group("Tools", "tools");
  const partners = await group("Partners", "partners");
  const project = (name, ns, description) =>
    api("POST", "/projects", { name, path: name, namespace_id: ns.id, visibility: "private", description });
  const deployer = await project("deployer", acme, "Deploys Acme's services");
  await project("builder", acme);
  const linter = await project("linter", tools);
  const packager = await project("packager", tools);
  const website = await project("website", partners);
  await api("POST", `/projects/${deployer.id}/members`, { user_id: maria.id, access_level: 40 });
  await api("POST", `/projects/${deployer.id}/members`, { user_id: devon.id, access_level: 30 });
  await api("POST", `/groups/${tools.id}/members`, { user_id: maria.id, access_level: 30 });
  await api("POST", `/groups/${partners.id}/members`, { user_id: maria.id, access_level: 20 });

  // partners/website lets every project of acme reach it (for the reverse lookup).
  await api("POST", `/projects/${website.id}/job_token_scope/groups_allowlist`, { target_group_id: acme.id });

  // The allowlist off ("All groups and projects"): every job's access is allowed and logged.
  await api("PATCH", `/projects/${deployer.id}/job_token_scope`, { enabled: false });
  for (const origin of [linter, packager, website]) {
    const job = await api("POST", "/ci/jobs", { project_id: String(origin.id), user_id: 1 });
    const resp = await fetch(`${BASE}/api/v4/job_token/allowed?project=${enc("acme/deployer")}`, {
      headers: { "JOB-TOKEN": job.token },
    });
    assert.equal(resp.status, 200, `decision for ${origin.path_with_namespace}: ${await resp.text()}`);
  }
  return { maria, devon, deployer, linter, packager, website, tools, partners };
}

/** Headless Debian chromium through playwright-core. */
export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_BIN || "/usr/bin/chromium",
    headless: true,
    // Root in a container has no user namespaces for chromium's sandbox.
    args: process.getuid && process.getuid() === 0 ? ["--no-sandbox"] : [],
  });
}

/** Signs in through the form. */
export async function signIn(page, token) {
  await page.goto(`${BASE}/users/sign_in`);
  await page.getByLabel("Personal access token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForURL(/\/dashboard\/projects$/);
}

export const settingsUrl = (path) => `${BASE}/${path}/-/settings/ci_cd`;
