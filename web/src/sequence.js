// Drawing -> point rows for the stroke models: a port of sketch_edge/data/sequence.py, value for value.
// Row per point, in drawing order: (x, y, stroke_end, present), flags 0 or ON; zero rows after the drawing.

export const CHANNELS = 4;
const ON = 255;

/** drawing: [[xs], [ys]] per stroke, integers 0-255 -> Float32Array(steps * 4), row-major. */
export function toSequence(drawing, steps) {
  const out = new Float32Array(steps * CHANNELS);
  let row = 0;
  for (const [xs, ys] of drawing) {
    const n = Math.min(xs.length, steps - row);
    if (n <= 0) continue; // an empty stroke, or the sequence is full
    for (let i = 0; i < n; i++) {
      const r = (row + i) * CHANNELS;
      out[r] = xs[i];
      out[r + 1] = ys[i];
      out[r + 3] = ON;
    }
    if (n === xs.length) out[(row + n - 1) * CHANNELS + 2] = ON; // a stroke cut at the end has no end within the sequence
    row += n;
  }
  return out;
}
