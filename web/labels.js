// Where a unit's name goes on the map: the point inside its polygon farthest from the edge (a
// coarse pole of inaccessibility: a 12×12 grid over the largest part's box, then a finer grid
// around the best cell), not the centroid, which can fall outside a crescent-shaped township or
// on its border. Pure; coordinates are GeoJSON [lon, lat] (lon scaled by cos(lat) for distances).
"use strict";
(function () {
  const SF = window.SF;

  function ringArea(r) {
    let a = 0;
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) a += (r[j][0] + r[i][0]) * (r[j][1] - r[i][1]);
    return Math.abs(a / 2);
  }
  function inside(rings, x, y) {
    let c = false;
    for (const r of rings) {
      for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
        const xi = r[i][0], yi = r[i][1], xj = r[j][0], yj = r[j][1];
        if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) c = !c;
      }
    }
    return c;
  }
  // Squared distance (in scaled degrees) from (x, y) to the nearest edge.
  function edgeDist2(rings, x, y, k) {
    let best = Infinity;
    for (const r of rings) {
      for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
        const ax = r[j][0] * k, ay = r[j][1], bx = r[i][0] * k, by = r[i][1];
        const px = x * k, dx = bx - ax, dy = by - ay;
        const len2 = dx * dx + dy * dy;
        let t = len2 > 0 ? ((px - ax) * dx + (y - ay) * dy) / len2 : 0;
        t = Math.max(0, Math.min(1, t));
        const ex = ax + t * dx - px, ey = ay + t * dy - y;
        const d = ex * ex + ey * ey;
        if (d < best) best = d;
      }
    }
    return best;
  }
  function bestOnGrid(rings, x0, y0, x1, y1, n, k, best) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const x = x0 + (x1 - x0) * (i + 0.5) / n, y = y0 + (y1 - y0) * (j + 0.5) / n;
        if (!inside(rings, x, y)) continue;
        const d = edgeDist2(rings, x, y, k);
        if (!best || d > best[2]) best = [x, y, d];
      }
    }
    return best;
  }
  // [lon, lat, area] of the label point of a Polygon or MultiPolygon (its largest part), or null.
  SF.labelPoint = function (geometry) {
    if (!geometry) return null;
    const parts = geometry.type === "Polygon" ? [geometry.coordinates]
      : geometry.type === "MultiPolygon" ? geometry.coordinates : [];
    let rings = null, area = 0;
    for (const p of parts) {
      const a = p[0] && p[0].length > 2 ? ringArea(p[0]) : 0;
      if (a > area) { area = a; rings = p; }
    }
    if (!rings) return null;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const c of rings[0]) {
      x0 = Math.min(x0, c[0]); x1 = Math.max(x1, c[0]);
      y0 = Math.min(y0, c[1]); y1 = Math.max(y1, c[1]);
    }
    const k = Math.cos((y0 + y1) / 2 * Math.PI / 180);
    const N = 12;
    let best = bestOnGrid(rings, x0, y0, x1, y1, N, k, null);
    if (!best) return [(x0 + x1) / 2, (y0 + y1) / 2, area];
    const dx = (x1 - x0) / N, dy = (y1 - y0) / N;
    best = bestOnGrid(rings, best[0] - dx, best[1] - dy, best[0] + dx, best[1] + dy, 8, k, best);
    return [best[0], best[1], area];
  };
})();
