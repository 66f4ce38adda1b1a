// gridtwin console: the token, API calls and the alarm event stream (no libraries).
"use strict";

const gt = (() => {
  const KEY = "gridtwin.token";
  const API = "/api/v1";

  function token() {
    return sessionStorage.getItem(KEY);
  }

  function setToken(value) {
    sessionStorage.setItem(KEY, value);
  }

  function forget() {
    sessionStorage.removeItem(KEY);
  }

  function toLogin() {
    const next = location.pathname === "/login" ? "/alarms" : location.pathname + location.search;
    location.assign("/login?next=" + encodeURIComponent(next));
  }

  // Show (or with "" hide) the page's message; kind: "error" or "info".
  function say(text, kind = "error") {
    const box = document.getElementById("message");
    if (!box) return;
    box.textContent = text;
    box.className = "message " + kind;
    box.hidden = text === "";
  }

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
      this.detail = detail;
    }
  }

  async function detailOf(response) {
    try {
      const body = await response.json();
      if (typeof body.detail === "string") return body.detail;
      return JSON.stringify(body.detail ?? body);
    } catch {
      return response.statusText;
    }
  }

  // Call the API with the bearer token; JSON in, JSON out. A 401 sends to the login page.
  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    const t = token();
    if (t) headers.Authorization = "Bearer " + t;
    const init = { method, headers };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(API + path, init);
    if (response.status === 401) {
      forget();
      toLogin();
      throw new ApiError(401, await detailOf(response));
    }
    if (!response.ok) throw new ApiError(response.status, await detailOf(response));
    return response.status === 204 ? null : response.json();
  }

  // Read GET /alarms/stream with fetch (EventSource cannot send the bearer header).
  // onEvent({id, event, data}) per message; reconnects with Last-Event-ID after an end.
  function alarmStream(onEvent, onStatus) {
    let lastId = null;
    let stopped = false;
    let controller = null;

    function dispatch(block) {
      const msg = { id: null, event: "message", data: "" };
      let hasField = false;
      for (const line of block.split("\n")) {
        if (line === "" || line.startsWith(":")) continue;
        const i = line.indexOf(":");
        const name = i < 0 ? line : line.slice(0, i);
        let value = i < 0 ? "" : line.slice(i + 1);
        if (value.startsWith(" ")) value = value.slice(1);
        hasField = true;
        if (name === "data") msg.data = msg.data ? msg.data + "\n" + value : value;
        else if (name === "event") msg.event = value;
        else if (name === "id") msg.id = value;
      }
      if (!hasField) return;
      if (msg.id !== null) lastId = msg.id;
      if (msg.event === "overflow") {
        try {
          lastId = String(JSON.parse(msg.data).last_event_id);
        } catch {
          /* keep the last id seen */
        }
      }
      onEvent(msg);
    }

    async function once() {
      const headers = { Accept: "text/event-stream", Authorization: "Bearer " + token() };
      if (lastId !== null) headers["Last-Event-ID"] = lastId;
      controller = new AbortController();
      const response = await fetch(API + "/alarms/stream", { headers, signal: controller.signal });
      if (response.status === 401) {
        forget();
        toLogin();
        stopped = true;
        return;
      }
      if (!response.ok || !response.body) throw new ApiError(response.status, "stream refused");
      onStatus("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, "\n");
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, cut));
          buffer = buffer.slice(cut + 2);
        }
      }
    }

    async function run() {
      while (!stopped) {
        try {
          await once();
          if (!stopped) onStatus("reconnecting");
        } catch (err) {
          if (stopped) return;
          onStatus("reconnecting (" + (err.message || "error") + ")");
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }

    run();
    return () => {
      stopped = true;
      if (controller) controller.abort();
    };
  }

  // Calls fn at most once per `wait_ms`, the last call always landing.
  function debounce(fn, wait_ms) {
    let timer = null;
    return () => {
      if (timer !== null) return;
      timer = setTimeout(() => {
        timer = null;
        fn();
      }, wait_ms);
    };
  }

  // The signed-in user (null without a token: then the page goes to the login page).
  async function whoAmI() {
    if (!token()) {
      toLogin();
      return null;
    }
    const me = await api("GET", "/auth/me");
    const who = document.getElementById("who");
    if (who) who.textContent = me.username + " (" + me.role + ")";
    return me;
  }

  async function logout() {
    const t = token();
    if (t) {
      try {
        const me = await api("GET", "/auth/me");
        await api("DELETE", "/auth/tokens/" + encodeURIComponent(me.token_id));
      } catch {
        /* the token is forgotten below anyway */
      }
    }
    forget();
    location.assign("/login");
  }

  function el(tag, attrs = {}, text) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function utc(iso) {
    return iso ? iso.replace("T", " ").replace(/:00Z$|Z$/, "") : "-";
  }

  document.addEventListener("DOMContentLoaded", () => {
    const button = document.getElementById("logout");
    if (button) button.addEventListener("click", logout);
  });

  // Whether user `me` (from GET /auth/me) has `role` or higher (the API decides anyway).
  const ROLE_RANK = { viewer: 0, operator: 1, analyst: 2, admin: 3 };
  function mayAct(me, role) {
    return Boolean(me) && (ROLE_RANK[me.role] ?? -1) >= ROLE_RANK[role];
  }

  return { api, alarmStream, ApiError, debounce, el, forget, say, setToken, token, utc, whoAmI, mayAct };
})();
