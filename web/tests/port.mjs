// Runs the page's JavaScript ports on inputs from tests/web/test_js_port.py and prints what they give:
//   node tests/port.mjs INPUT.json  ->  {"simplified": [...], "bitmaps": [[784 bytes], ...], "metadata": {...}}
// INPUT.json: {"raw": [drawing, ...], "simplified": [drawing, ...], "onnx": "path/to/model.onnx"}

import { readFileSync } from "node:fs";
import { simplifyRaw } from "../src/drawing.js";
import { sketchEdgeMetadata } from "../src/onnx-metadata.js";
import { rasterize } from "../src/raster.js";

const input = JSON.parse(readFileSync(process.argv[2], "utf8"));
const simplified = input.raw.map(simplifyRaw);
const output = {
  simplified,
  bitmaps: [...simplified, ...input.simplified].map((drawing) => Array.from(rasterize(drawing))),
  metadata: input.onnx ? sketchEdgeMetadata(readFileSync(input.onnx)) : null,
};
process.stdout.write(JSON.stringify(output));
