// The patrol page, for a phone: my open tasks (list and map) with their deadline clocks,
// Acknowledge, On site (with the phone's position when the browser gives it; otherwise the
// position must be typed: never invented), and the verdict form with photo, position and time,
// posted as multipart. Errors show the API's own text and mark the field it names.
"use strict";
(function () {
  const SF = window.SF;
  const $ = (id) => document.getElementById(id);
  const mapEl = $("map");
  const map = L.map(mapEl, { zoomControl: true }).setView([35.55, 114.7], 10);
  map.attributionControl.setPrefix(false);
  const unitLayer = L.geoJSON(null, { style: { color: "#607d8b", weight: 1, fill: false }, interactive: false }).addTo(map);
  const taskLayer = L.layerGroup().addTo(map);
  const state = { tasks: [], position: null, geoNote: "" };

  // The phone's position, when the browser allows it. Resolves to null otherwise.
  function locate() {
    return new Promise((resolve) => {
      if (!navigator.geolocation) { state.geoNote = "this browser gives no position: type it"; return resolve(null); }
      navigator.geolocation.getCurrentPosition(
        (p) => { state.position = p.coords; state.geoNote = "position from the phone (±" + Math.round(p.coords.accuracy) + " m)"; resolve(p.coords); },
        (e) => { state.geoNote = "no position from the phone (" + e.message + "): type it"; resolve(null); },
        { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 });
    });
  }

  function localInputTime(d) {
    return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 19);
  }

  // Marks the input an API error names and shows the error text.
  function showError(card, scope, e) {
    const out = card.querySelector(".result");
    out.className = "result error";
    out.textContent = e.message + (e.details && e.details.length ? " (" + e.details.join("; ") + ")" : "");
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
      list.innerHTML = "<li class='muted card'>No open tasks. 暂无任务</li>";
    }
    for (const f of tasks) {
      const t = f.properties;
      const fingerprint = JSON.stringify(f);
      const old = open.get(String(t.id));
      if (old && old.dataset.fingerprint === fingerprint) {
        // Nothing changed for this task: keep its card as it is, open form and all.
        list.appendChild(old);
        addMarker(f, old);
        continue;
      }
      const card = tpl.content.firstElementChild.cloneNode(true);
      card.dataset.taskId = t.id;
      card.dataset.fingerprint = fingerprint;
      card.querySelector(".task-title").textContent = "Task #" + t.id + (t.priority === "high" ? " · 紧急" : "");
      card.querySelector(".state").textContent = t.state;
      const [lat, lon] = SF.latlng(f);
      card.querySelector(".where").textContent = lat.toFixed(5) + ", " + lon.toFixed(5) + " · unit " + t.unit +
        " · since " + new Date(t.created_at).toLocaleString();
      const ack = card.querySelector(".ack"), onsite = card.querySelector(".onsite");
      ack.disabled = !["new", "notified"].includes(t.state);
      onsite.disabled = !["new", "notified", "acknowledged"].includes(t.state);

      ack.addEventListener("click", async () => {
        try {
          await SF.api("/api/v1/tasks/" + t.id + "/ack", { json: {} });
          showOk(card, "acknowledged");
          SF.say("Task #" + t.id + ": acknowledged", true);
          load();
        } catch (e) { showError(card, card, e); }
      });

      const onsiteForm = card.querySelector(".onsite-form");
      onsite.addEventListener("click", async () => {
        onsiteForm.hidden = false;
        const pos = await locate();
        onsiteForm.querySelector(".geo-note").textContent = state.geoNote;
        if (pos) {
          onsiteForm.querySelector(".onsite-lat").value = pos.latitude.toFixed(6);
          onsiteForm.querySelector(".onsite-lon").value = pos.longitude.toFixed(6);
        }
      });
      card.querySelector(".onsite-send").addEventListener("click", async () => {
        const lat = Number(onsiteForm.querySelector(".onsite-lat").value);
        const lon = Number(onsiteForm.querySelector(".onsite-lon").value);
        if (!onsiteForm.querySelector(".onsite-lat").value || !isFinite(lat)) return showError(card, onsiteForm, { message: "`lat`: type your latitude", field: "lat" });
        if (!onsiteForm.querySelector(".onsite-lon").value || !isFinite(lon)) return showError(card, onsiteForm, { message: "`lon`: type your longitude", field: "lon" });
        try {
          await SF.api("/api/v1/tasks/" + t.id + "/on-site", { json: { lat, lon } });
          showOk(card, "on site");
          SF.say("Task #" + t.id + ": on site", true);
          load();
        } catch (e) { showError(card, onsiteForm, e); }
      });

      const form = card.querySelector(".verdict-form");
      card.querySelector(".open-verdict").addEventListener("click", async () => {
        form.hidden = !form.hidden;
        if (form.hidden) return;
        form.elements.time.value = localInputTime(new Date());
        const pos = await locate();
        form.querySelector(".geo-note").textContent = state.geoNote;
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
        if (form.elements.time.value) fd.append("time", new Date(form.elements.time.value).toISOString());
        if (form.elements.note.value.trim()) fd.append("note", form.elements.note.value.trim());
        const photo = form.elements.photo.files[0];
        if (photo) fd.append("photo", photo, photo.name);
        const button = form.querySelector(".send-verdict");
        button.disabled = true;
        try {
          const r = await SF.api("/api/v1/tasks/" + t.id + "/verdict", { form: fd });
          const flags = (r && r.flags) || [];
          const said = "Task #" + t.id + ": verdict filed" +
            (flags.length ? "; flags for review: " + flags.map((x) => x.code || x.kind || x.reason || JSON.stringify(x)).join(", ") : "");
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
      addMarker(f, card);
      list.appendChild(card);
    }
    mapEl.dataset.tasks = String(tasks.length);
    if (tasks.length) map.fitBounds(L.latLngBounds(tasks.map(SF.latlng)).pad(0.3), { maxZoom: 14 });
    tick();
  }

  function addMarker(f, card) {
    const t = f.properties;
    const m = L.marker(SF.latlng(f), { title: "task " + t.id }).addTo(taskLayer);
    m.bindPopup("Task #" + SF.esc(t.id) + " · " + SF.esc(t.state));
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
      const fc = await SF.api("/api/v1/tasks?status=open");
      const same = JSON.stringify(fc.features) === JSON.stringify(state.tasks);
      state.tasks = fc.features;
      if (!same || !document.querySelector("#tasks .card")) render();
    } catch (e) {
      SF.say(e.status === 404 ? "tasks are not available on this server" : "tasks: " + e.message);
    }
  }

  let started = false;
  SF.signin(async () => {
    try {
      const fc = await SF.api("/api/v1/units?level=township");
      unitLayer.clearLayers();
      unitLayer.addData(fc);
    } catch (e) { /* the map works without boundaries */ }
    await load();
    if (started) return;
    started = true;
    // An event in my township may have made a task for me.
    SF.live({ open: load, event: load, task: load, verdict: load, resync: load });
  });
})();
