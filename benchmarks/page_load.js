// Cold JupyterLab page loads in headless Chromium, through several forwards of the same server, interleaved.
//
// Usage: node page_load.js ROUNDS URL_A URL_B ...   (needs playwright-core: npm install --prefix benchmarks)
// Each round loads every URL once, in order, each in a fresh browser context (empty cache and cookies).
// A load's time: from page.goto() to the end of the last network response before the network went idle
// (Playwright's "networkidle": no request in flight for 500 ms; those 500 quiet ms are not counted).
// Prints one JSON line: {"URL_A": [ms, ...], "URL_B": [ms, ...]}.
"use strict";
const { chromium } = require("playwright-core");

async function loadOnce(browser, url) {
  const context = await browser.newContext();
  const page = await context.newPage();
  let last = 0;
  page.on("requestfinished", () => { last = performance.now(); });
  page.on("requestfailed", () => { last = performance.now(); });
  const start = performance.now();
  last = start;
  await page.goto(url, { waitUntil: "networkidle", timeout: 60000 });
  const title = await page.title();
  await context.close();
  if (!title.includes("JupyterLab")) throw new Error(`not JupyterLab: ${title}`);
  return last - start;
}

async function main() {
  const [rounds, ...urls] = process.argv.slice(2);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic", "--no-first-run"],
  });
  const times = Object.fromEntries(urls.map((u) => [u, []]));
  try {
    for (const url of urls) await loadOnce(browser, url); // warm up the server and Chromium, not counted
    for (let i = 0; i < Number(rounds); i++) {
      const order = i % 2 ? [...urls].reverse() : urls; // alternate who goes first
      for (const url of order) times[url].push(await loadOnce(browser, url));
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(times));
}

main().catch((e) => { console.error(e); process.exit(1); });
