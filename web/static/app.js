// The page's glue: read the holder's file, fetch the epoch's public files, hand everything to
// the WebAssembly verifier (zkmargin-web) and show its report. No verification logic here.
//
// Files are fetched relative to the archive root: this page's origin root, or `?archive=URL`
// when the page is hosted apart from the archive's public/ directory.
import init, { epoch_paths, srs_paths, verify } from "./pkg/zkmargin_web.js";

const $ = (id) => document.getElementById(id);
const archive = new URL(new URLSearchParams(location.search).get("archive") ?? "/", location.href);
const powersCache = new Map();
let dropped = null; // Promise of the chosen or dropped file's text


async function fetchBytes(path) {
  const url = new URL(path, archive);
  const response = await fetch(url);
  if (!response.ok) {
    throw new Error(`${url.pathname}: HTTP ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

async function powers(paths) {
  if (!powersCache.has(paths.label)) {
    const fetched = Promise.all([fetchBytes(paths.g1), fetchBytes(paths.g2)]);
    // A failed fetch is not remembered: the next attempt fetches again.
    fetched.catch(() => powersCache.delete(paths.label));
    powersCache.set(paths.label, fetched);
  }
  return powersCache.get(paths.label);
}

function row(table, cells, className) {
  const tr = table.insertRow();
  if (className) tr.className = className;
  for (const text of cells) {
    tr.insertCell().textContent = text;
  }
}

function fill(table, rows) {
  table.replaceChildren();
  for (const cells of rows) row(table, cells);
}

function setVerdict(state, title, detail) {
  const verdict = $("verdict");
  verdict.dataset.state = state;
  verdict.replaceChildren();
  const strong = document.createElement("strong");
  strong.textContent = title;
  verdict.append(strong);
  if (detail) {
    const p = document.createElement("p");
    p.textContent = detail;
    verdict.append(p);
  }
}

function show(report) {
  const a = report.account;
  $("account-title").textContent = report.verified
    ? "Your account at the epoch's prices"
    : "What this file claims (not verified), at the epoch's prices";
  fill($("account"), [
    ["Status", a.under_margined ? "under-margined" : "adequately margined"],
    ["Equity", a.equity],
    ["Maintenance requirement", a.maintenance_requirement],
    ["Shortfall", a.shortfall],
    ["Bad debt", a.bad_debt],
  ]);
  // Slot-table epochs list the entries the account holds (positions with their cost);
  // dense-table epochs every asset and market.
  fill($("balances"), report.balances.length
    ? report.balances.map((b) => [b.symbol, b.amount])
    : [["no balances", ""]]);
  fill($("positions"), report.positions.length
    ? report.positions.map((p) => (p.cost === undefined
      ? [p.symbol, p.amount]
      : [p.symbol, p.amount, `cost ${p.cost}`]))
    : [[report.class_slots === null ? "no markets" : "no positions", ""]]);

  const h = report.headline;
  $("headline-title").textContent =
    `Epoch ${h.epoch} · ${new Date(h.timestamp * 1000).toISOString().replace(".000Z", "Z")}`;
  const prices = $("prices");
  prices.replaceChildren();
  row(prices, ["Asset", "Median price", "Quotes counted"], "head");
  for (const p of h.prices) {
    row(prices, [p.symbol, p.median ?? "halted", `${p.counted}/${p.sources} (quorum ${p.quorum})`]);
  }
  fill($("headline"), [
    ["Total equity", h.total_equity],
    ["Total maintenance", h.total_maintenance],
    ["Under-margined accounts", String(h.under_margined_accounts)],
    ["Total shortfall", h.total_shortfall],
    ["Bad debt (base case)", h.total_bad_debt],
    ["Insurance fund", h.insurance_fund],
    ...h.liabilities.map((l) => [`Liabilities ${l.symbol}`, l.amount]),
    ["Statement digest", report.statement_digest],
    ["SRS", report.srs],
  ]);
  fill($("scenarios"), h.scenarios.length
    ? h.scenarios.map((s) => [s.name, s.bad_debt])
    : [["no scenarios", ""]]);

  const checks = $("checks");
  checks.replaceChildren();
  for (const c of report.checks) {
    const li = document.createElement("li");
    li.className = !c.passed ? "fail" : c.warning ? "warn" : "pass";
    const name = document.createElement("span");
    name.textContent = c.name;
    const detail = document.createElement("small");
    detail.textContent = c.detail;
    li.append(name, detail);
    checks.append(li);
  }
  $("trusted").textContent = report.trusted;
  $("result").hidden = false;
}

async function inclusionText() {
  const pasted = $("inclusion-text").value.trim();
  if (pasted) return pasted;
  if (dropped !== null) return dropped;
  throw new Error("drop, choose or paste an inclusion file first");
}

async function run() {
  const button = $("verify");
  button.disabled = true;
  $("result").hidden = true;
  setVerdict("working", "Verifying…");
  try {
    const text = await inclusionText();
    const paths = JSON.parse(epoch_paths(text));
    const [manifest, config] = await Promise.all([
      fetchBytes(paths.manifest),
      fetchBytes(paths.config),
    ]);
    const [g1, g2] = await powers(JSON.parse(srs_paths(manifest)));
    // Let the "Verifying…" state paint before the pairing work blocks this thread.
    await new Promise((resolve) => setTimeout(resolve, 0));
    const started = performance.now();
    const report = JSON.parse(
      verify(text, $("identifier").value, manifest, new TextDecoder().decode(config), g1, g2),
    );
    const ms = Math.round(performance.now() - started);
    show(report);
    if (report.verified) {
      const bound = report.identifier_checked
        ? ""
        : " Enter your identifier to check that this row is yours.";
      const place = report.class_slots === null
        ? `Shard ${report.shard}, row ${report.row}`
        : `Class of ${report.class_slots} slots, shard ${report.shard}, block ${report.row}`;
      const where = `${place}; checked in your browser in ${ms} ms.${bound}`;
      if (report.status === "warning") {
        const warnings = report.checks.filter((c) => c.warning).map((c) => c.detail);
        setVerdict("warning", `Warning: your account is in epoch ${report.epoch}, but ${warnings.join("; ")}`,
          where);
      } else {
        setVerdict("verified", `Verified: this account is in epoch ${report.epoch}`, where);
      }
    } else {
      const failed = report.checks.filter((c) => !c.passed).map((c) => c.name);
      setVerdict("rejected", "Not verified: this file does not match the published epoch",
        `Failed: ${failed.join("; ")}.`);
    }
  } catch (e) {
    setVerdict("error", "Cannot check this file", String(e.message ?? e));
  } finally {
    button.disabled = false;
  }
}

function readFile(file) {
  $("inclusion-text").value = "";
  dropped = file.text();
}

// Pasted text replaces a chosen file.
$("inclusion-text").addEventListener("input", () => {
  if ($("inclusion-text").value.trim()) {
    dropped = null;
    $("inclusion-file").value = "";
  }
});
$("inclusion-file").addEventListener("change", (e) => {
  if (e.target.files.length) readFile(e.target.files[0]);
});
const drop = $("drop");
drop.addEventListener("dragover", (e) => {
  e.preventDefault();
  drop.classList.add("over");
});
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  if (e.dataTransfer.files.length) {
    $("inclusion-file").files = e.dataTransfer.files; // shows the dropped file's name
    readFile(e.dataTransfer.files[0]);
  }
});
$("verify").addEventListener("click", run);
$("archive-base").textContent = `Archive: ${archive.href}`;

await init();
$("verify").disabled = false;
$("verify").textContent = "Verify in this browser";
document.body.dataset.ready = "true";
