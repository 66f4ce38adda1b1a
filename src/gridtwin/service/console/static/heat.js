// The heat-network page: the pumping-station norms (POST /norms, past and coming year)
// as tables, and the characteristics (POST /norms/characteristics) plotted with Plotly
// (served from its pip package). Which forms are reconstructions comes from the API.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const COLOURS = { winter: "#1f5fa8", summer: "#d9661f" };
  const SYMBOLS = { design: "circle-open", actual: "square", coming: "triangle-up-open", crossing: "x" };
  const CONFIG = { displaylogo: false, responsive: true };
  let examples = [];

  const fmt = (x, digits = 0) =>
    x === null || x === undefined ? "-" : Number(x).toLocaleString("en-US", { maximumFractionDigits: digits });

  function cells(tr, values) {
    for (const [v, num] of values) tr.append(gt.el("td", num ? { class: "num" } : {}, v));
    return tr;
  }

  // ---------------------------------------------------------------- tables

  function pastRows(unit) {
    const rows = [];
    for (const st of unit.stations) {
      for (const s of st.seasons) {
        const tr = gt.el("tr", { "data-station": st.station, "data-season": s.season });
        rows.push(
          cells(tr, [
            [st.station],
            [s.season],
            [fmt(s.hours_h), 1],
            [fmt(s.design_flow_t_per_h, 1), 1],
            [fmt(s.design_head_m ?? s.design_curve_head_m, 1), 1],
            [s.design_regime],
            [fmt(s.design_power_kw, 1), 1],
            [fmt(s.calculated_energy_kwh), 1],
            [`${fmt(s.actual_flow_t_per_h, 1)} (${s.actual_flow_source})`, 1],
            [fmt(s.nominal_head_m ?? s.nominal_curve_head_m, 1), 1],
            [fmt(s.nominal_power_kw, 1), 1],
            [fmt(s.nominal_energy_kwh), 1],
            ["", 1],
          ]),
        );
      }
      const total = gt.el("tr", { class: "total", "data-station": st.station, "data-season": "all" });
      rows.push(
        cells(total, [
          [st.station],
          ["station"],
          ["", 1], ["", 1], ["", 1], [""], ["", 1],
          [fmt(st.calculated_energy_kwh), 1],
          ["", 1], ["", 1], ["", 1],
          [fmt(st.nominal_energy_kwh), 1],
          [fmt(st.normative_energy_kwh), 1],
        ]),
      );
    }
    return rows;
  }

  function comingRows(unit) {
    const rows = [];
    for (const st of unit.stations) {
      for (const s of st.seasons) {
        const tr = gt.el("tr", { "data-station": st.station, "data-season": s.season });
        rows.push(
          cells(tr, [
            [st.station],
            [s.season],
            [fmt(s.hours_h), 1],
            [fmt(s.flow_t_per_h, 1), 1],
            [fmt(s.head_m ?? s.curve_head_m, 1), 1],
            [s.regime],
            [fmt(s.power_kw, 1), 1],
            [fmt(s.pumping_energy_kwh), 1],
          ]),
        );
      }
      const total = gt.el("tr", { class: "total", "data-station": st.station, "data-season": "all" });
      rows.push(cells(total, [[st.station], ["station (with auxiliaries)"], ["", 1], ["", 1], ["", 1], [""], ["", 1], [fmt(st.normative_energy_kwh), 1]]));
    }
    return rows;
  }

  function showNorms(past, coming) {
    const dl = $("summary");
    dl.replaceChildren();
    const add = (k, v, flag) => {
      const dt = gt.el("dt", {}, k);
      if (flag) dt.append(" ", gt.el("span", { class: "flag " + flag }, flag));
      dl.append(dt, gt.el("dd", {}, v));
    };
    const findings = [];
    if (past) {
      const p = past.summary[0];
      const u = past.units[0];
      $("unit-title").textContent = `${p.title} (${p.territorial_unit})`;
      add("ΣЭр, calculated use of the past year [kWh] (1)", fmt(p.total_calculated_energy_kwh), "reconstructed");
      add("ΣЭном, nominal use [kWh] (4)", fmt(p.total_nominal_energy_kwh), "reconstructed");
      add("ΣЭн, normative use [kWh] (3)", fmt(p.total_normative_energy_kwh), "reconstructed");
      add("Кр, relative reserves (8)", fmt(p.reserves_factor, 4), "reconstructed");
      $("past-rows").replaceChildren(...pastRows(u));
      findings.push(...u.findings, ...p.warnings);
      $("past-table").dataset.total = String(p.total_normative_energy_kwh);
    } else {
      $("past-rows").replaceChildren();
    }
    if (coming) {
      const c = coming.summary[0];
      const u = coming.units[0];
      add("ε, the task for the coming year (9)", fmt(c.task, 4), "reconstructed");
      add("Эн,пр, normative use of the coming year [kWh] (10)", fmt(c.total_normative_energy_kwh), "reconstructed");
      $("coming-rows").replaceChildren(...comingRows(u));
      findings.push(...c.warnings);
      $("coming-table").dataset.total = String(c.total_normative_energy_kwh);
    } else {
      $("coming-rows").replaceChildren();
    }
    $("findings").replaceChildren(...findings.map((f) => gt.el("li", {}, f)));
  }

  function showFlags(ch) {
    $("flags-rows").replaceChildren(
      ...ch.formulas.map((f) => {
        const tr = gt.el("tr", { "data-status": f.status });
        cells(tr, [[f.number], [f.clause], [f.quantity], [f.form]]);
        const td = gt.el("td");
        td.append(gt.el("span", { class: "flag " + f.status }, f.status));
        tr.append(td);
        return tr;
      }),
    );
    $("pump-flags").replaceChildren(
      ...ch.pumps.map((p) => {
        const li = gt.el("li", {}, `${p.name}: ${p.source ?? "no source given"} `);
        li.append(gt.el("span", { class: "flag " + (p.status ?? "assumed") }, p.status ?? "status not given"));
        return li;
      }),
    );
  }

  // ---------------------------------------------------------------- plots

  function plot(id, title, traces, layout) {
    const div = gt.el("div", { id, class: "plot", role: "img", "aria-label": title });
    $("plots").append(div);
    const base = {
      title: { text: title, font: { size: 14 } },
      margin: { l: 60, r: 60, t: 40, b: 45 },
      legend: { orientation: "h", y: -0.22, font: { size: 10 } },
      paper_bgcolor: "#fff",
      plot_bgcolor: "#fff",
    };
    return Plotly.newPlot(div, traces, { ...base, ...layout }, CONFIG).then(() => {
      div.dataset.traces = String(traces.length);
    });
  }

  function markTraces(season, yKey) {
    return season.marks.map((m) => ({
      type: "scatter",
      mode: "markers",
      name: `${m.kind} (${season.season})`,
      x: [m.flow_t_per_h],
      y: [m[yKey]],
      marker: { symbol: SYMBOLS[m.kind], size: 11, color: COLOURS[season.season] ?? "#333" },
    }));
  }

  async function showPlots(ch) {
    $("plots").replaceChildren();
    const done = [];
    for (const [i, p] of ch.pumps.entries()) {
      done.push(
        plot(`plot-pump-${i}`, `Pump ${p.name}: H–Q and efficiency`, [
          { type: "scatter", mode: "lines", name: "head H [m]", x: p.flow_m3_per_h, y: p.head_m, line: { color: "#1f5fa8" } },
          { type: "scatter", mode: "lines", name: "efficiency ηн", x: p.flow_m3_per_h, y: p.efficiency, yaxis: "y2", line: { color: "#2e7d32", dash: "dot" } },
        ], {
          xaxis: { title: { text: "Q [m³/h]" } },
          yaxis: { title: { text: "H [m]" }, rangemode: "tozero" },
          yaxis2: { title: { text: "ηн" }, overlaying: "y", side: "right", range: [0, 1] },
        }),
      );
    }
    const stations = [...new Set(ch.seasons.map((s) => s.station))];
    for (const [i, name] of stations.entries()) {
      const seasons = ch.seasons.filter((s) => s.station === name);
      const head = [];
      const power = [];
      for (const s of seasons) {
        const colour = COLOURS[s.season] ?? "#333";
        head.push({ type: "scatter", mode: "lines", name: `joint H(G), ${s.season}`, x: s.flow_t_per_h, y: s.head_m, line: { color: colour } });
        if (s.network_resistance !== null)
          head.push({ type: "scatter", mode: "lines", name: `network curve, ${s.season} (assumed)`, x: s.flow_t_per_h, y: s.network_head_m, line: { color: colour, dash: "dash" } });
        head.push(...markTraces(s, "head_m"));
        power.push({ type: "scatter", mode: "lines", name: `N(G), ${s.season}`, x: s.flow_t_per_h, y: s.power_kw, line: { color: colour } });
        power.push({ type: "scatter", mode: "lines", name: `ηн·ηд, ${s.season}`, x: s.flow_t_per_h, y: s.unit_efficiency, yaxis: "y2", line: { color: colour, dash: "dot" } });
        power.push(...markTraces(s, "power_kw").filter((t) => t.y[0] !== null));
      }
      done.push(
        plot(`plot-station-${i}-head`, `Station ${name}: characteristic and network curve`, head, {
          xaxis: { title: { text: "G [t/h]" } },
          // up to a little above the pumps' heads (the network curve goes on rising)
          yaxis: { title: { text: "H [m]" }, range: [0, 1.3 * Math.max(...seasons.flatMap((s) => s.head_m.filter((h) => h !== null)))] },
        }),
        plot(`plot-station-${i}-power`, `Station ${name}: power N(G) and efficiency`, power, {
          xaxis: { title: { text: "G [t/h]" } },
          yaxis: { title: { text: "N [kW]" }, rangemode: "tozero" },
          yaxis2: { title: { text: "ηн·ηд" }, overlaying: "y", side: "right", range: [0, 1] },
        }),
      );
    }
    await Promise.all(done);
    $("plots").dataset.plots = String(done.length);
  }

  // ---------------------------------------------------------------- run

  function refused(err) {
    if (err.status === 401) return;
    if (err.status === 403) gt.say("Refused (403): " + err.detail);
    else if (err.status === 422) gt.say("The API refused the input (422): " + err.detail);
    else if (err.status === 404) gt.say(err.detail, "info");
    else if (err.status) gt.say("Failed (" + err.status + "): " + err.detail);
    else gt.say(String(err.message || err));
  }

  async function calculate(event) {
    if (event) event.preventDefault();
    gt.say("");
    let unit;
    try {
      unit = JSON.parse($("unit-json").value);
    } catch (err) {
      gt.say("The input is not JSON: " + err.message);
      return;
    }
    try {
      const norms = (calculation) => gt.api("POST", "/norms", { calculation, units: [unit] });
      const [past, coming, ch] = await Promise.all([
        unit.past_year ? norms("past-year") : null,
        unit.coming_year ? norms("coming-year") : null,
        gt.api("POST", "/norms/characteristics", { unit }),
      ]);
      showNorms(past, coming);
      showFlags(ch);
      await showPlots(ch);
      document.body.dataset.ready = "yes";
    } catch (err) {
      refused(err);
      document.body.dataset.ready = "refused";
    }
  }

  function choose() {
    const ex = examples.find((e) => e.name === $("example").value);
    if (ex) $("unit-json").value = JSON.stringify(ex.unit, null, 2);
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    $("heat-form").addEventListener("submit", calculate);
    $("example").addEventListener("change", () => {
      choose();
      calculate();
    });
    $("unit-file").addEventListener("change", async (e) => {
      const file = e.target.files[0];
      if (file) $("unit-json").value = await file.text();
    });
    try {
      examples = (await gt.api("GET", "/norms/examples")).examples;
    } catch (err) {
      refused(err);
    }
    $("example").append(
      ...examples.map((e) => gt.el("option", { value: e.name }, `${e.name}: ${e.title}`)),
      gt.el("option", { value: "" }, "(your own, below)"),
    );
    if (examples.length) {
      choose();
      await calculate();
    }
  });
})();
