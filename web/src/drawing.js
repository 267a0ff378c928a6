// Raw strokes -> QuickDraw's simplified form: a port of sketch_edge/data/drawing.py
// (`simplify_raw`, `resample`, `rdp`), operation for operation, so the browser and
// Python turn the same points into the same integers. Keep the two in step:
// tests/web/test_js_port.py compares them on random drawings.

const RDP_EPSILON = 2.0;
// Past this many resampled points the spacing grows (sketch_edge/data/drawing.py MAX_RESAMPLED_POINTS): it bounds the
// work on absurd drawings; real ones never reach it, and below it both sides resample at exactly 1 unit.
const MAX_RESAMPLED_POINTS = 10000;

/** numpy's round: halves go to the even neighbour. */
export function roundHalfEven(v) {
  const r = Math.round(v);
  return Math.abs(v % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** strokes: [[xs], [ys]] with any float coordinates -> aligned to the top-left, longer side 0-255. */
function fitTo255(strokes) {
  let loX = Infinity, loY = Infinity, hiX = -Infinity, hiY = -Infinity;
  for (const [xs, ys] of strokes) {
    for (const x of xs) { loX = Math.min(loX, x); hiX = Math.max(hiX, x); }
    for (const y of ys) { loY = Math.min(loY, y); hiY = Math.max(hiY, y); }
  }
  const extent = Math.max(hiX - loX, hiY - loY);
  const scale = extent > 0 ? 255.0 / extent : 1.0;
  return strokes.map(([xs, ys]) => xs.map((x, i) => [(x - loX) * scale, (ys[i] - loY) * scale]));
}

/** Points every `spacing` units along the polyline, then its last point. */
export function resample(points, spacing) {
  if (points.length < 2) return points;
  const seg = [], dist = [0.0];
  for (let i = 1; i < points.length; i++) {
    const dx = points[i][0] - points[i - 1][0], dy = points[i][1] - points[i - 1][1];
    seg.push(Math.sqrt(dx * dx + dy * dy));
    dist.push(dist[i - 1] + seg[i - 1]);
  }
  const total = dist[dist.length - 1];
  if (total === 0) return [points[0]];
  const out = [];
  let j = 0;
  for (let k = 0; k * spacing < total; k++) {
    const step = k * spacing;
    while (dist[j + 1] <= step) j++; // dist[j] <= step < dist[j + 1]
    const t = (step - dist[j]) / seg[j];
    const a = points[j], b = points[j + 1];
    out.push([a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])]);
  }
  out.push(points[points.length - 1]);
  return out;
}

/** Ramer-Douglas-Peucker, iterative. */
export function rdp(points, epsilon) {
  const n = points.length;
  if (n < 3) return points;
  const keep = new Array(n).fill(false);
  keep[0] = keep[n - 1] = true;
  const stack = [[0, n - 1]];
  while (stack.length) {
    const [first, last] = stack.pop();
    if (last - first < 2) continue;
    const [ax, ay] = points[first], [bx, by] = points[last];
    const dx = bx - ax, dy = by - ay;
    const norm = Math.sqrt(dx * dx + dy * dy);
    let best = -1, bestD = -Infinity;
    for (let i = first + 1; i < last; i++) {
      const ix = points[i][0] - ax, iy = points[i][1] - ay;
      const d = norm === 0 ? Math.sqrt(ix * ix + iy * iy) : Math.abs(dx * iy - dy * ix) / norm;
      if (d > bestD) { bestD = d; best = i; }
    }
    if (bestD > epsilon) {
      keep[best] = true;
      stack.push([first, best], [best, last]);
    }
  }
  return points.filter((_, i) => keep[i]);
}

/** The official simplification of raw strokes ([[xs], [ys], ...] per stroke) -> [[xs], [ys]] integers 0-255. */
export function simplifyRaw(strokes) {
  const fitted = fitTo255(strokes);
  let length = 0;
  for (const points of fitted) {
    for (let i = 1; i < points.length; i++) {
      const dx = points[i][0] - points[i - 1][0], dy = points[i][1] - points[i - 1][1];
      length += Math.sqrt(dx * dx + dy * dy);
    }
  }
  const spacing = Math.max(1.0, length / MAX_RESAMPLED_POINTS);
  return fitted.map((points) => {
    const kept = rdp(resample(points, spacing), RDP_EPSILON);
    const clip = (v) => Math.min(255, Math.max(0, roundHalfEven(v)));
    return [kept.map((p) => clip(p[0])), kept.map((p) => clip(p[1]))];
  });
}
