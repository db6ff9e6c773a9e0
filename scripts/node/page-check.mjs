// Drives the web verifier page in headless Chromium (Debian's /usr/bin/chromium, or
// $CHROMIUM) and prints what the page concluded, one JSON object per case, for the Rust test
// that starts the server and asserts (web/tests/page.rs).
//
// usage: node page-check.mjs PAGE_URL SCREENSHOT_DIR CASES_JSON
//   CASES_JSON: [{"name", "file" (path, chosen with the file input) | "text" (pasted),
//                 "identifier"}]
// output: {"cases": [{"name", "state", "verdict", "failed": [check names], "warned": [check names], "passed": n,
//           "account": {...}, "prices": [[asset, median, counted]], "balances": [[cells]],
//           "positions": [[cells]], "ms"}], "errors": [...]}
import { chromium } from "playwright-core";

const [url, shots, casesJson] = process.argv.slice(2);
if (!url || !shots || !casesJson) {
  console.error("usage: node page-check.mjs PAGE_URL SCREENSHOT_DIR CASES_JSON");
  process.exit(2);
}
const cases = JSON.parse(casesJson);

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  // The flags keep Chromium off the network (this machine has none beyond loopback).
  args: [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
const errors = [];
const results = [];
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`HTTP ${r.status()} ${new URL(r.url()).pathname}`);
  });
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  await page.goto(url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 60_000 });
  // The paste box folds under "…or paste its contents", as a user finds it.
  await page.click("#input summary");
  for (const c of cases) {
    await page.fill("#inclusion-text", "");
    if (c.file) {
      await page.setInputFiles("#inclusion-file", c.file);
    } else {
      await page.fill("#inclusion-text", c.text);
    }
    await page.fill("#identifier", c.identifier ?? "");
    const started = Date.now();
    await page.click("#verify");
    await page.waitForFunction(
      () => ["verified", "warning", "rejected", "error"].includes(document.getElementById("verdict").dataset.state),
      null,
      { timeout: 120_000 },
    );
    const ms = Date.now() - started;
    const seen = await page.evaluate(() => {
      const rows = (id) =>
        [...document.querySelectorAll(`#${id} tr`)].map((tr) => [...tr.cells].map((td) => td.textContent));
      return {
        state: document.getElementById("verdict").dataset.state,
        verdict: document.getElementById("verdict").textContent,
        failed: [...document.querySelectorAll("#checks li.fail span")].map((s) => s.textContent),
        passed: document.querySelectorAll("#checks li.pass").length,
        warned: [...document.querySelectorAll("#checks li.warn span")].map((s) => s.textContent),
        account: Object.fromEntries(rows("account")),
        prices: rows("prices").slice(1),
        headline: Object.fromEntries(rows("headline")),
        balances: rows("balances"),
        positions: rows("positions"),
      };
    });
    await page.screenshot({ path: `${shots}/${c.name}.png`, fullPage: true });
    results.push({ name: c.name, ms, ...seen });
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify({ cases: results, errors }));
