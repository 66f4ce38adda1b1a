// The network view: the feeder from /model/topology?format=geojson as inline SVG; buses
// coloured by the newest checks' voltage verdict, lines and transformers by loading, the
// elements of active alarms marked. Refreshed on alarm events and every few seconds.
"use strict";

(() => {
  const SVG = "http://www.w3.org/2000/svg";
  const SIZE = 1000;
  const PAD = 30;
  const REFRESH_MS = 5000;
  const shapes = new Map(); // element id ("bus:3") -> SVG node

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  function draw(collection) {
    const pts = [];
    for (const f of collection.features) {
      if (!f.geometry) continue;
      if (f.geometry.type === "Point") pts.push(f.geometry.coordinates);
      else if (f.geometry.type === "LineString") pts.push(...f.geometry.coordinates);
    }
    const root = document.getElementById("network");
    if (pts.length === 0) {
      gt.say("This model has no coordinates: a generated one-line layout is not done yet.", "info");
      return;
    }
    const xs = pts.map((p) => p[0]);
    const ys = pts.map((p) => p[1]);
    const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
    const scale = (SIZE - 2 * PAD) / Math.max(x1 - x0, y1 - y0, 1e-12);
    const X = (x) => PAD + (x - x0) * scale;
    const Y = (y) => SIZE - PAD - (y - y0) * scale; // north up
    root.setAttribute("viewBox", `0 0 ${SIZE} ${SIZE}`);

    const branches = svg("g", { class: "branches" });
    const buses = svg("g", { class: "buses" });
    for (const f of collection.features) {
      const kind = f.properties.element;
      if (!f.geometry) continue;
      let node = null;
      if ((kind === "line" || kind === "trafo") && f.geometry.type === "LineString") {
        const d = f.geometry.coordinates
          .map((c, i) => (i ? "L" : "M") + X(c[0]).toFixed(1) + " " + Y(c[1]).toFixed(1))
          .join(" ");
        node = svg("path", { d, class: kind, "data-element": f.id, tabindex: 0 });
        branches.append(node);
      } else if (kind === "bus" && f.geometry.type === "Point") {
        const [x, y] = f.geometry.coordinates;
        const r = f.properties.kind === "customer" ? 6 : 8;
        node = svg("circle", {
          cx: X(x).toFixed(1),
          cy: Y(y).toFixed(1),
          r,
          class: "bus band-none",
          "data-element": f.id,
          "data-band": "none",
          tabindex: 0,
        });
        buses.append(node);
      }
      if (node) {
        const title = svg("title", {});
        title.textContent = f.id;
        node.append(title);
        node.addEventListener("mouseenter", () => select(f.id));
        node.addEventListener("focus", () => select(f.id));
        shapes.set(f.id, node);
      }
    }
    root.append(branches, buses);
  }

  let latest = { state: null, verdicts: new Map(), alarms: new Map() };

  function describe(id) {
    const [kind, idx] = id.split(":");
    const s = latest.state;
    const parts = [id];
    if (s && kind === "bus" && idx in s.bus_vm_pu) parts.push(s.bus_vm_pu[idx].toFixed(4) + " pu");
    if (s && kind === "line" && idx in s.line_loading_percent)
      parts.push(s.line_loading_percent[idx].toFixed(1) + " % loading");
    if (s && kind === "trafo" && idx in s.trafo_loading_percent)
      parts.push(s.trafo_loading_percent[idx].toFixed(1) + " % loading");
    const v = latest.verdicts.get(id);
    if (v) parts.push(v.severity + ": " + v.rule);
    const a = latest.alarms.get(id);
    if (a) parts.push("alarms: " + a.join(", "));
    return parts.join("; ");
  }

  function select(id) {
    document.getElementById("selected").textContent = describe(id);
  }

  function paint(state, checks, alarms) {
    const verdicts = new Map();
    for (const v of checks.violations) {
      const old = verdicts.get(v.element);
      if (!old || old.severity !== "violation") verdicts.set(v.element, v);
    }
    const alarmed = new Map();
    for (const a of alarms.alarms) {
      if (a.state === "normal") continue;
      alarmed.set(a.element, [...(alarmed.get(a.element) ?? []), a.rule_id]);
    }
    latest = { state, verdicts, alarms: alarmed };
    for (const [id, node] of shapes) {
      const [kind, idx] = id.split(":");
      const v = verdicts.get(id);
      const classes = [kind];
      if (kind === "bus") {
        const band = v ? v.severity : idx in state.bus_vm_pu ? "ok" : "none";
        classes.push("band-" + band);
        node.setAttribute("data-band", band);
        if (state.bus_vm_pu[idx] !== undefined) node.setAttribute("data-vm-pu", state.bus_vm_pu[idx]);
      } else {
        const loading = (kind === "line" ? state.line_loading_percent : state.trafo_loading_percent)[idx];
        const level = v ? v.severity : loading === undefined ? "none" : "ok";
        classes.push("line-" + level);
        node.setAttribute("data-loading", level);
        if (loading !== undefined) {
          // a display shade only: 0 % light, 100 % and more dark (the verdict is the API's)
          const step = Math.min(4, Math.max(0, Math.floor(loading / 25)));
          classes.push("shade-" + step);
        }
      }
      if (alarmed.has(id)) classes.push("alarmed");
      node.setAttribute("class", classes.join(" "));
      node.querySelector("title").textContent = describe(id);
    }
    document.getElementById("state-time").textContent = gt.utc(state.time_utc);
    document.getElementById("state-method").textContent = state.method;
    document.getElementById("vm-range").textContent =
      state.vm_min_pu.toFixed(3) + " - " + state.vm_max_pu.toFixed(3);
    document.getElementById("line-max").textContent =
      state.line_loading_max_percent === null ? "-" : state.line_loading_max_percent.toFixed(1);
    document.getElementById("network").setAttribute("data-state-time", state.time_utc);
  }

  async function refresh() {
    try {
      const [state, checks, alarms] = await Promise.all([
        gt.api("GET", "/twin/state"),
        gt.api("GET", "/twin/checks"),
        gt.api("GET", "/alarms"),
      ]);
      paint(state, checks, alarms);
    } catch (err) {
      if (err.status === 404) gt.say("No state yet: " + err.detail, "info");
      else if (err.status !== 401) gt.say("State unavailable (" + err.status + "): " + err.detail);
    }
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    try {
      draw(await gt.api("GET", "/model/topology?format=geojson"));
    } catch (err) {
      if (err.status !== 401) gt.say("No network model (" + err.status + "): " + err.detail);
      return;
    }
    await refresh();
    const soon = gt.debounce(refresh, 250);
    gt.alarmStream(() => soon(), () => {});
    setInterval(soon, REFRESH_MS);
  });
})();
