// The command-center dashboard: unit boundaries (vector, from the API), hotspots coloured by
// confidence and faded by age, events, open tasks with their clocks, filters by time and unit,
// the daily ranking, and live updates over SSE. The map element keeps counters of what it drew
// (data-hotspots, data-events, data-tasks, data-units) for people and tests alike.
// Every word comes from the catalogue (SF.t); a language switch redraws what was drawn.
"use strict";
(function () {
  const SF = window.SF;
  const t = SF.t;
  const $ = (id) => document.getElementById(id);
  const mapEl = $("map");
  const map = L.map(mapEl, { zoomControl: false, minZoom: 5 }).setView([35.55, 114.7], 9);
  map.attributionControl.setPrefix(false);
  SF.dashboardMap = map; // for the console and the browser tests

  const layers = {
    // Boundaries are drawn in the basemap's datum (SF.coordsToMap, web/gcj02.js).
    county: L.geoJSON(null, { style: { color: "#233140", weight: 2, fill: false }, interactive: false, coordsToLatLng: SF.coordsToMap }).addTo(map),
    township: L.geoJSON(null, { style: { color: "#607d8b", weight: 1, dashArray: "4 3", fill: false }, coordsToLatLng: SF.coordsToMap }).addTo(map),
    parcel: L.geoJSON(null, { style: { color: "#689f38", weight: 0.6, fillOpacity: 0.05 }, coordsToLatLng: SF.coordsToMap }).addTo(map),
    hotspots: L.layerGroup().addTo(map),
    events: L.layerGroup().addTo(map),
    tasks: L.layerGroup().addTo(map),
  };
  // The controls carry words: made again in the new language after a switch.
  let controls = [];
  function addControls() {
    for (const c of controls) c.remove();
    const names = {};
    names[t("layer.counties")] = layers.county;
    names[t("layer.townships")] = layers.township;
    names[t("layer.parcels")] = layers.parcel;
    names[t("layer.hotspots")] = layers.hotspots;
    names[t("layer.events")] = layers.events;
    names[t("layer.tasks")] = layers.tasks;
    controls = [
      L.control.zoom({ zoomInTitle: t("map.zoom_in"), zoomOutTitle: t("map.zoom_out") }),
      L.control.layers(null, names, { collapsed: true }),
      L.control.scale({ imperial: false }),
    ];
    for (const c of controls) c.addTo(map);
  }
  addControls();

  const state = { units: {}, tasks: [], seq: {}, liveUpdates: 0, parcelsOk: true };

  // Only the answer to the latest request of each kind is drawn.
  async function latest(kind, fn) {
    const n = (state.seq[kind] = (state.seq[kind] || 0) + 1);
    const out = await fn();
    return n === state.seq[kind] ? out : undefined;
  }

  // ---- filters ----
  function timeQuery() {
    const w = $("window").value;
    const p = new URLSearchParams();
    if (w === "custom") {
      // The inputs read as the deployment's clock (北京时间), like every time on the page.
      if ($("from").value) p.set("from", new Date(SF.fromZoneInput($("from").value)).toISOString());
      if ($("to").value) p.set("to", new Date(SF.fromZoneInput($("to").value)).toISOString());
    } else {
      p.set("from", new Date(Date.now() - Number(w) * 3600000).toISOString());
    }
    if ($("unit").value) p.set("unit", $("unit").value);
    return p;
  }
  function windowHours() {
    const w = $("window").value;
    if (w !== "custom") return Number(w);
    const f = SF.fromZoneInput($("from").value), t = $("to").value ? SF.fromZoneInput($("to").value) : Date.now();
    return isFinite(f) ? Math.max(1, (t - f) / 3600000) : 24;
  }

  // ---- colours ----
  function confClass(c) {
    if (typeof c === "number") return c >= 80 ? "h" : c >= 30 ? "n" : "l";
    const s = String(c || "").toLowerCase();
    if (s === "h" || s === "high") return "h";
    if (s === "l" || s === "low") return "l";
    if (/^\d+$/.test(s)) return confClass(Number(s));
    return "n";
  }
  const CONF_COLOUR = { h: "#d50000", n: "#ff6d00", l: "#ffd600" };
  // Opacity from age: fresh fires are solid, those at the far end of the window faint.
  function ageOpacity(iso) {
    const hours = (Date.now() - Date.parse(iso)) / 3600000;
    const span = Math.max(6, windowHours());
    return Math.max(0.2, Math.min(0.95, 0.95 - 0.75 * Math.max(0, hours) / span));
  }
  const ago = SF.ago;
  // "高", or "中 55%" for a percentage.
  const confName = (c) => t("conf." + confClass(c)) + (/^\d+$/.test(String(c)) ? " " + c + "%" : "");

  // ---- boundaries ----
  async function loadUnits() {
    let n = 0;
    for (const level of ["county", "township"]) {
      try {
        const fc = await SF.apiAll("/api/v1/units?level=" + level);
        layers[level].clearLayers();
        layers[level].addData(fc);
        for (const f of fc.features) {
          state.units[f.properties.code] = f.properties;
          n++;
        }
        if (level === "township") {
          layers.township.eachLayer((l) => l.bindTooltip(SF.esc(l.feature.properties.name), { sticky: true }));
        }
      } catch (e) {
        SF.say(t("err.units", { msg: SF.errorText(e) }));
      }
    }
    mapEl.dataset.units = String(n);
    drawUnitLabels();
    const sel = $("unit");
    const keep = sel.value;
    sel.length = 1;
    const codes = Object.keys(state.units).sort();
    for (const code of codes) {
      const u = state.units[code];
      const o = document.createElement("option");
      o.value = code;
      o.textContent = (u.level === "township" ? "\u00a0\u00a0" : "") + u.name + " " + code;
      sel.appendChild(o);
    }
    sel.value = keep;
    const b = layers.county.getBounds();
    if (b.isValid()) map.fitBounds(b, { padding: [10, 10] });
    else if (layers.township.getBounds().isValid()) map.fitBounds(layers.township.getBounds());
  }

  // ---- basemap (`[ui.basemap]`, from /api/v1/dashboard-config) ----
  // The tiles' datum is set before anything is drawn: overlays follow it (web/gcj02.js).
  const setBasemap = (cfg) => SF.basemap(map, cfg);

  // ---- unit names on the map ----
  // County names always, township names from zoom 10; each at its polygon's label point (the
  // inside point farthest from the edge, SF.labelPoint), in the map's datum. A name whose box
  // would overlap one already placed is hidden (counties first, then larger townships first).
  const labelLayer = L.layerGroup().addTo(map);
  const TOWNSHIP_LABEL_ZOOM = 10;
  let labels = [];
  function drawUnitLabels() {
    labelLayer.clearLayers();
    labels = [];
    for (const level of ["county", "township"]) {
      layers[level].eachLayer((l) => {
        const f = l.feature;
        const at = SF.labelPoint(f.geometry);
        if (!at) return;
        const ll = SF.toMap([at[1], at[0]]);
        const m = L.marker(ll, {
          interactive: false, keyboard: false,
          icon: L.divIcon({ className: "unit-name " + level, html: "<span>" + SF.esc(f.properties.name) + "</span>", iconSize: null }),
        });
        labels.push({ m, level, area: at[2], name: f.properties.name });
      });
    }
    labels.sort((a, b) => (a.level === b.level ? b.area - a.area : a.level === "county" ? -1 : 1));
    placeLabels();
  }
  function placeLabels() {
    const zoom = map.getZoom();
    const boxes = [];
    let shown = 0;
    for (const lb of labels) {
      let show = lb.level === "county" || zoom >= TOWNSHIP_LABEL_ZOOM;
      if (show) {
        const p = map.latLngToContainerPoint(lb.m.getLatLng());
        const w = (lb.level === "county" ? 14 : 12) * [...lb.name].length / 2 + 4, h = lb.level === "county" ? 10 : 8;
        const box = [p.x - w, p.y - h, p.x + w, p.y + h];
        show = !boxes.some((o) => box[0] < o[2] && box[2] > o[0] && box[1] < o[3] && box[3] > o[1]);
        if (show) boxes.push(box);
      }
      if (show && !labelLayer.hasLayer(lb.m)) labelLayer.addLayer(lb.m);
      if (!show && labelLayer.hasLayer(lb.m)) labelLayer.removeLayer(lb.m);
      if (show) shown++;
    }
    mapEl.dataset.labels = String(shown);
  }
  map.on("zoomend", () => placeLabels());

  // Parcels only when zoomed in (there may be millions), for the view's bbox.
  async function loadParcels() {
    if (map.getZoom() < 13) { layers.parcel.clearLayers(); return; }
    const b = map.getBounds();
    // The view in WGS84 for the API (the map may be drawn in GCJ-02).
    const sw = SF.fromMap(b.getSouthWest()), ne = SF.fromMap(b.getNorthEast());
    const bbox = [sw[1], sw[0], ne[1], ne[0]].map((v) => v.toFixed(5)).join(",");
    try {
      const fc = await latest("parcel", () => SF.apiAll("/api/v1/units?level=parcel&bbox=" + bbox));
      if (!fc) return;
      layers.parcel.clearLayers();
      layers.parcel.addData(fc);
      layers.parcel.eachLayer((l) => l.bindTooltip(SF.esc(l.feature.properties.code)));
    } catch (e) {
      if (e.field === "bbox") layers.parcel.clearLayers(); // too many in view: zoom in
    }
  }
  map.on("moveend", SF.debounce(loadParcels, 300));

  // ---- hotspots ----
  async function loadHotspots() {
    try {
      const fc = await latest("hotspots", () => SF.apiAll("/api/v1/hotspots?" + timeQuery()));
      if (!fc) return;
      drawHotspots(fc.features);
    } catch (e) {
      SF.say(t("err.hotspots", { msg: SF.errorText(e) }));
    }
  }

  // Up to CLUSTER_ABOVE hotspots each is its own marker; more are clustered on a grid of
  // CLUSTER_CELL_PX pixels per zoom (web/cluster.js) below CLUSTER_MAX_ZOOM, and only what is
  // in view (and half a view around it) is drawn. Draw times (ms) are kept on the map element
  // (data-hotspots-draw-ms for the whole set, data-hotspots-redraw-ms for a pan or zoom).
  const CLUSTER_ABOVE = 300, CLUSTER_CELL_PX = 48, CLUSTER_MAX_ZOOM = 16;
  const hot = { features: [], index: null };
  function drawHotspots(features) {
    const t0 = performance.now();
    hot.features = features;
    const idx = new SF.GridIndex(features.length);
    const RANK = { l: 0, n: 1, h: 2 };
    for (let i = 0; i < features.length; i++) {
      const f = features[i];
      const ll = SF.latlng(f); // in the map's datum
      idx.set(i, ll[0], ll[1], RANK[confClass(f.properties.confidence)], Date.parse(f.properties.acq_datetime));
    }
    hot.index = idx;
    renderHotspots();
    const ms = performance.now() - t0;
    mapEl.dataset.hotspots = String(features.length);
    mapEl.dataset.hotspotsDrawMs = ms.toFixed(1);
  }
  function hotspotMarker(f) {
    const p = f.properties;
    const c = confClass(p.confidence);
    const m = L.circleMarker(SF.latlng(f), {
      radius: 6, weight: 1, color: "#3e2723", fillColor: CONF_COLOUR[c],
      fillOpacity: ageOpacity(p.acq_datetime), opacity: ageOpacity(p.acq_datetime),
      className: "hotspot conf-" + c,
    });
    // Words are made when the popup opens, so they follow the language switch.
    m.bindPopup(() => "<b>" + SF.esc(t("hotspot.title", { id: p.id })) + "</b><br>" +
      SF.esc(SF.time(p.acq_datetime)) + "（" + SF.esc(ago(p.acq_datetime)) + "）<br>" +
      SF.esc(t("hotspot.detail", { satellite: p.satellite, instrument: p.instrument, confidence: confName(p.confidence), frp: p.frp == null ? t("value.unknown") : p.frp + " MW" })) +
      "<br>" + unitName(p.township || p.county) +
      (p.parcel ? "<br>" + SF.esc(t("hotspot.parcel", { parcel: p.parcel })) : "") +
      (p.mask ? "<br>" + SF.esc(t("hotspot.mask", { mask: p.mask })) : ""));
    return m;
  }
  function renderHotspots() {
    const t0 = performance.now();
    const feats = hot.features, idx = hot.index;
    layers.hotspots.clearLayers();
    let clusters = 0;
    if (feats.length <= CLUSTER_ABOVE) {
      for (const f of feats) hotspotMarker(f).addTo(layers.hotspots);
    } else if (idx) {
      const zoom = map.getZoom();
      const cell = zoom >= CLUSTER_MAX_ZOOM ? 1e-9 : CLUSTER_CELL_PX; // tiny cells: every point alone
      const cells = idx.cells(zoom, cell, SF.GridIndex.worldBounds(map.getBounds(), 0.5));
      const colour = ["l", "n", "h"];
      for (const c of cells) {
        if (c.count === 1) { hotspotMarker(feats[c.i]).addTo(layers.hotspots); continue; }
        clusters++;
        const size = Math.round(22 + 8 * Math.log10(c.count));
        const cls = colour[c.rank];
        const icon = L.divIcon({
          className: "hotspot-cluster conf-" + cls, iconSize: [size, size],
          html: "<span>" + c.count + "</span>",
        });
        const at = SF.GridIndex.toLatLng(c.x, c.y);
        const m = L.marker(at, { icon, keyboard: false, title: t("cluster.title", { n: c.count }),
          opacity: ageOpacity(new Date(c.time).toISOString()) });
        m.on("click", () => map.setView(at, Math.min(map.getZoom() + 2, 18)));
        m.addTo(layers.hotspots);
      }
    }
    mapEl.dataset.hotspotClusters = String(clusters);
    mapEl.dataset.hotspotsRedrawMs = (performance.now() - t0).toFixed(1);
  }
  map.on("moveend", () => { if (hot.features.length > CLUSTER_ABOVE) renderHotspots(); });

  // Events the same way: above CLUSTER_ABOVE, a cell of several events is one purple ring with
  // their count (drawn around the hotspot cluster of the same place), a cell of one its marker.
  const ev = { marks: [], index: null };
  function drawEvents(marks) {
    ev.marks = marks;
    const idx = new SF.GridIndex(marks.length);
    for (let i = 0; i < marks.length; i++) {
      const ll = marks[i].getLatLng();
      idx.set(i, ll.lat, ll.lng, 0, 0);
    }
    ev.index = idx;
    renderEvents();
  }
  function renderEvents() {
    layers.events.clearLayers();
    let clusters = 0;
    if (ev.marks.length <= CLUSTER_ABOVE) {
      for (const m of ev.marks) m.addTo(layers.events);
    } else {
      const zoom = map.getZoom();
      const cell = zoom >= CLUSTER_MAX_ZOOM ? 1e-9 : CLUSTER_CELL_PX;
      for (const c of ev.index.cells(zoom, cell, SF.GridIndex.worldBounds(map.getBounds(), 0.5))) {
        if (c.count === 1) { ev.marks[c.i].addTo(layers.events); continue; }
        clusters++;
        const size = Math.round(34 + 8 * Math.log10(c.count));
        const at = SF.GridIndex.toLatLng(c.x, c.y);
        L.marker(at, {
          icon: L.divIcon({ className: "event-cluster", iconSize: [size, size], html: "<span>" + c.count + "</span>" }),
          keyboard: false, title: t("cluster.events", { n: c.count }),
        }).on("click", () => map.setView(at, Math.min(map.getZoom() + 2, 18))).addTo(layers.events);
      }
    }
    mapEl.dataset.eventClusters = String(clusters);
  }
  map.on("moveend", () => { if (ev.marks.length > CLUSTER_ABOVE) renderEvents(); });

  function unitName(code) {
    const u = code && state.units[code];
    return u ? SF.esc(u.name) + " " + SF.esc(code) : SF.esc(code || t("unit.unknown"));
  }

  // ---- events ----
  async function loadEvents() {
    try {
      const fc = await latest("events", () => SF.apiAll("/api/v1/events?" + timeQuery()));
      if (!fc) return;
      layers.events.clearLayers();
      const feats = fc.features.slice().sort((a, b) => Date.parse(b.properties.last_seen) - Date.parse(a.properties.last_seen));
      const eventMarks = [];
      for (const f of feats) {
        const p = f.properties;
        const m = L.circleMarker(SF.latlng(f), {
          radius: 11, weight: 2, color: "#6a1b9a", fill: false, className: "event",
        }).bindPopup("", { minWidth: 260, maxWidth: 380 });
        // Made afresh at each opening (the words follow the language, the task its state).
        m.on("popupopen", (e) => e.popup.setContent(eventPopup(p, e.popup)));
        eventMarks.push(m); // drawn by drawEvents (clustered when many)
      }
      // The list of events is ops.js's: paged and filtered by task (#17).
      drawEvents(eventMarks);
      mapEl.dataset.events = String(feats.length);
    } catch (e) {
      SF.say(t("err.events", { msg: SF.errorText(e) }));
    }
  }

  // An event's popup: what an operator needs to act on it. When seen (first and last, in the
  // deployment's zone), by what (instrument and satellite, or camera), how sure and how strong
  // (confidence, FRP), where (county, township, village by name; parcel), and what became of it:
  // its task's state, unit and next deadline with its clock, or why it has none. The list gives
  // codes; names and the task come from GET /events/{id} when the popup opens (a fresh answer,
  // so the state is not the one the map was drawn with).
  const SATELLITES = { N: "Suomi NPP", N20: "NOAA-20", N21: "NOAA-21", T: "Terra", A: "Aqua", L8: "Landsat 8", L9: "Landsat 9", S2A: "Sentinel-2A", S2B: "Sentinel-2B" };
  function sourceName(s) {
    s = String(s);
    if (s.startsWith("sensor:")) return t("kind.camera") + " " + s.slice(7);
    const [instrument, sat] = s.split("/");
    return sat ? t("event.popup.source", { instrument, satellite: SATELLITES[sat.toUpperCase()] || sat }) : t("kind.satellite") + " " + s;
  }
  function placeWords(p, names) {
    const parts = names ? [names.county, names.township, names.village]
      : [p.county, p.township].map((c) => c && state.units[c] && state.units[c].name);
    let text = parts.filter(Boolean).join(" ") || (p.township || p.county || t("unit.unknown"));
    if (p.parcel) text += " · " + t("hotspot.parcel", { parcel: p.parcel });
    return text;
  }
  function eventPopup(p, popup) {
    const box = document.createElement("div");
    box.className = "event-popup";
    box.dataset.eventId = p.id;
    const line = (cls, text) => {
      const d = document.createElement("div");
      d.className = cls;
      d.textContent = text;
      box.appendChild(d);
      return d;
    };
    line("ep-title", t("event.title", { id: p.id })).style.fontWeight = "bold";
    line("ep-seen", t("event.popup.seen", { first: SF.time(p.first_seen, { bare: true }), last: SF.time(p.last_seen), ago: ago(p.last_seen) }));
    line("ep-sources", t("event.popup.sources", { sources: (p.sources || []).map(sourceName).join(t("event.popup.sep")), n: p.sightings }));
    line("ep-strength", t("event.popup.strength", {
      confidence: confName(p.confidence_class) + " " + Math.round(100 * p.confidence) + "%",
      frp: p.max_frp_mw == null ? t("value.unknown") : Number(p.max_frp_mw).toFixed(1) + " MW",
    }));
    const place = line("ep-place", t("event.popup.place", { place: placeWords(p, null) }));
    const reason = () => t("event.no_task", {
      reason: SF.has("task_reason." + p.task_reason) ? t("task_reason." + p.task_reason) : p.task_reason,
    });
    const task = line("ep-task", p.task_id ? t("event.popup.task", { id: p.task_id, state: stateName(p.task_state), unit: "" }).trim()
      : p.task_reason ? reason() : t("ops.no_decision"));
    const due = line("ep-due", "");
    SF.api("/api/v1/events/" + p.id).then((d) => {
      const q = d.properties;
      place.textContent = t("event.popup.place", { place: placeWords(q, q.place) });
      const k = q.task;
      if (k) {
        task.textContent = t("event.popup.task", { id: k.id, state: stateName(k.state), unit: unitWords(k.unit) });
        if (k.next_due) {
          const c = SF.clock(k.next_due, Date.now());
          due.textContent = t("event.popup.due", { deadline: t("deadline." + k.next_deadline), time: SF.time(k.next_due), clock: c.text });
          due.classList.toggle("overdue", c.overdue || k.overdue);
        }
      } else if (!q.task_id) {
        task.textContent = q.task_reason ? reason() : t("ops.no_decision");
      }
      box.dataset.loaded = "1";
      if (popup.isOpen()) popup.update();
    }, (e) => {
      box.dataset.loaded = "error";
      due.textContent = SF.errorText(e);
    });
    return box;
  }

  // ---- tasks (the dispatch API) ----
  async function loadTasks() {
    const p = new URLSearchParams({ status: "open" });
    if ($("unit").value) p.set("unit", $("unit").value);
    try {
      const fc = await latest("tasks", () => SF.apiAll("/api/v1/tasks?" + p));
      if (!fc) return;
      state.tasks = fc.features;
      alarmOnNewTasks(fc.features);
    } catch (e) {
      state.tasks = [];
      $("tasks").innerHTML = "<li class='muted'>" + SF.esc(e.status === 404 ? t("err.tasks_unavailable") : t("err.tasks", { msg: SF.errorText(e) })) + "</li>";
      mapEl.dataset.tasks = "0";
      layers.tasks.clearLayers();
      return;
    }
    layers.tasks.clearLayers();
    const list = $("tasks");
    list.textContent = "";
    const tasks = state.tasks.slice().sort((a, b) =>
      (Date.parse(a.properties.next_due) || Infinity) - (Date.parse(b.properties.next_due) || Infinity));
    const tr = SF.t; // `t` is the task here
    for (const f of tasks) {
      const t = f.properties;
      const icon = L.divIcon({ className: "task-marker", html: "<span class='sq task-dot'></span>", iconSize: [12, 12] });
      const m = L.marker(SF.latlng(f), { icon, title: tr("task.title", { id: t.id }) }).addTo(layers.tasks);
      m.bindPopup(() => "<b>" + SF.esc(tr("task.title", { id: t.id })) + "</b>（" + SF.esc(stateName(t.state)) + "，" + SF.esc(priorityName(t.priority)) + "）<br>" + unitName(t.unit) +
        "<br>" + SF.esc(tr("task.event", { id: t.event_id })) + "<br>" + SF.esc(tr("task.created", { time: SF.time(t.created_at) })));
      const li = document.createElement("li");
      li.className = "task-item";
      li.dataset.taskId = t.id;
      li.dataset.state = t.state;
      li.innerHTML = "<span class='due-name muted'></span> <span class='clock'></span> #" + SF.esc(t.id) + " · " + unitName(t.unit) + " · <span class='state'>" + SF.esc(stateName(t.state)) + "</span>" +
        (t.priority === "high" ? " · <b>" + SF.esc(priorityName(t.priority)) + "</b>" : "") +
        (t.escalations && t.escalations.length ? " · " + SF.esc(tr("task.escalated")) : "");
      li.addEventListener("click", () => { map.setView(SF.latlng(f), Math.max(map.getZoom(), 12)); m.openPopup(); });
      list.appendChild(li);
    }
    $("task-count").textContent = "(" + tasks.length + ")";
    mapEl.dataset.tasks = String(tasks.length);
    tick();
  }
  const stateName = (s) => SF.has("state." + s) ? t("state." + s) : s;
  const priorityName = (p) => SF.has("priority." + p) ? t("priority." + p) : p;

  // The clocks: time left to each task's next deadline, red when overdue.
  function tick() {
    const now = Date.now();
    for (const li of document.querySelectorAll("#tasks .task-item")) {
      const f = state.tasks.find((t) => String(t.properties.id) === li.dataset.taskId);
      if (!f) continue;
      const c = SF.clock(f.properties.next_due, now);
      li.querySelector(".due-name").textContent = f.properties.next_deadline ? t("deadline." + f.properties.next_deadline) : "";
      const el = li.querySelector(".clock");
      el.textContent = c.text;
      el.className = "clock" + (c.overdue || f.properties.overdue ? " overdue" : "") + (c.none ? " none" : "");
    }
  }
  setInterval(tick, 1000);
  const statusName = (s) => SF.has("status." + s) ? t("status." + s) : s;

  // ---- ranking (the rank API) ----
  async function loadRanking() {
    const date = $("rank-date").value, level = $("rank-level").value;
    const body = document.querySelector("#ranking tbody");
    try {
      const r = await latest("ranking", () => SF.api("/api/v1/rankings/daily?" + new URLSearchParams({ date, level })));
      if (!r) return;
      body.textContent = "";
      for (const row of r.rows) {
        const tr = document.createElement("tr");
        tr.className = row.status;
        const pct = (v) => v == null ? "–" : Math.round(v * 100) + " %";
        const cells = [row.rank == null ? "–" : row.rank, row.name + " " + row.code,
          row.fire_points_after_masks, row.per_1000ha == null ? "–" : Number(row.per_1000ha).toFixed(2),
          row.verified_burnings, pct(row.within_deadline_share), statusName(row.status)];
        for (const c of cells) { const td = document.createElement("td"); td.textContent = c == null ? "–" : c; tr.appendChild(td); }
        body.appendChild(tr);
      }
      const off = (r.utc_offset_h >= 0 ? "+" : "") + r.utc_offset_h;
      $("ranking-note").textContent = t("rank.note", {
        date: SF.dateText(r.date), pct: Math.round(r.min_clear_share * 100),
        zone: r.utc_offset_h === 8 ? t("zone.beijing") : t("zone.offset", { offset: off }),
      });
      $("ranking-note").dataset.date = r.date;
    } catch (e) {
      body.textContent = "";
      $("ranking-note").textContent = e.status === 404 ? t("err.rankings_unavailable") : SF.errorText(e);
    }
  }

  // ---- the alarm (web/alarm.js): a new high-priority task beeps and notifies ----
  const unitWords = (code) => (state.units[code] ? state.units[code].name + " " + code : code || t("unit.unknown"));
  function alarmOnNewTasks(features) {
    SF.alarm.tasks(features, (p) => t("alarm.notify_body", { unit: unitWords(p.unit) }));
  }
  SF.alarm.onRing((p) => SF.say(t("alarm.said", { id: p.id, unit: unitWords(p.unit) })));

  function reloadData() { loadHotspots(); loadEvents(); loadTasks(); }

  // What ops.js (the events list, the command center's actions, the review view) uses.
  SF.dash = {
    units: state.units,
    timeQuery,
    reload: reloadData,
    focus: (latlng) => map.setView(latlng, Math.max(map.getZoom(), 12)),
  };

  // ---- wiring ----
  $("window").addEventListener("change", () => {
    $("custom-range").hidden = $("window").value !== "custom";
    reloadData();
  });
  $("from").addEventListener("change", reloadData);
  $("to").addEventListener("change", reloadData);
  $("unit").addEventListener("change", () => {
    reloadData();
    const code = $("unit").value;
    let found = null;
    for (const level of ["county", "township"]) {
      layers[level].eachLayer((l) => { if (l.feature.properties.code === code) found = l; });
    }
    if (found) map.fitBounds(found.getBounds());
    else if (layers.county.getBounds().isValid()) map.fitBounds(layers.county.getBounds(), { padding: [10, 10] });
  });
  $("refresh").addEventListener("click", () => { reloadData(); loadRanking(); });
  $("rank-level").addEventListener("change", loadRanking);
  $("rank-date").addEventListener("change", loadRanking);
  $("rank-date").value = SF.dayInZone();

  // A new language: the controls, lists, clocks and table are drawn again (popups are made
  // when they open).
  let signedIn = false;
  SF.onLang(() => {
    addControls();
    if (!signedIn) return;
    reloadData();
    loadRanking();
  });

  let started = false;
  SF.signin(async (cfg) => {
    if (!started) setBasemap(cfg);
    signedIn = true;
    await loadUnits();
    reloadData();
    loadRanking();
    if (started) return;
    started = true;
    const hotspotsChanged = SF.debounce(() => { loadHotspots(); loadEvents(); }, 200);
    const tasksChanged = SF.debounce(loadTasks, 200);
    const count = () => { state.liveUpdates++; mapEl.dataset.liveUpdates = String(state.liveUpdates); };
    // Every live update is also told to the page's other scripts (ops.js's action panel).
    const tell = (kind, data) => document.dispatchEvent(new CustomEvent("sf:live", { detail: { kind, data } }));
    SF.live({
      open: () => reloadData(),
      hotspots: (d) => { count(); SF.say(t("live.new_hotspots", { n: d.count }), true); hotspotsChanged(); },
      // A new or grown event may have made a task.
      event: () => { count(); hotspotsChanged(); tasksChanged(); },
      task: (d) => { count(); loadTasks(); tell("task", d); },
      verdict: (d) => { count(); loadTasks(); tell("verdict", d); },
      resync: (d) => { count(); reloadData(); tell("resync", d); },
    });
  });
})();
