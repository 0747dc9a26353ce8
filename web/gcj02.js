// WGS84 ↔ GCJ-02 in the page: a line-for-line port of src/locate/gcj02.rs (the published
// transform: Krasovsky constants, the polynomial of eviltransform / coordtransform; the inverse
// by fixed-point iteration). tests/dashboard_browser.rs checks it against the Rust functions on
// known points to 1e-9°. Coordinates are (lon, lat) in degrees, as in the Rust.
//
// The dashboard stores and fetches everything in WGS84. When the basemap's tiles are drawn in
// GCJ-02 (高德/AMap, `[ui.basemap]` datum "gcj02"), every overlay is shifted with SF.toMap before
// Leaflet draws it, and a map position is shifted back with SF.fromMap before it is sent to the
// API (a bbox), so fires sit on the fields the tiles show.
"use strict";
(function () {
  const SF = window.SF;
  const A = 6378245.0; // Krasovsky 1940 semi-major axis, m
  const EE = 0.006693421622965943; // its first eccentricity squared
  const PI = Math.PI;

  function outOfChina(lon, lat) {
    return !(lon >= 72.004 && lon <= 137.8347 && lat >= 0.8293 && lat <= 55.8271);
  }
  function transformLat(x, y) {
    let ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    ret += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    ret += (20.0 * Math.sin(y * PI) + 40.0 * Math.sin(y / 3.0 * PI)) * 2.0 / 3.0;
    ret += (160.0 * Math.sin(y / 12.0 * PI) + 320.0 * Math.sin(y * PI / 30.0)) * 2.0 / 3.0;
    return ret;
  }
  function transformLon(x, y) {
    let ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    ret += (20.0 * Math.sin(6.0 * x * PI) + 20.0 * Math.sin(2.0 * x * PI)) * 2.0 / 3.0;
    ret += (20.0 * Math.sin(x * PI) + 40.0 * Math.sin(x / 3.0 * PI)) * 2.0 / 3.0;
    ret += (150.0 * Math.sin(x / 12.0 * PI) + 300.0 * Math.sin(x / 30.0 * PI)) * 2.0 / 3.0;
    return ret;
  }
  function offsetDeg(lon, lat) {
    const dlat = transformLat(lon - 105.0, lat - 35.0);
    const dlon = transformLon(lon - 105.0, lat - 35.0);
    const radLat = lat * PI / 180;
    const magic = 1.0 - EE * Math.pow(Math.sin(radLat), 2);
    const sqrtMagic = Math.sqrt(magic);
    const dlatDeg = (dlat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrtMagic) * PI);
    const dlonDeg = (dlon * 180.0) / (A / sqrtMagic * Math.cos(radLat) * PI);
    return [dlonDeg, dlatDeg];
  }
  // WGS84 (lon, lat) → GCJ-02 [lon, lat].
  function fromWgs84(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    const d = offsetDeg(lon, lat);
    return [lon + d[0], lat + d[1]];
  }
  // GCJ-02 (lon, lat) → WGS84 [lon, lat], to about 0.01 mm.
  function toWgs84(lon, lat) {
    if (outOfChina(lon, lat)) return [lon, lat];
    let wlon = lon, wlat = lat;
    for (let i = 0; i < 30; i++) {
      const g = fromWgs84(wlon, wlat);
      const elon = g[0] - lon, elat = g[1] - lat;
      wlon -= elon;
      wlat -= elat;
      if (Math.abs(elon) < 1e-10 && Math.abs(elat) < 1e-10) break;
    }
    return [wlon, wlat];
  }
  SF.gcj02 = { fromWgs84, toWgs84, outOfChina };

  // ---- the map's datum ----
  // "wgs84" (and CGCS2000) or "gcj02": set from the server's basemap config before drawing.
  SF.mapDatum = "wgs84";
  // A WGS84 [lat, lon] as the map draws it.
  SF.toMap = function (ll) {
    if (SF.mapDatum !== "gcj02") return ll;
    const g = fromWgs84(ll[1], ll[0]);
    return [g[1], g[0]];
  };
  // A map position (Leaflet LatLng or [lat, lon]) as WGS84 [lat, lon].
  SF.fromMap = function (ll) {
    const lat = ll.lat != null ? ll.lat : ll[0], lng = ll.lng != null ? ll.lng : ll[1];
    if (SF.mapDatum !== "gcj02") return [lat, lng];
    const w = toWgs84(lng, lat);
    return [w[1], w[0]];
  };
  // The deployment's basemap (`[ui.basemap]`, `cfg.basemap` of /api/v1/dashboard-config) under
  // `map`, and its datum for everything drawn after. Call once, before drawing.
  SF.basemap = function (map, cfg) {
    const b = cfg.basemap || { datum: "wgs84", layers: [] };
    SF.mapDatum = b.datum === "gcj02" ? "gcj02" : "wgs84";
    const el = map.getContainer();
    el.dataset.datum = SF.mapDatum;
    el.dataset.basemap = b.preset || "none";
    for (const l of b.layers || []) {
      const opts = { attribution: SF.esc(l.attribution || ""), maxZoom: 19, maxNativeZoom: l.max_zoom || 18 };
      if (l.subdomains) opts.subdomains = l.subdomains;
      L.tileLayer(l.url, opts).addTo(map);
    }
  };
  // For L.geoJSON's `coordsToLatLng`: a GeoJSON [lon, lat] drawn in the map's datum.
  SF.coordsToMap = function (c) {
    const ll = SF.toMap([c[1], c[0]]);
    return L.latLng(ll[0], ll[1]);
  };
})();
