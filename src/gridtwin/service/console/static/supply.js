// The supply page: a point of delivery billed under a bundled tariff (POST /bills) or
// under several offers side by side (POST /bills/compare). The API computes everything;
// this script gathers the inputs and shows the answers.
"use strict";

(() => {
  let tariffs = new Map(); // id -> GET /tariffs entry

  const $ = (id) => document.getElementById(id);

  // ---------------------------------------------------------------- dates in a zone

  // The zone's offset from UTC [ms] at the instant utcMs.
  function zoneOffsetMs(utcMs, zone) {
    const fmt = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    const p = Object.fromEntries(fmt.formatToParts(new Date(utcMs)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - utcMs;
  }

  // The UTC instant [ms] of local midnight starting the day "YYYY-MM-DD" in the zone.
  function localMidnightUtc(day, zone) {
    const [y, m, d] = day.split("-").map(Number);
    const guess = Date.UTC(y, m - 1, d);
    const first = guess - zoneOffsetMs(guess, zone);
    return guess - zoneOffsetMs(first, zone);
  }

  function addMonth(day) {
    const [y, m] = day.split("-").map(Number);
    return m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, "0")}-01`;
  }

  // ---------------------------------------------------------------- inputs

  function chosen() {
    return tariffs.get($("tariff").value);
  }

  function offerIds() {
    return [...document.querySelectorAll("#offers input:checked")].map((x) => x.value);
  }

  function renderOffers() {
    const t = chosen();
    const box = $("offers");
    const keep = new Set(offerIds());
    box.replaceChildren();
    for (const o of tariffs.values()) {
      if (!t || o.id === t.id || o.currency !== t.currency) continue;
      const id = "offer-" + o.id;
      const input = gt.el("input", { type: "checkbox", id, value: o.id });
      input.checked = keep.has(o.id);
      input.addEventListener("change", renderProperties);
      const label = gt.el("label", { for: id }, `${o.name} (${o.id})`);
      box.append(gt.el("div"));
      box.lastChild.append(input, label);
    }
    if (!box.childElementCount) box.append(gt.el("p", { class: "hint" }, "No other offer in this currency."));
  }

  // One input per customer property the chosen tariff and offers read.
  function renderProperties() {
    const box = $("properties");
    const old = customer();
    const props = new Map();
    for (const id of [$("tariff").value, ...offerIds()]) {
      for (const p of tariffs.get(id)?.properties ?? []) if (!props.has(p.name)) props.set(p.name, p);
    }
    box.replaceChildren();
    for (const p of props.values()) {
      const id = "prop-" + p.name;
      const label = gt.el("label", { for: id }, p.name + (p.unit ? ` [${p.unit}]` : ""));
      let input;
      if (p.type === "bool" || p.allowed) {
        input = gt.el("select", { id, "data-prop": p.name, "data-type": p.type });
        const values = p.type === "bool" ? ["true", "false"] : p.allowed;
        input.append(gt.el("option", { value: "" }, p.default === null ? "(choose)" : `(default: ${p.default})`));
        for (const v of values) input.append(gt.el("option", { value: v }, v));
      } else {
        input = gt.el("input", {
          id,
          "data-prop": p.name,
          "data-type": p.type,
          type: p.type === "number" ? "number" : "text",
          step: "any",
          placeholder: p.default === null ? "needed" : `default: ${p.default}`,
        });
      }
      if (p.description) input.setAttribute("title", p.description);
      if (p.name in old) input.value = String(old[p.name]);
      box.append(label, input);
    }
    if (!props.size) box.append(gt.el("p", { class: "hint" }, "This tariff reads no customer properties."));
  }

  function customer() {
    const out = {};
    for (const input of document.querySelectorAll("#properties [data-prop]")) {
      if (input.value === "") continue;
      const type = input.dataset.type;
      out[input.dataset.prop] =
        type === "bool" ? input.value === "true" : type === "number" ? Number(input.value) : input.value;
    }
    return out;
  }

  function parseEnergy(text) {
    const tokens = text.split(/[\s,;]+/).filter((x) => x !== "");
    return tokens.map((x) => {
      if (/^(-|null|nan)$/i.test(x)) return null;
      const v = Number(x);
      if (!Number.isFinite(v)) throw new Error(`"${x}" is not a number of kWh`);
      return v;
    });
  }

  function countValues() {
    let n = 0;
    try {
      n = parseEnergy($("energy").value).length;
    } catch {
      n = NaN;
    }
    $("values-count").textContent = Number.isNaN(n) ? "not numbers" : `${n} values`;
  }

  async function readFile(file) {
    const lines = (await file.text()).split(/\r?\n/).filter((l) => l.trim() !== "");
    const values = [];
    for (const [i, line] of lines.entries()) {
      const cells = line.split(/[,;\t]/);
      const last = cells[cells.length - 1].trim();
      if (i === 0 && !Number.isFinite(Number(last))) continue; // a header
      values.push(last === "" ? "-" : last);
    }
    $("energy").value = values.join("\n");
    countValues();
  }

  function fillFlat() {
    const t = chosen();
    const start = $("period-start").value;
    const end = $("period-end").value;
    if (!t || !start || !end) return gt.say("Choose the tariff and the period first.", "info");
    const stepMs = Number($("step-s").value) * 1000;
    const t0 = localMidnightUtc(start, t.timezone);
    const n = Math.round((localMidnightUtc(end, t.timezone) - t0) / stepMs);
    if (!(n > 0)) return gt.say("The period is empty.", "info");
    $("start-utc").value = new Date(t0).toISOString().replace(".000Z", "Z");
    $("energy").value = Array(n).fill($("flat-kwh").value || "0").join(" ");
    countValues();
  }

  function body() {
    const out = {
      period_start: $("period-start").value,
      period_end: $("period-end").value,
      customer: customer(),
      allow_gaps: $("allow-gaps").checked,
    };
    if ($("source-point").checked) {
      out.point_id = $("point").value;
      out.step_s = Number($("point-step").value);
    } else {
      out.values = {
        start_utc: $("start-utc").value.trim(),
        step_s: Number($("step-s").value),
        energy_kwh: parseEnergy($("energy").value),
      };
    }
    return out;
  }

  // ---------------------------------------------------------------- results

  const num = (x, digits = 3) => (x === null || x === undefined ? "-" : Number(x).toFixed(digits).replace(/\.?0+$/, ""));

  function lineRows(bill) {
    return bill.lines.map((ln) => {
      const tr = gt.el("tr", { "data-component": ln.component_id, class: ln.is_tax ? "tax" : "" });
      tr.append(
        gt.el("td", {}, ln.section),
        gt.el("td", {}, ln.label),
        gt.el("td", {}, ln.band ?? ""),
        gt.el("td", { class: "num" }, ln.quantity === null ? "" : `${num(ln.quantity)} ${ln.quantity_unit}`),
        gt.el("td", { class: "num" }, ln.unit_price === null ? "" : `${num(ln.unit_price, 6)} ${ln.price_unit}`),
        gt.el("td", { class: "num amount" }, ln.amount),
        gt.el("td", { class: "explanation" }, ln.explanation),
      );
      return tr;
    });
  }

  function showBill(bill) {
    $("compare").hidden = true;
    $("bill-head").textContent =
      `${bill.tariff_name} (${bill.tariff_id}); meter ${bill.meter_id}; ` +
      `${bill.period_from} to ${bill.period_to} (end excluded)`;
    $("bill-lines").replaceChildren(...lineRows(bill));
    $("bill-total").textContent = bill.total;
    $("bill-currency").textContent = bill.currency;
    $("bill").dataset.total = bill.total;
    const dl = $("bill-energy");
    dl.replaceChildren();
    const figures = [
      ["energy [kWh]", num(bill.energy_kwh)],
      ...Object.entries(bill.energy_by_band_kwh).map(([b, v]) => [`band ${b} [kWh]`, num(v)]),
      ["max power [kW]", num(bill.max_power_kw)],
      ["missing intervals", String(bill.missing_intervals)],
    ];
    for (const [k, v] of figures) dl.append(gt.el("dt", {}, k), gt.el("dd", {}, v));
    $("bill-notes").replaceChildren(...bill.notes.map((n) => gt.el("li", {}, n)));
    $("bill").hidden = false;
  }

  function showComparison(c) {
    $("bill").hidden = true;
    $("compare-head").textContent =
      `Meter ${c.meter_id}; ${c.period_from} to ${c.period_to} (end excluded); ` +
      `${num(c.energy_kwh)} kWh; amounts in ${c.currency}, cheapest first.`;
    const cols = $("compare-cols");
    cols.replaceChildren(gt.el("th", { scope: "col" }, ""));
    for (const o of c.offers) cols.append(gt.el("th", { scope: "col", "data-tariff": o.tariff_id }, `${o.rank}. ${o.tariff_name}`));
    const sections = [...new Set(c.offers.flatMap((o) => Object.keys(o.bill.subtotals)))];
    const rows = [
      ["Total", "total", (o) => o.total],
      ["More than the cheapest", "extra", (o) => o.extra_vs_best.toFixed(2)],
      ["Saving against the dearest", "saving", (o) => o.saving_vs_worst.toFixed(2)],
      ...sections.map((s) => [`subtotal: ${s}`, "section", (o) => o.bill.subtotals[s] ?? "-"]),
    ];
    const body = $("compare-rows");
    body.replaceChildren();
    for (const [label, kind, value] of rows) {
      const tr = gt.el("tr", { "data-row": kind });
      tr.append(gt.el("th", { scope: "row" }, label));
      for (const o of c.offers) tr.append(gt.el("td", { class: "num", "data-tariff": o.tariff_id }, value(o)));
      body.append(tr);
    }
    const details = $("compare-bills");
    details.replaceChildren();
    for (const o of c.offers) {
      const d = gt.el("details", { "data-tariff": o.tariff_id });
      d.append(gt.el("summary", {}, `${o.rank}. ${o.tariff_name}: the bill's lines (total ${o.total} ${c.currency})`));
      const table = gt.el("table");
      const tbody = gt.el("tbody");
      tbody.append(...lineRows(o.bill));
      table.append(tbody);
      d.append(table);
      details.append(d);
    }
    $("compare-notes").replaceChildren(...c.notes.map((n) => gt.el("li", {}, n)));
    $("compare").hidden = false;
  }

  function refused(err) {
    if (err.status === 401) return;
    if (err.status === 403) gt.say("Refused (403): " + err.detail);
    else if (err.status === 422) gt.say("The API refused the input (422): " + err.detail);
    else if (err.status) gt.say("Failed (" + err.status + "): " + err.detail);
    else gt.say(String(err.message || err));
  }

  async function billIt(event) {
    event.preventDefault();
    gt.say("");
    try {
      const b = body();
      showBill(await gt.api("POST", "/bills", { tariff_id: $("tariff").value, ...b }));
    } catch (err) {
      refused(err);
    }
  }

  async function compareIt() {
    gt.say("");
    const ids = [$("tariff").value, ...offerIds()];
    if (ids.length < 2) return gt.say("Tick at least one other offer to compare with.", "info");
    try {
      showComparison(await gt.api("POST", "/bills/compare", { tariff_ids: ids, ...body() }));
    } catch (err) {
      refused(err);
    }
  }

  function onTariff() {
    const t = chosen();
    if (!t) return;
    const start = $("period-start").value;
    const inside = start && start >= t.valid_from && (t.valid_to === "open" || start < t.valid_to);
    if (!inside) {
      $("period-start").value = t.valid_from;
      $("period-end").value = addMonth(t.valid_from);
    }
    renderOffers();
    renderProperties();
  }

  function onSource() {
    const point = $("source-point").checked;
    $("point-fields").hidden = !point;
    $("values-fields").hidden = point;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    const me = await gt.whoAmI().catch(() => null);
    if (!me) return;
    try {
      const [list, points] = await Promise.all([gt.api("GET", "/tariffs"), gt.api("GET", "/points")]);
      tariffs = new Map(list.tariffs.map((t) => [t.id, t]));
      const select = $("tariff");
      for (const t of list.tariffs) {
        const validity = `${t.valid_from} to ${t.valid_to}`;
        select.append(gt.el("option", { value: t.id }, `${t.name} (${t.currency}; ${validity})`));
      }
      const usable = points.points.filter((p) => p.quantity === "energy" || p.quantity === "p");
      $("point").append(...usable.map((p) => gt.el("option", { value: p.point_id }, `${p.point_id} (${p.quantity}, ${p.unit})`)));
      if (!usable.length) $("source-point").disabled = true;
      onTariff();
    } catch (err) {
      refused(err);
      return;
    }
    $("tariff").addEventListener("change", onTariff);
    for (const r of document.querySelectorAll("input[name=source]")) r.addEventListener("change", onSource);
    $("energy").addEventListener("input", countValues);
    $("energy-file").addEventListener("change", (e) => e.target.files[0] && readFile(e.target.files[0]));
    $("fill-flat").addEventListener("click", fillFlat);
    $("bill-form").addEventListener("submit", billIt);
    $("compare-submit").addEventListener("click", compareIt);
    document.body.dataset.ready = "yes";
  });
})();
