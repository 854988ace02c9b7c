// Captures every page of the web UI into $SCREENSHOT_DIR (see screenshots.sh).
import { join } from "node:path";

import { BASE, launch, seed, settingsUrl, signIn } from "./seed.mjs";

const dir = process.env.SCREENSHOT_DIR;
const fx = await seed();
const browser = await launch();
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
const page = await context.newPage();
page.setDefaultTimeout(10_000);
const shot = async (name, options = {}) => {
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: true, ...options });
  console.log(`  ${name}.png`);
};

try {
  await page.goto(`${BASE}/users/sign_in`);
  await shot("sign-in");

  await signIn(page, fx.maria.token);
  await shot("projects");

  // Build up a realistic allowlist through the UI itself.
  await page.goto(settingsUrl("acme/deployer"));
  await page.getByLabel("Only this project and any groups and projects in the allowlist").check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.getByRole("status").waitFor();
  await page.getByLabel("Group or project path").fill("tools/linter");
  await page.getByLabel("Fine-grained permissions", { exact: true }).check();
  await page.getByLabel("Packages").selectOption("admin");
  await page.getByLabel("Releases").selectOption("read");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByRole("status").waitFor();
  await page.getByLabel("Group or project path").fill("partners");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.getByRole("status").waitFor();

  await page.getByRole("link", { name: "Authentication log", exact: true }).click();
  await page.getByRole("heading", { name: "Authentication log" }).waitFor();
  await shot("authentication-log");
  await page.getByRole("link", { name: "Add all to the allowlist" }).click();
  await page.getByRole("button", { name: "Add entries" }).waitFor();
  await shot("autopopulate-preview");
  await page.getByRole("button", { name: "Add entries" }).click();
  await page.getByRole("status").waitFor();
  await shot("job-token-permissions");

  // An error in place: adding an entry twice.
  await page.getByLabel("Group or project path").fill("tools/linter");
  await page.getByRole("button", { name: "Add", exact: true }).click();
  await page.locator("#add").getByRole("alert").waitFor();
  await page.locator("#add").screenshot({ path: join(dir, "error-in-place.png") });
  console.log("  error-in-place.png");

  await page.goto(settingsUrl("acme/deployer"));
  const linter = page.locator("table.allowlist tbody tr", { hasText: "tools/linter" });
  await linter.getByRole("link", { name: "Edit" }).click();
  await page.getByRole("button", { name: "Save permissions" }).waitFor();
  await shot("edit-permissions");

  await page.goto(settingsUrl("acme/deployer"));
  await page.locator("table.allowlist tbody tr", { hasText: "partners" }).getByRole("link", { name: "Remove" }).click();
  await page.getByRole("dialog").waitFor();
  await shot("remove-confirmation", { fullPage: false });
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

  await page.getByRole("link", { name: "Audit events", exact: true }).click();
  await page.getByRole("heading", { name: "Audit events" }).waitFor();
  await shot("audit-events");

  await page.getByRole("link", { name: "Reachable projects", exact: true }).click();
  await page.getByRole("heading", { name: "Reachable projects" }).waitFor();
  await shot("reachable-projects");

  await page.setViewportSize({ width: 360, height: 780 });
  await page.goto(settingsUrl("acme/deployer"));
  await shot("job-token-permissions-narrow");
  await page.setViewportSize({ width: 1280, height: 800 });

  await page.getByRole("button", { name: "Sign out" }).click();
  await page.waitForURL(/reason=signed_out/);
  await signIn(page, fx.devon.token);
  await page.goto(settingsUrl("acme/deployer"));
  await page.getByLabel("All groups and projects").check();
  await page.getByRole("button", { name: "Save changes" }).click();
  await page.locator("#scope").getByRole("alert").waitFor();
  await shot("developer-refused");
} finally {
  await browser.close();
}
