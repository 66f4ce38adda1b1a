// The network view: the feeder from /model/topology?format=geojson as SVG; buses coloured
// by the newest checks' voltage verdict, lines and transformers by loading, the elements
// of active alarms marked; click (or Enter on) an element for its data in a side panel.
//
// Two ways of drawing, one look: up to PER_ELEMENT_MAX elements each is its own SVG node
// (focusable with Tab); above that (the 9,099-bus grid) each colour class is ONE path of
// all its elements (a few nodes instead of tens of thousands), and a click finds the
// element under the pointer from a grid index. Wheel zooms, drag pans (both modes).
// `/network?draw=classes` (or `elements`) chooses the way regardless of the size.
// `gtNet.create` is also used by the studies page to colour a study's result.
"use strict";

const gtNet = (() => {
  const SVG = "http://www.w3.org/2000/svg";
  const SIZE = 1000;
  const PAD = 30;
  const PER_ELEMENT_MAX = 3000;
  const CELL = 10; // grid index cell [viewBox units]

  function svg(tag, attrs) {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
    return node;
  }

  // A drawing of `collection` in the <svg> `root`; onSelect(id) on click / Enter.
  // `draw`: "elements" or "classes" to choose the way of drawing, else by size.
  function create(root, collection, { onSelect, onHover, draw } = {}) {
    const items = new Map(); // id -> {id, kind, props, pt: [x, y] | null, path: [[x, y]...] | null}
    const pts = [];
    for (const f of collection.features) {
      if (!f.geometry) continue;
      if (f.geometry.type === "Point") pts.push(f.geometry.coordinates);
      else if (f.geometry.type === "LineString") pts.push(...f.geometry.coordinates);
    }
    const byBus = new Map(); // bus id -> ["load:3", ...]
    for (const f of collection.features) {
      const kind = f.properties.element;
      if (kind === "load" || kind === "sgen") {
        const key = "bus:" + f.properties.bus;
        byBus.set(key, [...(byBus.get(key) ?? []), f.id]);
      }
    }
    const api = { items, byBus, empty: pts.length === 0, layout: collection.layout };
    for (const f of collection.features) items.set(f.id, { id: f.id, kind: f.properties.element, props: f.properties, pt: null, path: null });
    if (api.empty) return api;

    let [x0, x1, y0, y1] = [Infinity, -Infinity, Infinity, -Infinity];
    for (const [x, y] of pts) {
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    // geodata is lon/lat: squeeze x by cos(latitude) so the map is not stretched
    const geo = collection.layout !== "generated";
    const kx = geo ? Math.cos((((y0 + y1) / 2) * Math.PI) / 180) || 1 : 1;
    const scale = (SIZE - 2 * PAD) / Math.max((x1 - x0) * kx, y1 - y0, 1e-12);
    const X = (x) => PAD + (x - x0) * kx * scale;
    const Y = (y) => SIZE - PAD - (y - y0) * scale; // north up
    root.setAttribute("viewBox", `0 0 ${SIZE} ${SIZE}`);
    root.setAttribute("preserveAspectRatio", "xMidYMid meet");

    let drawn = 0;
    for (const f of collection.features) {
      if (!f.geometry) continue;
      const it = items.get(f.id);
      if ((it.kind === "line" || it.kind === "trafo") && f.geometry.type === "LineString") {
        it.path = f.geometry.coordinates.map((c) => [X(c[0]), Y(c[1])]);
        drawn += 1;
      } else if (it.kind === "bus" && f.geometry.type === "Point") {
        it.pt = [X(f.geometry.coordinates[0]), Y(f.geometry.coordinates[1])];
        drawn += 1;
      }
    }
    api.perElement = draw === "elements" || (draw !== "classes" && drawn <= PER_ELEMENT_MAX);
    api.drawn = drawn;
    root.dataset.mode = api.perElement ? "elements" : "classes";
    root.dataset.layout = collection.layout ?? "geodata";

    const branches = svg("g", { class: "branches" });
    const buses = svg("g", { class: "buses" });
    const marks = svg("g", { class: "marks" });
    root.append(branches, buses, marks);
    const shapes = new Map(); // per-element mode: id -> node
    const d = (path) => path.map((p, i) => (i ? "L" : "M") + p[0].toFixed(1) + " " + p[1].toFixed(1)).join("");

    if (api.perElement) {
      for (const it of items.values()) {
        let node = null;
        if (it.path) {
          node = svg("path", { d: d(it.path), class: it.kind, "data-element": it.id, tabindex: 0 });
          branches.append(node);
        } else if (it.pt) {
          const r = it.props.kind === "customer" ? 6 : 8;
          node = svg("circle", {
            cx: it.pt[0].toFixed(1),
            cy: it.pt[1].toFixed(1),
            r,
            class: "bus band-none",
            "data-element": it.id,
            "data-band": "none",
            tabindex: 0,
          });
          buses.append(node);
        }
        if (!node) continue;
        const title = svg("title", {});
        title.textContent = it.id;
        node.append(title);
        const id = it.id;
        node.addEventListener("mouseenter", () => onHover && onHover(id));
        node.addEventListener("focus", () => onHover && onHover(id));
        node.addEventListener("click", () => onSelect && onSelect(id));
        node.addEventListener("keydown", (e) => {
          if (e.key === "Enter" || e.key === " ") {
            e.preventDefault();
            if (onSelect) onSelect(id);
          }
        });
        shapes.set(id, node);
      }
    } else {
      // the grid index for clicks: cell -> ids of buses and branches crossing it
      const grid = new Map();
      const add = (cx, cy, id) => {
        const key = cx * 4096 + cy;
        const list = grid.get(key);
        if (list) list.push(id);
        else grid.set(key, [id]);
      };
      for (const it of items.values()) {
        if (it.pt) add(Math.floor(it.pt[0] / CELL), Math.floor(it.pt[1] / CELL), it.id);
        else if (it.path) {
          const seen = new Set();
          for (let i = 1; i < it.path.length; i++) {
            const [a, b] = [it.path[i - 1], it.path[i]];
            const steps = Math.max(1, Math.ceil(Math.hypot(b[0] - a[0], b[1] - a[1]) / (CELL / 2)));
            for (let s = 0; s <= steps; s++) {
              const cx = Math.floor((a[0] + ((b[0] - a[0]) * s) / steps) / CELL);
              const cy = Math.floor((a[1] + ((b[1] - a[1]) * s) / steps) / CELL);
              const key = cx * 4096 + cy;
              if (!seen.has(key)) {
                seen.add(key);
                add(cx, cy, it.id);
              }
            }
          }
        }
      }
      api.hit = (sx, sy, tol) => {
        let best = null;
        let bestD = Infinity;
        const r = Math.ceil(tol / CELL);
        const [cx, cy] = [Math.floor(sx / CELL), Math.floor(sy / CELL)];
        for (let i = cx - r; i <= cx + r; i++)
          for (let j = cy - r; j <= cy + r; j++)
            for (const id of grid.get(i * 4096 + j) ?? []) {
              const it = items.get(id);
              let dist;
              if (it.pt) dist = Math.hypot(it.pt[0] - sx, it.pt[1] - sy) - tol / 2; // buses first
              else dist = segDist(it.path, sx, sy);
              if (dist < bestD) [best, bestD] = [id, dist];
            }
        return bestD <= tol ? best : null;
      };
      root.addEventListener("click", (e) => {
        if (api.dragged) return;
        const [sx, sy] = toSvg(root, e.clientX, e.clientY);
        const id = api.hit(sx, sy, 8 * unitsPerPixel(root));
        if (id && onSelect) onSelect(id);
      });
    }

    // colouring: classes per element id -> {cls: "band-ok" | "line-ok shade-2" ..., alarmed}
    function colour(look) {
      if (api.perElement) {
        for (const [id, node] of shapes) {
          const it = items.get(id);
          const l = look(it) ?? {};
          const classes = [it.kind, ...(l.classes ?? [])];
          if (l.alarmed) classes.push("alarmed");
          node.setAttribute("class", classes.join(" "));
          for (const [k, v] of Object.entries(l.data ?? {})) node.setAttribute("data-" + k, v);
          if (l.title !== undefined) node.querySelector("title").textContent = l.title;
        }
        return;
      }
      const groups = new Map(); // "bus band-ok" -> [d parts]
      const alarmed = [];
      for (const it of items.values()) {
        if (!it.pt && !it.path) continue;
        const l = look(it) ?? {};
        const key = [it.kind, ...(l.classes ?? [])].join(" ");
        const part = it.pt ? "M" + it.pt[0].toFixed(1) + " " + it.pt[1].toFixed(1) + "h0" : d(it.path);
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push(part);
        if (l.alarmed) alarmed.push(part);
      }
      branches.replaceChildren();
      buses.replaceChildren();
      const order = [...groups.keys()].sort(); // stable paint order: warnings above ok
      for (const key of order) {
        const bus = key.startsWith("bus");
        const cls = (bus ? "dots " : "") + key;
        const node = svg("path", { class: cls, d: groups.get(key).join("") });
        (bus ? buses : branches).append(node);
      }
      if (alarmed.length) buses.prepend(svg("path", { class: "dots alarmed-ring", d: alarmed.join("") }));
      root.dataset.classes = String(order.length);
    }

    function centre(id, zoom) {
      const it = items.get(id);
      if (!it || (!it.pt && !it.path)) return false;
      const p = it.pt ?? it.path[Math.floor(it.path.length / 2)];
      const w = zoom ? SIZE / zoom : view.w;
      setView({ x: p[0] - w / 2, y: p[1] - w / 2, w, h: w });
      return true;
    }

    function mark(id) {
      marks.replaceChildren();
      for (const node of root.querySelectorAll(".selected")) node.classList.remove("selected");
      const it = items.get(id);
      if (!it) return;
      const node = shapes.get(id);
      if (node) node.classList.add("selected");
      // a ring of about 12 px at the present zoom
      const r = (12 * unitsPerPixel(root)).toFixed(2);
      if (it.pt) marks.append(svg("circle", { class: "mark", cx: it.pt[0], cy: it.pt[1], r, "data-element": id }));
      else if (it.path) marks.append(svg("path", { class: "mark", d: d(it.path), "data-element": id }));
    }

    // pan and zoom through the viewBox
    let view = { x: 0, y: 0, w: SIZE, h: SIZE };
    function setView(v) {
      view = v;
      root.setAttribute("viewBox", `${v.x.toFixed(2)} ${v.y.toFixed(2)} ${v.w.toFixed(2)} ${v.h.toFixed(2)}`);
      root.style.setProperty("--zoom", String(SIZE / v.w));
    }
    root.addEventListener(
      "wheel",
      (e) => {
        e.preventDefault();
        const [sx, sy] = toSvg(root, e.clientX, e.clientY);
        const f = e.deltaY < 0 ? 0.8 : 1.25;
        const w = Math.min(SIZE * 2, Math.max(SIZE / 400, view.w * f));
        const k = w / view.w;
        setView({ x: sx - (sx - view.x) * k, y: sy - (sy - view.y) * k, w, h: w });
      },
      { passive: false },
    );
    let drag = null;
    root.addEventListener("pointerdown", (e) => {
      drag = { x: e.clientX, y: e.clientY, v: view, u: unitsPerPixel(root) };
      api.dragged = false;
    });
    root.addEventListener("pointermove", (e) => {
      if (!drag) return;
      const [dx, dy] = [e.clientX - drag.x, e.clientY - drag.y];
      if (Math.abs(dx) + Math.abs(dy) > 3) api.dragged = true;
      if (api.dragged) setView({ ...drag.v, x: drag.v.x - dx * drag.u, y: drag.v.y - dy * drag.u });
    });
    const end = () => {
      drag = null;
    };
    root.addEventListener("pointerup", end);
    root.addEventListener("pointerleave", end);
    root.addEventListener("keydown", (e) => {
      if (e.target !== root) return;
      const step = view.w / 10;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
      if (moves[e.key]) setView({ ...view, x: view.x + moves[e.key][0], y: view.y + moves[e.key][1] });
      else if (e.key === "+" || e.key === "=") zoomBy(0.8);
      else if (e.key === "-") zoomBy(1.25);
      else if (e.key === "0") setView({ x: 0, y: 0, w: SIZE, h: SIZE });
      else return;
      e.preventDefault();
    });
    function zoomBy(f) {
      const w = Math.min(SIZE * 2, Math.max(SIZE / 400, view.w * f));
      const [cx, cy] = [view.x + view.w / 2, view.y + view.h / 2];
      setView({ x: cx - w / 2, y: cy - w / 2, w, h: w });
    }
    setView(view);
    Object.assign(api, { colour, centre, mark, zoomBy, reset: () => setView({ x: 0, y: 0, w: SIZE, h: SIZE }) });
    return api;
  }

  function toSvg(root, cx, cy) {
    const m = root.getScreenCTM();
    if (!m) return [0, 0];
    const p = new DOMPoint(cx, cy).matrixTransform(m.inverse());
    return [p.x, p.y];
  }

  function unitsPerPixel(root) {
    const m = root.getScreenCTM();
    return m ? 1 / m.a : 1;
  }

  function segDist(path, x, y) {
    let best = Infinity;
    for (let i = 1; i < path.length; i++) {
      const [a, b] = [path[i - 1], path[i]];
      const [vx, vy] = [b[0] - a[0], b[1] - a[1]];
      const len2 = vx * vx + vy * vy;
      const t = len2 ? Math.max(0, Math.min(1, ((x - a[0]) * vx + (y - a[1]) * vy) / len2)) : 0;
      best = Math.min(best, Math.hypot(a[0] + t * vx - x, a[1] + t * vy - y));
    }
    return best;
  }

  // Marks the drawing as painted (for tests and the benchmark): in the frame after it.
  function markDrawn(root) {
    requestAnimationFrame(() => {
      root.dataset.drawnMs = performance.now().toFixed(1);
    });
  }

  // Find an element by id ("bus:3") or name (exact, case-insensitive, then a prefix).
  function find(net, text) {
    const q = text.trim();
    if (!q) return null;
    if (net.items.has(q)) return q;
    const low = q.toLowerCase();
    let prefix = null;
    for (const it of net.items.values()) {
      const name = String(it.props.name ?? "").toLowerCase();
      if (name === low) return it.id;
      if (prefix === null && name.startsWith(low)) prefix = it.id;
    }
    return prefix;
  }

  // Elements whose id or name holds `text` (case-insensitive): exact matches first, then
  // prefixes, then the rest; at most `limit`, and how many matched in all.
  function matches(net, text, limit = 20) {
    const low = text.trim().toLowerCase();
    if (!low) return { ids: [], total: 0 };
    const ranked = [[], [], []];
    for (const it of net.items.values()) {
      if (!it.pt && !it.path) continue; // only what is drawn can be shown
      const id = it.id.toLowerCase();
      const name = String(it.props.name ?? "").toLowerCase();
      if (id === low || name === low) ranked[0].push(it.id);
      else if (id.startsWith(low) || name.startsWith(low)) ranked[1].push(it.id);
      else if (id.includes(low) || name.includes(low)) ranked[2].push(it.id);
    }
    const all = ranked.flat();
    return { ids: all.slice(0, limit), total: all.length };
  }

  return { create, markDrawn, find, matches };
})();

// ---------------------------------------------------------------------- the network page

(() => {
  if (document.body.dataset.page !== "network") return;
  const REFRESH_MS = 5000;
  let net = null;
  let selected = null;
  let latest = { state: null, verdicts: new Map(), allVerdicts: new Map(), alarms: new Map() };

  function value(id) {
    const [kind, idx] = id.split(":");
    const s = latest.state;
    if (!s) return null;
    if (kind === "bus" && idx in s.bus_vm_pu) return s.bus_vm_pu[idx].toFixed(4) + " pu";
    if (kind === "line" && idx in s.line_loading_percent) return s.line_loading_percent[idx].toFixed(1) + " % loading";
    if (kind === "trafo" && idx in s.trafo_loading_percent) return s.trafo_loading_percent[idx].toFixed(1) + " % loading";
    return null;
  }

  function describe(id) {
    const parts = [id];
    const v = value(id);
    if (v) parts.push(v);
    const verdict = latest.verdicts.get(id);
    if (verdict) parts.push(verdict.severity + ": " + verdict.rule);
    const a = latest.alarms.get(id);
    if (a) parts.push("alarms: " + a.join(", "));
    return parts.join("; ");
  }

  function hover(id) {
    document.getElementById("selected").textContent = describe(id);
  }

  const SKIP = new Set(["point_ids", "element", "id"]);

  function row(dl, term, text) {
    dl.append(gt.el("dt", {}, term), gt.el("dd", {}, text));
  }

  function panel(id) {
    const box = document.getElementById("panel");
    const it = net && net.items.get(id);
    if (!it) {
      box.hidden = true;
      return;
    }
    selected = id;
    box.hidden = false;
    box.dataset.element = id;
    document.getElementById("panel-title").textContent = `${id} - ${it.props.name ?? ""}`;
    const trend = document.getElementById("panel-trends");
    trend.href = "/trends?element=" + encodeURIComponent(id);
    const now = document.getElementById("panel-now");
    now.replaceChildren();
    row(now, "newest value", value(id) ?? "-");
    row(now, "state of", latest.state ? gt.utc(latest.state.time_utc) : "-");
    const verdicts = latest.allVerdicts.get(id) ?? [];
    row(now, "checks", verdicts.length ? verdicts.map((v) => `${v.severity}: ${v.rule} (${v.value.toPrecision(4)} against ${v.limit})`).join("; ") : "within limits");
    row(now, "active alarms", (latest.alarms.get(id) ?? []).join(", ") || "none");
    const data = document.getElementById("panel-data");
    data.replaceChildren();
    for (const [k, v] of Object.entries(it.props)) {
      if (SKIP.has(k)) continue;
      row(data, k, v === null ? "-" : typeof v === "number" ? String(Math.round(v * 1e6) / 1e6) : String(v));
    }
    const list = document.getElementById("panel-points");
    list.replaceChildren();
    const owned = [...(it.props.point_ids ?? []).map((p) => [p, id])];
    for (const inj of net.byBus.get(id) ?? []) {
      for (const p of net.items.get(inj).props.point_ids ?? []) owned.push([p, inj]);
    }
    for (const [p, el] of owned) {
      const li = gt.el("li");
      li.append(gt.el("a", { href: "/trends?point=" + encodeURIComponent(p), "data-point": p }, p));
      if (el !== id) li.append(document.createTextNode(" (" + el + ")"));
      list.append(li);
    }
    if (!owned.length) list.append(gt.el("li", {}, "no measurement points"));
    net.mark(id);
  }

  function look(it) {
    const id = it.id;
    const idx = id.split(":")[1];
    const s = latest.state;
    const v = latest.verdicts.get(id);
    const alarmed = latest.alarms.has(id);
    if (it.kind === "bus") {
      const band = v ? v.severity : s && idx in s.bus_vm_pu ? "ok" : "none";
      const data = { band };
      if (s && s.bus_vm_pu[idx] !== undefined) data["vm-pu"] = s.bus_vm_pu[idx];
      return { classes: ["band-" + band], alarmed, data, title: describe(id) };
    }
    const loading = s ? (it.kind === "line" ? s.line_loading_percent : s.trafo_loading_percent)[idx] : undefined;
    const level = v ? v.severity : loading === undefined ? "none" : "ok";
    const classes = ["line-" + level];
    // a display shade only: 0 % light, 100 % and more dark (the verdict is the API's)
    if (loading !== undefined && level === "ok") classes.push("shade-" + Math.min(4, Math.max(0, Math.floor(loading / 25))));
    return { classes, alarmed, data: { loading: level }, title: describe(id) };
  }

  function paint(state, checks, alarms) {
    const verdicts = new Map();
    const all = new Map();
    for (const v of checks.violations) {
      const old = verdicts.get(v.element);
      if (!old || old.severity !== "violation") verdicts.set(v.element, v);
      all.set(v.element, [...(all.get(v.element) ?? []), v]);
    }
    const alarmed = new Map();
    for (const a of alarms.alarms) {
      if (a.state === "normal") continue;
      alarmed.set(a.element, [...(alarmed.get(a.element) ?? []), a.rule_id]);
    }
    latest = { state, verdicts, allVerdicts: all, alarms: alarmed };
    net.colour(look);
    if (selected) panel(selected);
    document.getElementById("state-time").textContent = gt.utc(state.time_utc);
    document.getElementById("state-method").textContent = state.method;
    document.getElementById("vm-range").textContent = state.vm_min_pu.toFixed(3) + " - " + state.vm_max_pu.toFixed(3);
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

  function wire() {
    document.getElementById("panel-close").addEventListener("click", () => {
      document.getElementById("panel").hidden = true;
      selected = null;
      net.mark(null);
    });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && selected) document.getElementById("panel-close").click();
    });
    document.getElementById("find").addEventListener("submit", (e) => {
      e.preventDefault();
      const id = gtNet.find(net, document.getElementById("find-element").value);
      if (!id) {
        gt.say("No element matches: type an id such as bus:3 or line:5, or a name.", "info");
        return;
      }
      gt.say("");
      net.centre(id, net.perElement ? 0 : 8);
      panel(id);
    });
    wireMatches();
    for (const [sel, f] of [["#zoom-in", 0.8], ["#zoom-out", 1.25]])
      document.querySelector(sel).addEventListener("click", () => net.zoomBy(f));
    document.getElementById("zoom-reset").addEventListener("click", () => net.reset());
  }

  // The keyboard path to any element, also when the grid is drawn by colour class (its
  // elements are then no Tab stops): typing in Find lists the matches as buttons (Tab or
  // the arrow keys move through them, Escape goes back to Find), Enter on one centres
  // and marks it and opens its panel.
  function show(id) {
    gt.say("");
    net.centre(id, net.perElement ? 0 : 8);
    panel(id);
  }

  function listMatches() {
    const input = document.getElementById("find-element");
    const list = document.getElementById("find-matches");
    const { ids, total } = gtNet.matches(net, input.value);
    list.replaceChildren(
      ...ids.map((id) => {
        const name = net.items.get(id).props.name;
        const button = gt.el("button", { type: "button", class: "find-match", "data-element": id },
          id + (name ? " - " + name : ""));
        button.addEventListener("click", () => show(id));
        const li = gt.el("li");
        li.append(button);
        return li;
      }),
    );
    document.getElementById("find-results").hidden = !input.value.trim();
    const count = document.getElementById("find-count");
    count.textContent = !input.value.trim() ? ""
      : total === 0 ? "no element matches"
      : total > ids.length ? `${total} matches, the first ${ids.length} listed: type more`
      : `${total} match${total === 1 ? "" : "es"}: Tab or arrow down to choose, Enter to show`;
  }

  function wireMatches() {
    const input = document.getElementById("find-element");
    const list = document.getElementById("find-matches");
    input.addEventListener("input", gt.debounce(listMatches, 150));
    input.addEventListener("keydown", (e) => {
      if (e.key !== "ArrowDown") return;
      listMatches();
      const first = list.querySelector("button");
      if (first) {
        e.preventDefault();
        first.focus();
      }
    });
    list.addEventListener("keydown", (e) => {
      const buttons = [...list.querySelectorAll("button")];
      const at = buttons.indexOf(document.activeElement);
      if (at < 0) return;
      let next = null;
      if (e.key === "ArrowDown") next = buttons[Math.min(at + 1, buttons.length - 1)];
      else if (e.key === "ArrowUp") next = at === 0 ? input : buttons[at - 1];
      else if (e.key === "Home") next = buttons[0];
      else if (e.key === "End") next = buttons[buttons.length - 1];
      else if (e.key === "Escape") next = input;
      if (!next) return;
      e.preventDefault();
      e.stopPropagation(); // Escape here goes back to Find; it does not close the panel
      next.focus();
    });
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    const root = document.getElementById("network");
    try {
      const collection = await gt.api("GET", "/model/topology?format=geojson");
      const draw = new URLSearchParams(location.search).get("draw") ?? undefined;
      net = gtNet.create(root, collection, { onSelect: panel, onHover: hover, draw });
    } catch (err) {
      if (err.status !== 401) gt.say("No network model (" + err.status + "): " + err.detail);
      return;
    }
    if (net.empty) {
      gt.say("This model has no coordinates to draw.", "info");
      return;
    }
    if (net.layout === "generated")
      document.getElementById("layout-note").hidden = false;
    net.colour(look);
    gtNet.markDrawn(root);
    wire();
    const highlight = new URLSearchParams(location.search).get("highlight");
    if (highlight) {
      if (net.items.has(highlight)) {
        net.centre(highlight, net.perElement ? 0 : 8);
        panel(highlight);
      } else gt.say("No element " + highlight + " in this model.", "info");
    }
    await refresh();
    const soon = gt.debounce(refresh, 250);
    gt.alarmStream(() => soon(), () => {});
    setInterval(soon, REFRESH_MS);
  });
})();
