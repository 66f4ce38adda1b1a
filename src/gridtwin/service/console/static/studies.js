// The studies page: a scenario (POST /studies/scenario), N-1 (POST /studies/contingency)
// or hosting capacity (POST /studies/hosting), each the API's (analyst); the result drawn
// on the network with gtNet (network.js) and its figures beside it.
"use strict";

(() => {
  let net = null;
  let look = () => ({ classes: ["study-ok"], data: { study: "ok" } });
  let explain = () => "";
  const ANALYST = new Set(["analyst", "admin"]);

  function status(text) {
    document.getElementById("study-status").textContent = text;
  }

  function busy(on) {
    for (const b of document.querySelectorAll("form.study button")) b.disabled = on;
  }

  function legend(items) {
    const ul = document.getElementById("study-legend");
    ul.replaceChildren();
    for (const [cls, text] of items) {
      const li = gt.el("li");
      li.append(gt.el("span", { class: "swatch " + cls }), document.createTextNode(text));
      ul.append(li);
    }
  }

  function table(head, rows) {
    const t = gt.el("table", { class: "study-table" });
    const tr = gt.el("tr");
    for (const h of head) tr.append(gt.el("th", { scope: "col" }, h));
    const thead = gt.el("thead");
    thead.append(tr);
    const body = gt.el("tbody");
    for (const r of rows) {
      const row = gt.el("tr");
      for (const c of r) row.append(gt.el("td", {}, c === null || c === undefined ? "-" : String(c)));
      body.append(row);
    }
    t.append(thead, body);
    return t;
  }

  function notes(lines) {
    const box = gt.el("details", { class: "hint" });
    box.append(gt.el("summary", {}, `Notes of the run (${lines.length})`));
    const ul = gt.el("ul");
    for (const line of lines) ul.append(gt.el("li", {}, line));
    box.append(ul);
    return box;
  }

  const fmt = (x, d = 3) => (x === null || x === undefined ? "-" : Number(x).toFixed(d));

  function show(nodes) {
    const box = document.getElementById("study-result");
    box.replaceChildren(...nodes);
  }

  function redraw() {
    if (!net) return;
    net.colour(look);
    document.getElementById("network").dataset.study = document.body.dataset.study ?? "";
  }

  // ------------------------------------------------------------------ scenario

  function scenarioResult(r) {
    const sets = {};
    for (const c of ["before", "after"]) {
      sets[c] = new Set([
        ...r[c].failing_buses.map((i) => "bus:" + i),
        ...r[c].overloaded_lines.map((i) => "line:" + i),
        ...r[c].hot_trafos.map((i) => "trafo:" + i),
      ]);
    }
    look = (it) => {
      const [b, a] = [sets.before.has(it.id), sets.after.has(it.id)];
      const s = a && b ? "both" : a ? "new" : b ? "gone" : "ok";
      return { classes: ["study-" + s], data: { study: s } };
    };
    explain = (id) => {
      const [b, a] = [sets.before.has(id), sets.after.has(id)];
      return `${id}: ${b ? "fails" : "within limits"} before, ${a ? "fails" : "within limits"} after`;
    };
    legend([
      ["study-new", "fails only after the change"],
      ["study-both", "fails before and after"],
      ["study-gone", "fails only before"],
      ["study-ok", "within limits in both"],
    ]);
    const row = (label, key, d) => [label, fmt(r.before[key], d), fmt(r.after[key], d)];
    show([
      gt.el("p", {}, `${r.kind} on ${r.model}, ${gt.utc(r.start_utc)} to ${gt.utc(r.end_utc)} (${r.standard})`),
      table(
        ["", "before", "after"],
        [
          row("lowest voltage (pu)", "vm_min_pu", 4),
          row("highest voltage (pu)", "vm_max_pu", 4),
          row("largest line loading (%)", "line_loading_max_percent", 1),
          row("largest transformer loading (%)", "trafo_loading_max_percent", 1),
          row("customer buses failing", "customer_buses_failing", 0),
          row("lines overloaded", "lines_overloaded", 0),
          row("violations", "violations", 0),
          ["limiting element", r.before.limiting_element ?? "-", r.after.limiting_element ?? "-"],
        ],
      ),
      notes(r.notes),
    ]);
    document.body.dataset.study = "scenario";
    redraw();
  }

  async function runScenario(e) {
    e.preventDefault();
    const start = document.getElementById("scenario-start").value;
    const hours = Number(document.getElementById("scenario-hours").value);
    const t0 = new Date(start + ":00Z");
    if (Number.isNaN(t0.getTime())) {
      gt.say("Give the start of the period (UTC).");
      return;
    }
    const body = {
      kind: document.getElementById("scenario-kind").value,
      share: Number(document.getElementById("scenario-share").value),
      ev_kw: Number(document.getElementById("scenario-ev").value),
      pv_kwp: Number(document.getElementById("scenario-kwp").value),
      start_utc: t0.toISOString(),
      end_utc: new Date(t0.getTime() + hours * 3600e3).toISOString(),
    };
    await run("scenario", "/studies/scenario", body, scenarioResult);
  }

  // ------------------------------------------------------------------ N-1

  function contingencyResult(r) {
    const by = new Map(r.outages.map((o) => [o.element, o]));
    const level = (o) => (o.new_violations.length || o.loads_still_lost ? "new" : o.loads_lost ? "both" : "ok");
    look = (it) => {
      const o = by.get(it.id);
      const s = o ? level(o) : "none";
      return { classes: ["study-" + s], data: { study: s } };
    };
    explain = (id) => {
      const o = by.get(id);
      if (!o) return id + ": not taken out";
      return `${id} out: ${o.loads_lost} loads lost, ${o.loads_restored} restored` +
        (o.restored_by_switch === null ? "" : ` by switch ${o.restored_by_switch}`) +
        `; new violations: ${o.new_violations.join(", ") || "none"}`;
    };
    legend([
      ["study-new", "its outage leaves load unsupplied or violates a limit"],
      ["study-both", "its outage is restored by switching"],
      ["study-ok", "its outage harms nothing"],
      ["study-none", "not taken out (buses)"],
    ]);
    const worst = [...r.outages].sort((a, b) => (level(a) === level(b) ? 0 : level(a) === "new" ? -1 : 1));
    show([
      gt.el("p", {}, `${r.outages.length} outages at ${r.stress_steps_utc.map(gt.utc).join(", ")}: ` +
        `${r.with_lost_load} leave load unsupplied, ${r.with_new_violations} violate a new limit.`),
      table(
        ["outage", "loads lost", "still lost", "new violations"],
        worst.slice(0, 15).map((o) => [o.element, o.loads_lost, o.loads_still_lost, o.new_violations.join(", ") || "-"]),
      ),
    ]);
    document.body.dataset.study = "contingency";
    redraw();
  }

  async function runContingency(e) {
    e.preventDefault();
    const elements = [...document.querySelectorAll("#contingency-form input[name=elements]:checked")].map((i) => i.value);
    if (!elements.length) {
      gt.say("Choose lines, transformers or both.");
      return;
    }
    const body = { elements, restore: document.getElementById("contingency-restore").checked };
    await run("N-1", "/studies/contingency", body, contingencyResult);
  }

  // ------------------------------------------------------------------ hosting

  function hostingResult(r) {
    const by = new Map(r.buses.map((b) => [b.element, b]));
    const mws = r.buses.map((b) => b.hosting_mw).sort((a, b) => a - b);
    const q = (p) => mws[Math.min(mws.length - 1, Math.floor(p * mws.length))];
    const cuts = [q(0.25), q(0.5), q(0.75)];
    const klass = (mw) => (mw <= cuts[0] ? "host-0" : mw <= cuts[1] ? "host-1" : mw <= cuts[2] ? "host-2" : "host-3");
    look = (it) => {
      const b = by.get(it.id);
      const s = b ? klass(b.hosting_mw) : "none";
      return { classes: ["study-" + s], data: { study: s } };
    };
    explain = (id) => {
      const b = by.get(id);
      return b ? `${id}: ${fmt(b.hosting_mw * 1000, 0)} kW, then ${b.limiting}` : id + ": not a candidate";
    };
    const kw = (x) => fmt(x * 1000, 0) + " kW";
    legend([
      ["study-host-0", "lowest quarter, up to " + kw(cuts[0])],
      ["study-host-1", "up to " + kw(cuts[1])],
      ["study-host-2", "up to " + kw(cuts[2])],
      ["study-host-3", "highest quarter"],
      ["study-none", "not a candidate"],
    ]);
    const lowest = [...r.buses].sort((a, b) => a.hosting_mw - b.hosting_mw).slice(0, 10);
    show([
      gt.el("p", {}, `Extra ${r.kind} up to ${r.vm_max_pu} pu at ${r.stress_steps_utc.map(gt.utc).join(", ")}: ` +
        `the lowest ${r.lowest_mw === null ? "-" : kw(r.lowest_mw)}.`),
      table(["bus", "hosting", "limit"], lowest.map((b) => [b.element, kw(b.hosting_mw), b.limiting])),
    ]);
    document.body.dataset.study = "hosting";
    redraw();
  }

  async function runHosting(e) {
    e.preventDefault();
    const text = document.getElementById("hosting-buses").value.trim();
    const body = {
      kind: document.getElementById("hosting-kind").value,
      vm_max_pu: Number(document.getElementById("hosting-vmax").value),
    };
    if (text) {
      body.buses = text.split(/[\s,;]+/).filter(Boolean).map((s) => Number(s.replace(/^bus:/, "")));
      if (body.buses.some((b) => !Number.isInteger(b))) {
        gt.say("Buses: whole numbers (bus indices) separated by commas.");
        return;
      }
    }
    await run("hosting", "/studies/hosting", body, hostingResult);
  }

  // ------------------------------------------------------------------ common

  async function run(label, path, body, done) {
    gt.say("");
    busy(true);
    status(`Running ${label}... (the API bounds it; this can take a minute)`);
    const t0 = performance.now();
    try {
      const result = await gt.api("POST", path, body);
      done(result);
      status(`${label} done in ${((performance.now() - t0) / 1000).toFixed(1)} s.`);
    } catch (err) {
      status(`${label} not run.`);
      if (err.status === 403) gt.say("Refused (403): " + err.detail);
      else if (err.status !== 401) gt.say(`${label} refused (${err.status}): ${err.detail}`);
    } finally {
      busy(false);
    }
  }

  function select(id) {
    document.getElementById("study-selected").textContent = explain(id) || id;
    net.mark(id);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    if (!ANALYST.has(me.role))
      gt.say(`Studies need the analyst role; you are signed in as ${me.role}: the API will refuse them.`, "info");
    document.getElementById("scenario-form").addEventListener("submit", runScenario);
    document.getElementById("contingency-form").addEventListener("submit", runContingency);
    document.getElementById("hosting-form").addEventListener("submit", runHosting);
    try {
      const [collection, model] = await Promise.all([
        gt.api("GET", "/model/topology?format=geojson"),
        gt.api("GET", "/model"),
      ]);
      if (model.profile_start_utc)
        document.getElementById("scenario-start").value = model.profile_start_utc.slice(0, 16);
      const root = document.getElementById("network");
      const hover = (id) => {
        document.getElementById("study-selected").textContent = explain(id) || id;
      };
      net = gtNet.create(root, collection, { onSelect: select, onHover: hover });
      if (!net.empty) {
        redraw();
        gtNet.markDrawn(root);
      }
    } catch (err) {
      if (err.status !== 401) gt.say("No network model (" + err.status + "): " + err.detail);
    }
  });
})();
