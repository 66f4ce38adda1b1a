// Trends: a measurement point (?point=<id>) or an element's state (?element=bus:3) over a
// window, against its limits, measured vs estimated vs forecast. Data from
// GET /points/{id}/measurements and GET /twin/history; the forecast of the point (for an
// element: of its stored state point) from GET /points/{id}/forecast, issued at the
// window's end, drawn as a fan (median, 25-75 % and 5-95 % bands) with its method and
// issue time; plotted with Plotly (its bundle from the pip package).
"use strict";

(() => {
  const STATE_ELEMENT = /^(bus|line|trafo):\d+$/;
  const DAY_MS = 86400000;
  const COLORS = { estimated: "#1565c0", measured: "#2e7d32", forecast: "#6a1b9a" };
  let fullRange = null; // [start, end] as Plotly date strings

  // ISO UTC ("2016-01-01T00:15:00Z") -> Plotly's zone-less date string (read as UTC here)
  function plotTime(iso) {
    return iso.replace("T", " ").replace(/(\.\d+)?Z$|\+00:00$/, "");
  }
  function isoFromInput(v) {
    return v ? v + (v.length === 16 ? ":00Z" : "Z") : "";
  }
  function inputFromDate(d) {
    return d.toISOString().slice(0, 16);
  }
  function parsePlot(s) {
    return new Date(String(s).replace(" ", "T") + (String(s).length <= 10 ? "T00:00:00Z" : "Z"));
  }

  function limitTraces(limits, start, end) {
    const traces = [];
    for (const lim of limits) {
      for (const [side, y] of [["upper", lim.upper], ["lower", lim.lower]]) {
        if (y === null || y === undefined) continue;
        traces.push({
          x: [start, end],
          y: [y, y],
          mode: "lines",
          name: side + ": " + lim.label,
          hovertemplate: side + " " + lim.label + ": %{y}<extra></extra>",
          line: { color: lim.severity === "violation" ? "#c62828" : "#f9a825", dash: "dash", width: 2 },
          meta: { kind: "limit", severity: lim.severity },
        });
      }
    }
    return traces;
  }

  function seriesTrace(s, kind) {
    return {
      x: s.time_utc.map(plotTime),
      y: s.value,
      mode: kind === "measured" ? "markers" : "lines+markers",
      name: s.label,
      line: { color: COLORS[kind] },
      marker: { color: COLORS[kind], size: kind === "measured" ? 7 : 4 },
      meta: { kind },
    };
  }

  // The values beyond a limit: [{t, series, value, limit, which, severity}]
  function beyond(series, limits) {
    const out = [];
    for (const s of series) {
      s.value.forEach((v, i) => {
        if (v === null) return;
        for (const lim of limits) {
          let edge = null;
          if (lim.upper !== null && lim.upper !== undefined && v > lim.upper) edge = lim.upper;
          else if (lim.lower !== null && lim.lower !== undefined && v < lim.lower) edge = lim.lower;
          if (edge === null) continue;
          out.push({ t: s.time_utc[i], series: s.label, value: v, limit: edge, which: lim.label, severity: lim.severity });
          break; // the first (strictest-severity) limit it breaks
        }
      });
    }
    return out;
  }

  function renderSide(limits, over, notes) {
    const ul = document.getElementById("trend-limits");
    ul.replaceChildren(
      ...limits.map((l) =>
        gt.el("li", { "data-severity": l.severity },
          l.label + ": " + (l.lower ?? "-") + " .. " + (l.upper ?? "-") + " (" + l.severity + "; " + l.rule + ")"),
      ),
    );
    if (!limits.length) ul.append(gt.el("li", {}, "none known"));
    const rows = document.getElementById("beyond-rows");
    rows.replaceChildren();
    for (const b of over) {
      const tr = gt.el("tr", { class: "beyond-" + b.severity });
      tr.append(
        gt.el("td", {}, gt.utc(b.t)),
        gt.el("td", {}, b.series),
        gt.el("td", { class: "value" }, b.value.toPrecision(5)),
        gt.el("td", { class: "limit" }, b.limit.toPrecision(5)),
        gt.el("td", {}, b.which + " (" + b.severity + ")"),
      );
      rows.append(tr);
    }
    document.getElementById("beyond-count").textContent = String(over.length);
    document.getElementById("trend-notes").replaceChildren(...notes.map((n) => gt.el("li", {}, n)));
  }

  function plot(title, unit, series, limits, startIso, endIso, notes, forecast) {
    const start = plotTime(startIso);
    const end = plotTime(endIso);
    const traces = [];
    let shownEnd = end;
    if (forecast && forecast.quantiles.some((q) => q.value.some((v) => v !== null))) {
      traces.push(...fanTraces(forecast));
      const last = forecast.time_utc[forecast.time_utc.length - 1];
      const after = new Date(new Date(last).getTime() + forecast.step_s * 1000);
      shownEnd = plotTime(after.toISOString().replace(".000Z", "Z"));
    }
    fullRange = [start, shownEnd > end ? shownEnd : end];
    for (const s of series) traces.push(seriesTrace(s.data, s.kind));
    traces.push(...limitTraces(limits, start, end));
    const over = beyond(series.map((s) => s.data), limits);
    if (over.length) {
      traces.push({
        x: over.map((b) => plotTime(b.t)),
        y: over.map((b) => b.value),
        mode: "markers",
        name: "beyond a limit",
        marker: { color: "#c62828", size: 12, symbol: "circle-open", line: { width: 3 } },
        meta: { kind: "beyond" },
      });
    }
    const layout = {
      title: { text: title },
      xaxis: { title: { text: "time (UTC)" }, type: "date", range: fullRange },
      yaxis: { title: { text: unit } },
      margin: { l: 60, r: 20, t: 40, b: 50 },
      legend: { orientation: "h", y: -0.2 },
      height: 420,
    };
    Plotly.react("trend-chart", traces, layout, { responsive: true, displaylogo: false });
    document.getElementById("trend-title").textContent = title;
    renderSide(limits, over, notes);
  }

  // The forecast's fan: the outer band, the inner band (each a closed polygon), the median.
  function fanTraces(f) {
    const x = f.time_utc.map(plotTime);
    const level = (q) => f.quantiles.find((b) => b.level === q)?.value ?? [];
    const band = (lo, hi, name, color) => ({
      x: [...x, ...[...x].reverse()],
      y: [...level(lo), ...[...level(hi)].reverse()],
      mode: "lines",
      fill: "toself",
      fillcolor: color,
      line: { width: 0 },
      hoverinfo: "skip",
      name,
      meta: { kind: "forecast-band", levels: [lo, hi] },
    });
    return [
      band(0.05, 0.95, "forecast 5-95 %", "rgba(106, 27, 154, 0.15)"),
      band(0.25, 0.75, "forecast 25-75 %", "rgba(106, 27, 154, 0.3)"),
      {
        x,
        y: level(0.5),
        mode: "lines",
        name: "forecast median (" + f.method + ")",
        line: { color: COLORS.forecast, width: 2 },
        meta: { kind: "forecast" },
      },
    ];
  }

  function forecastLabel(f) {
    const label = document.getElementById("forecast-label");
    const how = f.method === "gbm" ? "LightGBM quantiles" : f.method;
    let text = "Forecast: " + how + ", issued " + gt.utc(f.issue_utc) + " (data to " +
      gt.utc(f.available_until_utc) + "), for " + f.first_day_local + " (" + f.tz + ")";
    if (f.fallback) text += "; fell back from " + f.method_requested + ": " + f.fallback;
    if (f.cached) text += "; kept from an earlier request";
    label.textContent = text;
    label.dataset.method = f.method;
    label.dataset.fallback = f.fallback ?? "";
  }

  // The forecast of `pointId` issued at `issueIso` (null when there is none: the label
  // says why).
  async function fetchForecast(pointId, issueIso) {
    const label = document.getElementById("forecast-label");
    label.textContent = "Forecast: computing ...";
    delete label.dataset.method;
    try {
      const f = await gt.api("GET", "/points/" + encodeURIComponent(pointId) + "/forecast?" +
        new URLSearchParams({ issued: issueIso }));
      forecastLabel(f);
      return f;
    } catch (err) {
      if (err.status !== 401) label.textContent = "No forecast (" + err.status + "): " + err.detail;
      return null;
    }
  }

  function zoom(factor) {
    const div = document.getElementById("trend-chart");
    if (!div.layout || !div.layout.xaxis) return;
    if (factor === 0) {
      Plotly.relayout(div, { "xaxis.range": fullRange });
      return;
    }
    const [a, b] = div.layout.xaxis.range.map((s) => parsePlot(s).getTime());
    const mid = (a + b) / 2;
    const half = ((b - a) / 2) * factor;
    const fmt = (ms) => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
    Plotly.relayout(div, { "xaxis.range": [fmt(mid - half), fmt(mid + half)] });
  }

  async function window_(q) {
    let end = q.get("end");
    let start = q.get("start");
    if (!end) {
      const twin = await gt.api("GET", "/twin");
      const newest = twin.latest_interval_utc ? new Date(twin.latest_interval_utc) : new Date();
      end = new Date(newest.getTime() + twin.step_s * 1000).toISOString().replace(".000Z", "Z");
    }
    if (!start) start = new Date(new Date(end).getTime() - DAY_MS).toISOString().replace(".000Z", "Z");
    document.getElementById("trend-start").value = inputFromDate(new Date(start));
    document.getElementById("trend-end").value = inputFromDate(new Date(end));
    return [start, end];
  }

  async function showElement(element, start, end) {
    const q = new URLSearchParams({ element, start, end });
    const h = await gt.api("GET", "/twin/history?" + q);
    const forecast = h.estimated.point_id ? await fetchForecast(h.estimated.point_id, h.end_utc) : null;
    const series = [{ kind: "estimated", data: h.estimated }];
    for (const m of h.measured) series.push({ kind: "measured", data: m });
    if (h.forecast) series.push({ kind: "forecast", data: h.forecast });
    const what = h.quantity === "vm_pu" ? "voltage" : "loading";
    plot(element + " " + what + " [" + h.unit + "] (" + h.standard + ")", h.unit, series, h.limits,
      h.start_utc, h.end_utc, h.notes, forecast);
  }

  async function showPoint(pointId, start, end) {
    const p = await gt.api("GET", "/points/" + encodeURIComponent(pointId));
    const q = new URLSearchParams({ start, end });
    const pending = fetchForecast(pointId, end);
    const m = await gt.api("GET", "/points/" + encodeURIComponent(pointId) + "/measurements?" + q);
    const values = m.values;
    const measured = {
      point_id: pointId,
      label: "measured " + pointId,
      unit: p.unit,
      time_utc: values.map((v) => v.ts_utc),
      value: values.map((v) => v.value),
    };
    const series = [{ kind: p.source === "twin" ? "estimated" : "measured", data: measured }];
    let limits = [];
    const notes = [];
    if (p.element && STATE_ELEMENT.test(p.element)) {
      // the element's state (estimated) and its limits, when the units agree
      const h = await gt.api("GET", "/twin/history?" + new URLSearchParams({ element: p.element, start, end }));
      if (h.unit === p.unit) {
        if (p.source !== "twin") series.unshift({ kind: "estimated", data: h.estimated });
        limits = h.limits;
      }
      notes.push(...h.notes);
    }
    if (!limits.length && (p.min_value !== null || p.max_value !== null)) {
      limits = [{ label: "plausible range of the point", lower: p.min_value, upper: p.max_value,
        severity: "warning", rule: "the point's min_value/max_value" }];
    }
    if (!values.length) notes.push("no values of " + pointId + " in the window");
    plot(pointId + " (" + p.quantity + " [" + p.unit + "]" + (p.element ? ", " + p.element : "") + ")",
      p.unit, series, limits, m.start_utc, m.end_utc, notes, await pending);
  }

  async function show() {
    const q = new URLSearchParams(location.search);
    const point = q.get("point");
    const element = q.get("element");
    document.getElementById("point-select").value = point ?? "";
    document.getElementById("element-input").value = element ?? "";
    if (!point && !element) return;
    try {
      const [start, end] = await window_(q);
      if (point) await showPoint(point, start, end);
      else await showElement(element, start, end);
      gt.say("");
    } catch (err) {
      if (err.status !== 401) gt.say("No trend (" + err.status + "): " + err.detail);
    }
  }

  async function fillPickers() {
    const { points } = await gt.api("GET", "/points");
    const select = document.getElementById("point-select");
    const elements = new Set();
    for (const p of points) {
      if (p.source === "twin") {
        if (p.element) elements.add(p.element);
        continue;
      }
      select.append(gt.el("option", { value: p.point_id }, p.point_id + " (" + p.quantity + ", " + p.unit + ")"));
    }
    const list = document.getElementById("element-list");
    for (const e of elements) list.append(gt.el("option", { value: e }));
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    if (typeof Plotly === "undefined") {
      gt.say("Plotly is not available (/console/static/vendor/plotly.min.js): install the plotly package");
      return;
    }
    try {
      await fillPickers();
    } catch (err) {
      if (err.status !== 401) gt.say("Points unavailable (" + err.status + "): " + err.detail);
    }
    const form = document.getElementById("trend-form");
    const select = document.getElementById("point-select");
    const input = document.getElementById("element-input");
    select.addEventListener("change", () => { if (select.value) input.value = ""; });
    input.addEventListener("input", () => { if (input.value) select.value = ""; });
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const q = new URLSearchParams();
      if (select.value) q.set("point", select.value);
      else if (input.value.trim()) q.set("element", input.value.trim());
      const s = isoFromInput(document.getElementById("trend-start").value);
      const e = isoFromInput(document.getElementById("trend-end").value);
      if (s) q.set("start", s);
      if (e) q.set("end", e);
      history.replaceState(null, "", "/trends?" + q);
      show();
    });
    document.getElementById("zoom-in").addEventListener("click", () => zoom(0.5));
    document.getElementById("zoom-out").addEventListener("click", () => zoom(2));
    document.getElementById("zoom-reset").addEventListener("click", () => zoom(0));
    await show();
  });
})();
