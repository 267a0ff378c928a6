// Runs the page's JavaScript ports on inputs from tests/web/test_js_port.py and prints what they give:
//   node tests/port.mjs INPUT.json  ->  {"simplified": [...], "bitmaps": [[784 bytes], ...], "sequences": [[...]], "metadata": {...}}
// INPUT.json: {"raw": [drawing, ...], "simplified": [drawing, ...], "steps": N, "onnx": "path/to/model.onnx"}

import { readFileSync } from "node:fs";
import { simplifyRaw } from "../src/drawing.js";
import { sketchEdgeMetadata } from "../src/onnx-metadata.js";
import { rasterize } from "../src/raster.js";
import { toSequence } from "../src/sequence.js";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const simplified = input.raw.map(simplifyRaw);
const drawings = [...simplified, ...input.simplified];
const output = {
  simplified,
  bitmaps: drawings.map((drawing) => Array.from(rasterize(drawing))),
  sequences: input.steps ? drawings.map((drawing) => Array.from(toSequence(drawing, input.steps))) : null,
  metadata: input.onnx ? sketchEdgeMetadata(readFileSync(input.onnx)) : null,
};
process.stdout.write(JSON.stringify(output));
