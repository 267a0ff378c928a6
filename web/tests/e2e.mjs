// Replays drawings as pointer events on the demo page in Debian's Chromium and records what the page predicts.
//   node tests/e2e.mjs URL DRAWINGS.json RESULTS.json SCREENSHOT.png [MODEL]
// DRAWINGS.json: [[[xs], [ys]], ...] per drawing, in canvas pixels. RESULTS.json gets, per drawing, the page's
// top-3, its model input (28x28 bitmap or point rows) and the strokes it recorded (so Python can predict on exactly those points).

import { readFileSync, writeFileSync } from "node:fs";
import { chromium } from "playwright-core";

const [url, drawingsFile, resultsFile, screenshotFile, model] = process.argv.slice(2);
const drawings = JSON.parse(readFileSync(drawingsFile, "utf8"));

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 900, height: 700 } });
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  page.on("request", (request) => {
    if (!request.url().startsWith(new URL(url).origin)) problems.push(`request to another host: ${request.url()}`);
  });
  await page.goto(url);
  await page.evaluate(() => window.sketchEdge.ready.catch(() => null)); // a failed load is reported in facts.status
  if (model) {
    await page.selectOption("#model", model);
    await page.waitForFunction((name) => document.querySelector("#model-name").textContent.includes(name), model);
  }
  const box = await page.locator("#pad").boundingBox();
  const results = [];
  for (const drawing of drawings) {
    await page.click("#clear");
    for (const [xs, ys] of drawing) {
      await page.mouse.move(box.x + xs[0], box.y + ys[0]);
      await page.mouse.down();
      for (let i = 1; i < xs.length; i++) await page.mouse.move(box.x + xs[i], box.y + ys[i]);
      await page.mouse.up();
    }
    results.push(await page.evaluate(() => window.sketchEdge.settle()));
  }
  const facts = await page.evaluate(() => ({
    model: document.querySelector("#model-name").textContent,
    size: document.querySelector("#model-size").textContent,
    downloaded: document.querySelector("#downloaded").textContent,
    latency: document.querySelector("#latency").textContent,
    classes: document.querySelector("#classes").textContent,
    status: document.querySelector("#status").textContent,
  }));
  await page.screenshot({ path: screenshotFile });
  writeFileSync(resultsFile, JSON.stringify({ results, facts, problems }));
} finally {
  await browser.close();
}
