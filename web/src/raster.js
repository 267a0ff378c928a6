// Strokes -> the 28x28 bitmap: a port of sketch_edge/data/raster.py, operation for
// operation (IEEE doubles, no canvas drawing), so it gives the same bytes.

export const SIDE = 28;
const ORIGINAL_SIDE = 256.0, LINE_DIAMETER = 16.0, PADDING = 16.0, SUPERSAMPLE = 8;

/** drawing: [[xs], [ys]] per stroke, integers 0-255 -> Uint8Array(28 * 28), row-major, 255 = ink. */
export function rasterize(drawing, side = SIDE) {
  if (!drawing.some(([xs]) => xs.length)) throw new Error("empty drawing: it has no points to draw");
  const big = side * SUPERSAMPLE;
  const margin = 2 * PADDING + LINE_DIAMETER;
  const scale = big / (ORIGINAL_SIDE + margin);
  let maxX = -Infinity, maxY = -Infinity;
  for (const [xs, ys] of drawing) {
    if (!xs.length) continue;
    maxX = Math.max(maxX, ...xs);
    maxY = Math.max(maxY, ...ys);
  }
  const offsetX = (ORIGINAL_SIDE - maxX) / 2.0 + margin / 2.0;
  const offsetY = (ORIGINAL_SIDE - maxY) / 2.0 + margin / 2.0;
  const radius = (LINE_DIAMETER / 2.0) * scale;
  const r2 = radius * radius;
  const ink = new Uint8Array(big * big);
  for (const [xs, ys] of drawing) {
    let px = xs.map((x) => (x + offsetX) * scale);
    let py = ys.map((y) => (y + offsetY) * scale);
    if (px.length === 1) { px = [px[0], px[0]]; py = [py[0], py[0]]; }
    for (let s = 0; s + 1 < px.length; s++) {
      const ax = px[s], ay = py[s], bx = px[s + 1], by = py[s + 1];
      const x0 = Math.max(0, Math.floor(Math.min(ax, bx) - radius)), x1 = Math.min(big, Math.ceil(Math.max(ax, bx) + radius) + 1);
      const y0 = Math.max(0, Math.floor(Math.min(ay, by) - radius)), y1 = Math.min(big, Math.ceil(Math.max(ay, by) + radius) + 1);
      const dx = bx - ax, dy = by - ay;
      const length2 = dx * dx + dy * dy;
      for (let gy = y0; gy < y1; gy++) {
        const qy = gy + 0.5 - ay;
        for (let gx = x0; gx < x1; gx++) {
          let ex = gx + 0.5 - ax, ey = qy;
          if (length2 > 0) {
            const t = Math.min(Math.max((ex * dx + ey * dy) / length2, 0.0), 1.0);
            ex -= t * dx;
            ey -= t * dy;
          }
          if (ex * ex + ey * ey <= r2) ink[gy * big + gx] = 1;
        }
      }
    }
  }
  const out = new Uint8Array(side * side);
  const samples = SUPERSAMPLE * SUPERSAMPLE;
  for (let row = 0; row < side; row++) {
    for (let col = 0; col < side; col++) {
      let count = 0;
      for (let i = 0; i < SUPERSAMPLE; i++) {
        const base = (row * SUPERSAMPLE + i) * big + col * SUPERSAMPLE;
        for (let j = 0; j < SUPERSAMPLE; j++) count += ink[base + j];
      }
      out[row * side + col] = Math.floor((count * 255 + Math.floor(samples / 2)) / samples);
    }
  }
  return out;
}
