// "Take me there" on the patrol page: per task card, links that open the fire in the phone's map
// app (高德 and 腾讯 in GCJ-02, 百度 in BD-09, `geo:` in WGS84: computed by the server from the
// project's datum code, `properties.nav` of the task JSON, so the chat message and the page carry
// the same coordinates), the distance and bearing from the phone's position when the browser
// gives one ("火点在您东北 1.2 公里"), numbered pins matching the numbered cards, and the task's
// field parcel drawn on the map when the parcel layer has it; the card a chat message links to
// (`#task-17`) is marked. Kept apart from patrol.js, which
// only calls SF.nav.card / SF.nav.pin / SF.nav.parcels.
"use strict";
(function () {
  const SF = window.SF;
  const tr = SF.t;
  const nav = {};
  SF.nav = nav;
  // The phone's last position (WGS84, from the browser), or null.
  let here = null;

  // Great-circle distance (m) and initial bearing (degrees from north) from `a` to `b`, both
  // [lon, lat]: the formula of locate::navlink::distance_bearing (R = 6371008.8 m, haversine).
  nav.distanceBearing = function (a, b) {
    const R = 6371008.8, rad = Math.PI / 180;
    const p1 = a[1] * rad, p2 = b[1] * rad, dp = (b[1] - a[1]) * rad, dl = (b[0] - a[0]) * rad;
    const h = Math.sin(dp / 2) ** 2 + Math.cos(p1) * Math.cos(p2) * Math.sin(dl / 2) ** 2;
    const d = 2 * R * Math.asin(Math.min(1, Math.sqrt(h)));
    const y = Math.sin(dl) * Math.cos(p2);
    const x = Math.cos(p1) * Math.sin(p2) - Math.sin(p1) * Math.cos(p2) * Math.cos(dl);
    return [d, (Math.atan2(y, x) / rad + 360) % 360];
  };
  const DIRS = ["n", "ne", "e", "se", "s", "sw", "w", "nw"];
  // "东北 1.2 公里" (or "Fire 1.2 km north-east of you"): eight compass points, metres below 1 km.
  nav.distanceText = function (d, bearing) {
    const dir = tr("dir." + DIRS[Math.round(bearing / 45) % 8]);
    const dist = d < 1000 ? tr("nav.m", { m: Math.round(d) }) : tr("nav.km", { km: (d / 1000).toFixed(1) });
    return tr("nav.from_here", { dir, dist });
  };

  function showDistance(card) {
    const out = card.querySelector(".nav-dist");
    if (!out) return;
    const to = [Number(card.dataset.lon), Number(card.dataset.lat)];
    if (!here || !isFinite(to[0])) { out.textContent = ""; return; }
    const [d, b] = nav.distanceBearing([here.longitude, here.latitude], to);
    out.textContent = nav.distanceText(d, b);
    out.dataset.m = String(Math.round(d));
    out.dataset.bearing = b.toFixed(1);
  }
  function showAll() {
    for (const card of document.querySelectorAll("#tasks .card[data-task-id]")) showDistance(card);
  }

  // Asks the browser for the position once (the patrol taps 测距 again after moving).
  nav.locate = function () {
    if (!navigator.geolocation) return;
    navigator.geolocation.getCurrentPosition(
      (p) => { here = p.coords; showAll(); },
      () => { /* no position: no distance, the links still work */ },
      { enableHighAccuracy: true, timeout: 10000, maximumAge: 30000 });
  };

  // Fills a task card's number and navigation section. `n` is the card's number (1-based), the
  // same as its pin's.
  let asked = false;
  nav.card = function (card, f, n) {
    const t = f.properties;
    if (!asked) { asked = true; nav.locate(); }
    const [lon, lat] = f.geometry.coordinates;
    card.dataset.lon = String(lon);
    card.dataset.lat = String(lat);
    card.dataset.num = String(n);
    const num = card.querySelector(".pin-num");
    if (num) num.textContent = String(n);
    const box = card.querySelector(".nav");
    if (!box) return;
    const links = t.nav || {};
    for (const app of ["amap", "baidu", "tencent", "geo"]) {
      const a = box.querySelector(".nav-" + app);
      if (!a) continue;
      if (links[app]) { a.href = links[app]; a.hidden = false; } else a.hidden = true;
    }
    const parcel = box.querySelector(".nav-parcel");
    if (parcel) parcel.textContent = t.parcel ? tr("hotspot.parcel", { parcel: t.parcel }) : "";
    box.hidden = !t.nav;
    box.querySelector(".nav-locate").onclick = nav.locate;
    showDistance(card);
    focusFromLink(card, t.id);
  };

  // A chat message links to one task (`/patrol#task-17`): that card is marked and scrolled to,
  // once, when it is first drawn.
  let focused = false;
  function focusFromLink(card, id) {
    if (focused || location.hash !== "#task-" + id) return;
    focused = true;
    card.classList.add("active");
    requestAnimationFrame(() => card.scrollIntoView({ block: "start" }));
  }

  // A numbered pin: the number drawn on the marker, the same as the card's.
  nav.pin = function (f, n, title) {
    const icon = L.divIcon({ className: "pin", html: "<span>" + n + "</span>", iconSize: [28, 28], iconAnchor: [14, 28], popupAnchor: [0, -26] });
    return L.marker(SF.latlng(f), { icon, title, alt: String(n) });
  };

  // The tasks' field parcels, drawn into `layer` when the parcel layer has them (fetched once per
  // parcel: a small bbox around the fire, the parcel picked by its code). The patrol map does not
  // animate zooms (patrol.js): Leaflet places a vector added mid-animation at the old zoom's pixels.
  const parcels = new Map();
  nav.parcels = async function (map, layer, tasks) {
    for (const f of tasks) {
      const code = f.properties.parcel;
      if (!code || parcels.has(code)) continue;
      const [lon, lat] = f.geometry.coordinates, r = 0.005;
      try {
        const fc = await SF.api("/api/v1/units?level=parcel&limit=500&bbox=" +
          [lon - r, lat - r, lon + r, lat + r].map((v) => v.toFixed(6)).join(","));
        parcels.set(code, (fc.features || []).filter((p) => p.properties.code === code));
      } catch (e) { parcels.set(code, []); }
    }
    layer.clearLayers();
    for (const f of tasks) {
      for (const p of parcels.get(f.properties.parcel) || []) {
        L.geoJSON(p, { style: { color: "#e65100", weight: 2, fillOpacity: 0.25 }, interactive: false, coordsToLatLng: SF.coordsToMap }).addTo(layer);
      }
    }
    map.getContainer().dataset.parcels = String(layer.getLayers().length);
  };
})();
