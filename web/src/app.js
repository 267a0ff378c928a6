// The demo page: strokes drawn on the canvas -> the same simplification as training (drawing.js),
// then the model's own input: the 28x28 bitmap (raster.js) for bitmap models, the point rows
// (sequence.js) for stroke models -> the exported ONNX model in onnxruntime-web.
// `window.sketchEdge` lets the end-to-end test wait for the prediction of what it drew.

import * as ort from "./vendor/ort.wasm.min.mjs";
import { simplifyRaw } from "./drawing.js";
import { sketchEdgeMetadata } from "./onnx-metadata.js";
import { rasterize, SIDE } from "./raster.js";
import { toSequence } from "./sequence.js";

ort.env.wasm.numThreads = 1; // threads need cross-origin isolation, which a plain static server does not give

const TOP = 3;
const $ = (id) => document.getElementById(id);
const pad = $("pad");
const pen = pad.getContext("2d");
const state = { strokes: [], version: 0, busy: false, last: null, session: null, metadata: null, waiters: [] };

function showStatus(message) {
  $("status").textContent = message;
}

// ---- drawing -------------------------------------------------------------------------------

function point(event) {
  const box = pad.getBoundingClientRect();
  return [event.clientX - box.left, event.clientY - box.top, Math.round(event.timeStamp)];
}

function addPoint(stroke, [x, y, t]) {
  const [xs, ys, ts] = stroke;
  if (xs.length && xs[xs.length - 1] === x && ys[ys.length - 1] === y) return;
  if (xs.length) {
    pen.beginPath();
    pen.moveTo(xs[xs.length - 1], ys[ys.length - 1]);
    pen.lineTo(x, y);
    pen.stroke();
  }
  xs.push(x);
  ys.push(y);
  ts.push(t);
}

pad.addEventListener("pointerdown", (event) => {
  pad.setPointerCapture(event.pointerId);
  const stroke = [[], [], []];
  state.strokes.push(stroke);
  addPoint(stroke, point(event));
  pen.fillRect(stroke[0][0] - 2, stroke[1][0] - 2, 4, 4);
  changed();
});

pad.addEventListener("pointermove", (event) => {
  if (!pad.hasPointerCapture(event.pointerId) || !state.strokes.length) return;
  const stroke = state.strokes[state.strokes.length - 1];
  const events = event.getCoalescedEvents ? event.getCoalescedEvents() : [];
  for (const e of events.length ? events : [event]) addPoint(stroke, point(e));
  changed();
});

for (const type of ["pointerup", "pointercancel"]) {
  pad.addEventListener(type, (event) => {
    if (pad.hasPointerCapture(event.pointerId)) pad.releasePointerCapture(event.pointerId);
  });
}

function clearPad() {
  state.strokes = [];
  state.last = null;
  pen.clearRect(0, 0, pad.width, pad.height);
  $("input-preview").getContext("2d").clearRect(0, 0, SIDE, SIDE);
  $("input-points").textContent = "";
  showPredictions([]);
  changed();
}

$("clear").addEventListener("click", clearPad);
pen.lineWidth = 4;
pen.lineCap = pen.lineJoin = "round";

// ---- prediction ----------------------------------------------------------------------------

function changed() {
  state.version += 1;
  if (!state.busy) predictLoop();
}

/** Predicts until the prediction shown is for the current strokes; at most one inference at a time. */
async function predictLoop() {
  state.busy = true;
  try {
    while (state.session && (state.last?.version ?? -1) !== state.version) {
      const version = state.version;
      state.last = { version, ...(await predict(state.strokes)) };
      if (version === state.version) render(state.last);
    }
  } catch (error) {
    showStatus(`Prediction failed: ${error.message}`);
  } finally {
    state.busy = false;
    if (!state.session || state.last?.version === state.version) for (const resolve of state.waiters.splice(0)) resolve();
  }
}

/** The model's input for a simplified drawing: its bitmap, or its point rows for a stroke model. */
function modelInput(drawing) {
  const { kind, shape } = state.metadata.input ?? { kind: "bitmap" };
  if (kind === "strokes") {
    const rows = toSequence(drawing, shape[0]);
    const points = Math.min(drawing.reduce((n, [xs]) => n + xs.length, 0), shape[0]);
    return { values: rows, tensor: new ort.Tensor("float32", rows, [1, ...shape]), shown: `${points} of ${shape[0]} points` };
  }
  const bitmap = rasterize(drawing);
  return { values: bitmap, tensor: new ort.Tensor("float32", Float32Array.from(bitmap), [1, SIDE, SIDE, 1]), bitmap };
}

async function predict(strokes) {
  const drawn = strokes.filter(([xs]) => xs.length);
  if (!drawn.length) return { top: [], input: null };
  const started = performance.now();
  const input = modelInput(simplifyRaw(drawn.map(([xs, ys]) => [xs, ys])));
  const prepared = performance.now();
  const outputs = await state.session.run({ [state.session.inputNames[0]]: input.tensor });
  const finished = performance.now();
  const probs = outputs[state.session.outputNames[0]].data;
  const total = probs.reduce((a, b) => a + b, 0);
  const labels = state.metadata.labels;
  const top = Array.from(probs, (p, i) => [labels[i], p / total])
    .sort((a, b) => b[1] - a[1])
    .slice(0, TOP);
  return { top, input, modelMs: finished - prepared, prepareMs: prepared - started };
}

function render({ top, input, modelMs, prepareMs }) {
  showPredictions(top);
  if (!input) return;
  $("latency").textContent = `${modelMs.toFixed(2)} ms model + ${prepareMs.toFixed(2)} ms preparing its input`;
  $("input-points").textContent = input.shown ?? "";
  $("input-preview").hidden = !input.bitmap; // a stroke model's input is its points, not a picture
  const preview = $("input-preview").getContext("2d");
  preview.clearRect(0, 0, SIDE, SIDE);
  if (!input.bitmap) return;
  const image = new ImageData(SIDE, SIDE);
  input.bitmap.forEach((v, i) => image.data.set([v, v, v, 255], i * 4));
  preview.putImageData(image, 0, 0);
}

function showPredictions(top) {
  const list = $("predictions");
  list.replaceChildren(
    ...top.map(([label, p]) => {
      const item = document.createElement("li");
      item.innerHTML = `<div class="label"><span></span><span>${(100 * p).toFixed(1)}%</span></div><div class="bar"><span></span></div>`;
      item.querySelector(".label span").textContent = label;
      item.querySelector(".bar span").style.width = `${(100 * p).toFixed(1)}%`;
      return item;
    }),
  );
  if (!top.length) list.innerHTML = "<li>Draw something.</li>";
}

// ---- models --------------------------------------------------------------------------------

// What the page has fetched so far, as the browser counts it: bytes over the network (gzip where the server sends it;
// 0 for what came from the cache) and unpacked, for the runtime (vendor/) and everything else.
function downloaded() {
  const sum = (entries, key) => entries.reduce((total, e) => total + (e[key] || 0), 0);
  const all = performance.getEntriesByType("resource").concat(performance.getEntriesByType("navigation"));
  const runtime = all.filter((e) => e.name.includes("/vendor/"));
  const mib = (n) => `${(n / 1048576).toFixed(2)} MiB`;
  const isolated = self.crossOriginIsolated ? "cross-origin isolated" : "not cross-origin isolated";
  return `${mib(sum(all, "transferSize"))} over the network, ${mib(sum(all, "decodedBodySize"))} unpacked ` +
    `(runtime ${mib(sum(runtime, "decodedBodySize"))}); ${isolated}`;
}

async function loadModel(entry) {
  state.session = null;
  $("model-name").textContent = "loading...";
  showStatus("");
  const response = await fetch(entry.file);
  if (!response.ok) throw new Error(`${entry.file}: HTTP ${response.status}`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  const metadata = sketchEdgeMetadata(bytes);
  state.session = await ort.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
  state.metadata = metadata;
  $("model-name").textContent = `${metadata.display_name ?? metadata.model} (${metadata.recipe}, ${metadata.input?.kind ?? "bitmap"} input)`;
  $("model-name").title = metadata.model; // the canonical name, every parameter, on hover
  $("classes").textContent = `${metadata.labels.length}: ${metadata.labels.join(", ")}`;
  $("model-size").textContent = `${entry.file.split("/").pop()}, ${(bytes.length / 1024).toFixed(1)} KiB`;
  $("downloaded").textContent = downloaded();
  state.last = null;
  changed();
}

async function start() {
  const response = await fetch("models.json");
  if (!response.ok) throw new Error(`models.json: HTTP ${response.status} (build the page with \`make demo\`)`);
  const models = await response.json();
  const select = $("model");
  for (const entry of models) select.add(new Option(entry.name, entry.name, entry.default, entry.default));
  const byName = Object.fromEntries(models.map((m) => [m.name, m]));
  select.addEventListener("change", () => loadModel(byName[select.value]).catch((error) => failed(error)));
  await loadModel(models.find((m) => m.default) ?? models[0]);
  return models.map((m) => m.name);
}

function failed(error) {
  $("model-name").textContent = "not loaded";
  showStatus(`Cannot use the model: ${error.message}`);
  for (const resolve of state.waiters.splice(0)) resolve();
}

showPredictions([]);
const ready = start().catch((error) => {
  failed(error);
  throw error;
});

/** What the end-to-end test reads: resolves once the prediction for the current strokes is on the page. */
function settle() {
  return new Promise((resolve) => {
    if (!state.busy && (!state.session || state.last?.version === state.version)) resolve();
    else state.waiters.push(resolve);
  }).then(() => ({
    top: state.last?.top ?? [],
    input: state.last?.input ? Array.from(state.last.input.values) : null,
    strokes: state.strokes,
    status: $("status").textContent,
  }));
}

window.sketchEdge = { ready, settle, clear: clearPad };
