// Grid clustering of many points per zoom, for the dashboard's hotspots (20,000 must draw in
// well under 0.5 s; one SVG marker each took seconds at 2,000). Written here rather than
// vendored: what is needed is small.
//
// Each point is projected once to spherical-Mercator "world" coordinates in [0, 1) (what Leaflet
// multiplies by 256·2^zoom). At a zoom, a point falls in the grid cell floor(world · 256·2^z /
// cellPx) in x and y; a cell with one point is that point, a cell with more is a cluster drawn at
// the mean of its points. Only cells in the asked bounds are made, so a redraw after a pan or zoom
// costs one pass over the typed arrays and as many markers as the view holds cells.
"use strict";
(function () {
  const SF = window.SF;
  const MAX_LAT = 85.0511287798;

  // `n` points; fill with set(i, lat, lon, rank, timeMs).
  function GridIndex(n) {
    this.n = n;
    this.x = new Float64Array(n);
    this.y = new Float64Array(n);
    this.rank = new Uint8Array(n); // 0 low, 1 nominal, 2 high: a cluster shows its highest
    this.time = new Float64Array(n); // ms; a cluster fades by its newest
  }
  GridIndex.prototype.set = function (i, lat, lon, rank, timeMs) {
    const la = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat)) * Math.PI / 180;
    this.x[i] = (lon + 180) / 360;
    this.y[i] = (1 - Math.log(Math.tan(la) + 1 / Math.cos(la)) / Math.PI) / 2;
    this.rank[i] = rank;
    this.time[i] = timeMs;
  };
  // The cells of zoom `zoom` (cells of `cellPx` pixels) inside world bounds `b` = {x0, y0, x1, y1}
  // (fractions of the world): [{count, x, y, rank, time, i}], `i` the one point of a single cell
  // (else its first), x/y the mean in world fractions.
  GridIndex.prototype.cells = function (zoom, cellPx, b) {
    const scale = 256 * Math.pow(2, zoom) / cellPx;
    const cols = Math.ceil(scale);
    const byKey = new Map();
    const out = [];
    const { x, y, rank, time } = this;
    for (let i = 0; i < this.n; i++) {
      const px = x[i], py = y[i];
      if (px < b.x0 || px > b.x1 || py < b.y0 || py > b.y1) continue;
      const key = Math.floor(py * scale) * cols + Math.floor(px * scale);
      let c = byKey.get(key);
      if (c === undefined) {
        c = { count: 0, sx: 0, sy: 0, rank: 0, time: -Infinity, i };
        byKey.set(key, c);
        out.push(c);
      }
      c.count++;
      c.sx += px;
      c.sy += py;
      if (rank[i] > c.rank) c.rank = rank[i];
      if (time[i] > c.time) c.time = time[i];
    }
    for (const c of out) {
      c.x = c.sx / c.count;
      c.y = c.sy / c.count;
    }
    return out;
  };
  // World fraction (x, y) → [lat, lon].
  GridIndex.toLatLng = function (x, y) {
    const n = Math.PI - 2 * Math.PI * y;
    return [180 / Math.PI * Math.atan(0.5 * (Math.exp(n) - Math.exp(-n))), x * 360 - 180];
  };
  // A Leaflet LatLngBounds as world fractions, widened by `pad` of its size on each side.
  GridIndex.worldBounds = function (bounds, pad) {
    const tmp = new GridIndex(2);
    tmp.set(0, bounds.getNorth(), bounds.getWest(), 0, 0);
    tmp.set(1, bounds.getSouth(), bounds.getEast(), 0, 0);
    const w = tmp.x[1] - tmp.x[0], h = tmp.y[1] - tmp.y[0];
    return { x0: tmp.x[0] - w * pad, y0: tmp.y[0] - h * pad, x1: tmp.x[1] + w * pad, y1: tmp.y[1] + h * pad };
  };
  SF.GridIndex = GridIndex;
})();
