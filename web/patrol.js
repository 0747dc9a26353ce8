// The patrol page, for a phone: my open tasks (list and map) with their deadline clocks,
// Acknowledge, On site (with the phone's position when the browser gives it; otherwise the
// position must be typed: never invented), and the verdict form with photo, position and time,
// posted as multipart. Errors are told in the page's language (SF.errorText, with the API's own
// detail) and mark the field the API names. Every word comes from the catalogue (SF.t).
"use strict";
(function () {
  const SF = window.SF;
  const tr = SF.t; // `t` is a task below
  const $ = (id) => document.getElementById(id);
  const mapEl = $("map");
  // No zoom animation: a vector drawn while one runs (a parcel, patrol-nav.js) lands at the old
  // zoom's pixels, and a phone gains nothing from the animation.
  const map = L.map(mapEl, { zoomControl: false, zoomAnimation: false }).setView([35.55, 114.7], 10);
  let zoom = null;
  function addZoom() {
    if (zoom) zoom.remove();
    zoom = L.control.zoom({ zoomInTitle: tr("map.zoom_in"), zoomOutTitle: tr("map.zoom_out") }).addTo(map);
  }
  addZoom();
  map.attributionControl.setPrefix(false);
  // Drawn in the basemap's datum (web/gcj02.js), like the pins.
  const unitLayer = L.geoJSON(null, { style: { color: "#607d8b", weight: 1, fill: false }, interactive: false, coordsToLatLng: SF.coordsToMap }).addTo(map);
  const parcelLayer = L.layerGroup().addTo(map);
  const taskLayer = L.layerGroup().addTo(map);
  // geoNote: what the page knows about the phone's position, in the page's language.
  const state = { tasks: [], position: null, geoNote: null, units: {} };
  const geoNote = () => state.geoNote ? state.geoNote() : "";

  // The phone's position, when the browser allows it. Resolves to null otherwise.
  function locate() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) { state.geoNote = () => tr("geo.none"); return resolve(null); }
      navigator.geolocation.getCurrentPosition(
        (p) => { state.position = p.coords; state.geoNote = () => tr("geo.ok", { m: Math.round(p.coords.accuracy) }); resolve(p.coords); },
        (e) => { state.geoNote = () => tr("geo.failed", { msg: e.message }); resolve(null); },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  // Marks the input an API error names and shows the error text.
  function showError(card, scope, e) {
    const out = card.querySelector(".result");
    out.className = "result error";
    out.textContent = SF.errorText(e) + (e.details && e.details.length ? "（" + e.details.join("; ") + "）" : "");
    for (const el of scope.querySelectorAll("[aria-invalid]")) el.removeAttribute("aria-invalid");
    if (e.field) {
      const el = scope.querySelector("[name='" + e.field + "'], ." + CSS.escape("onsite-" + e.field));
      if (el) { el.setAttribute("aria-invalid", "true"); el.focus(); }
    }
  }
  function showOk(card, text) {
    const out = card.querySelector(".result");
    out.className = "result ok";
    out.textContent = text;
  }

  // Cards with a form open, by task id: a redraw must not lose what the patrol was typing.
  function openCards() {
    const open = new Map();
    for (const card of document.querySelectorAll("#tasks .card[data-task-id]")) {
      if ([...card.querySelectorAll(".verdict-form, .onsite-form")].some((f) => !f.hidden)) {
        open.set(card.dataset.taskId, card);
      }
    }
    return open;
  }

  // Moves what was typed (and the chosen photo) from an old card's open forms to a new one.
  function carryOver(from, to) {
    for (const sel of [".verdict-form", ".onsite-form"]) {
      const a = from.querySelector(sel), b = to.querySelector(sel);
      if (!a || !b || a.hidden) continue;
      b.hidden = false;
      const note = a.querySelector(".geo-note"), noteTo = b.querySelector(".geo-note");
      if (note && noteTo) noteTo.textContent = note.textContent;
      const fields = a.querySelectorAll("input, select, textarea");
      const targets = b.querySelectorAll("input, select, textarea");
      fields.forEach((el, i) => {
        const t = targets[i];
        if (!t) return;
        if (el.type === "file") { if (el.files && el.files.length) t.files = el.files; }
        else t.value = el.value;
      });
    }
  }

  function render() {
    const list = $("tasks");
    const open = openCards();
    list.textContent = "";
    taskLayer.clearLayers();
    const tpl = $("task-card");
    const tasks = state.tasks.slice().sort((a, b) =>
      (Date.parse(a.properties.next_due) || Infinity) - (Date.parse(b.properties.next_due) || Infinity));
    if (!tasks.length) {
      list.innerHTML = "<li class='muted card'>" + SF.esc(tr("task.none")) + "</li>";
    }
    for (const f of tasks) {
      const t = f.properties;
      const n = tasks.indexOf(f) + 1; // the card's number, the same as its pin's (SF.nav)
      // The language is part of it: after a switch every card is drawn again in the new words.
      const fingerprint = SF.lang() + JSON.stringify(f);
      const old = open.get(String(t.id));
      if (old && old.dataset.fingerprint === fingerprint) {
        // Nothing changed for this task: keep its card as it is, open form and all.
        list.appendChild(old);
        SF.nav.card(old, f, n);
        addMarker(f, old, n);
        continue;
      }
      const card = tpl.content.firstElementChild.cloneNode(true);
      card.dataset.taskId = t.id;
      card.dataset.fingerprint = fingerprint;
      SF.translate(card);
      card.querySelector(".task-title").textContent = tr("task.title", { id: t.id }) + (t.priority === "high" ? " · " + tr("priority.high") : "");
      const st = card.querySelector(".state");
      st.textContent = SF.has("state." + t.state) ? tr("state." + t.state) : t.state;
      st.dataset.state = t.state;
      const [lon, lat] = f.geometry.coordinates; // WGS84, as stored
      const unit = state.units[t.unit] ? state.units[t.unit] + " " + t.unit : t.unit;
      card.querySelector(".where").textContent = tr("task.where", { unit, time: SF.time(t.created_at) });
      card.querySelector(".position").textContent = tr("task.position", { lat: lat.toFixed(5), lon: lon.toFixed(5) });
      SF.nav.card(card, f, n);
      const ack = card.querySelector(".ack"), onsite = card.querySelector(".onsite");
      ack.disabled = !["new", "notified"].includes(t.state);
      onsite.disabled = !["new", "notified", "acknowledged"].includes(t.state);

      ack.addEventListener("click", async () => {
        try {
          await SF.api("/api/v1/tasks/" + t.id + "/ack", { json: {} });
          showOk(card, tr("done.ack"));
          SF.say(tr("done.said", { id: t.id, what: tr("done.ack") }), true);
          load();
        } catch (e) { showError(card, card, e); }
      });

      const onsiteForm = card.querySelector(".onsite-form");
      onsite.addEventListener("click", async () => {
        onsiteForm.hidden = false;
        const pos = await locate();
        onsiteForm.querySelector(".geo-note").textContent = geoNote();
        if (pos) {
          onsiteForm.querySelector(".onsite-lat").value = pos.latitude.toFixed(6);
          onsiteForm.querySelector(".onsite-lon").value = pos.longitude.toFixed(6);
        }
      });
      card.querySelector(".onsite-send").addEventListener("click", async () => {
        const lat = Number(onsiteForm.querySelector(".onsite-lat").value);
        const lon = Number(onsiteForm.querySelector(".onsite-lon").value);
        if (!onsiteForm.querySelector(".onsite-lat").value || !isFinite(lat)) return showError(card, onsiteForm, { message: tr("err.type_lat"), field: "lat" });
        if (!onsiteForm.querySelector(".onsite-lon").value || !isFinite(lon)) return showError(card, onsiteForm, { message: tr("err.type_lon"), field: "lon" });
        try {
          await SF.api("/api/v1/tasks/" + t.id + "/on-site", { json: { lat, lon } });
          showOk(card, tr("done.onsite"));
          SF.say(tr("done.said", { id: t.id, what: tr("done.onsite") }), true);
          load();
        } catch (e) { showError(card, onsiteForm, e); }
      });

      const form = card.querySelector(".verdict-form");
      card.querySelector(".open-verdict").addEventListener("click", async () => {
        form.hidden = !form.hidden;
        if (form.hidden) return;
        // The time field shows the deployment's clock (北京时间), like every time on the page.
        form.elements.time.value = SF.zoneInput(Date.now());
        const pos = await locate();
        form.querySelector(".geo-note").textContent = geoNote();
        if (pos && !form.elements.lat.value) {
          form.elements.lat.value = pos.latitude.toFixed(6);
          form.elements.lon.value = pos.longitude.toFixed(6);
        }
      });
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const fd = new FormData();
        fd.append("verdict", form.elements.verdict.value);
        fd.append("lat", form.elements.lat.value.trim());
        fd.append("lon", form.elements.lon.value.trim());
        if (form.elements.time.value) fd.append("time", new Date(SF.fromZoneInput(form.elements.time.value)).toISOString());
        if (form.elements.note.value.trim()) fd.append("note", form.elements.note.value.trim());
        const photo = form.elements.photo.files[0];
        if (photo) fd.append("photo", photo, photo.name);
        const button = form.querySelector(".send-verdict");
        button.disabled = true;
        try {
          const r = await SF.api("/api/v1/tasks/" + t.id + "/verdict", { form: fd });
          const flags = (r && r.flags) || [];
          const flagName = (x) => SF.has("flag." + x.flag) ? tr("flag." + x.flag) : (x.flag || JSON.stringify(x));
          const said = tr("done.said", { id: t.id, what: tr("done.verdict") }) +
            (flags.length ? tr("done.flags", { flags: flags.map(flagName).join("；") }) : "");
          showOk(card, said);
          SF.say(said, true); // the card leaves the list of open tasks
          document.body.dataset.lastVerdict = String(t.id);
          form.hidden = true;
          load();
        } catch (e) {
          showError(card, form, e);
        } finally {
          button.disabled = false;
        }
      });

      if (old) carryOver(old, card);
      addMarker(f, card, n);
      list.appendChild(card);
    }
    mapEl.dataset.tasks = String(tasks.length);
    if (tasks.length) map.fitBounds(L.latLngBounds(tasks.map(SF.latlng)).pad(0.3), { maxZoom: 14 });
    SF.nav.parcels(map, parcelLayer, tasks);
    tick();
  }

  function addMarker(f, card, n) {
    const t = f.properties;
    const m = SF.nav.pin(f, n, tr("task.title", { id: t.id })).addTo(taskLayer);
    m.bindPopup(() => SF.esc(tr("task.title", { id: t.id })) + " · " + SF.esc(SF.has("state." + t.state) ? tr("state." + t.state) : t.state));
    m.on("click", () => { card.scrollIntoView({ behavior: "smooth" }); card.classList.add("active"); });
  }

  function tick() {
    const now = Date.now();
    for (const card of document.querySelectorAll("#tasks .card[data-task-id]")) {
      const f = state.tasks.find((x) => String(x.properties.id) === card.dataset.taskId);
      if (!f) continue;
      const c = SF.clock(f.properties.next_due, now);
      const el = card.querySelector(".clock");
      el.textContent = c.text;
      el.className = "clock" + (c.overdue || f.properties.overdue ? " overdue" : "") + (c.none ? " none" : "");
    }
  }
  setInterval(tick, 1000);

  // Redraws when the tasks changed; cards with an open form keep what was typed (`render`).
  async function load() {
    try {
      const fc = await SF.apiAll("/api/v1/tasks?status=open");
      const same = JSON.stringify(fc.features) === JSON.stringify(state.tasks);
      state.tasks = fc.features;
      if (!same || !document.querySelector("#tasks .card")) render();
    } catch (e) {
      SF.say(e.status === 404 ? tr("err.tasks_unavailable") : tr("err.tasks", { msg: SF.errorText(e) }));
    }
  }

  // A new language: the cards are drawn again (typed values carried over, `render`).
  SF.onLang(() => {
    addZoom();
    if (state.tasks.length || document.querySelector("#tasks .card")) render();
  });

  let started = false;
  SF.patrolMap = map; // for the console and the browser tests
  SF.signin(async (cfg) => {
    if (!started) SF.basemap(map, cfg);
    try {
      const fc = await SF.api("/api/v1/units?level=township");
      unitLayer.clearLayers();
      unitLayer.addData(fc);
      for (const u of fc.features) state.units[u.properties.code] = u.properties.name;
    } catch (e) { /* the map works without boundaries */ }
    await load();
    if (started) return;
    started = true;
    // An event in my township may have made a task for me.
    SF.live({ open: load, event: load, task: load, verdict: load, resync: load });
  });
})();
