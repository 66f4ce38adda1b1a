// The login page: POST /api/v1/auth/token, keep the token in this tab, go on.
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const form = document.getElementById("login-form");
  document.getElementById("username").focus();
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    gt.say("");
    const username = document.getElementById("username").value;
    const password = document.getElementById("password").value;
    const response = await fetch("/api/v1/auth/token", {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ username, password, label: "console" }),
    });
    if (response.status !== 201) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).detail;
      } catch {
        /* keep the status text */
      }
      gt.say("Login refused: " + (typeof detail === "string" ? detail : JSON.stringify(detail)));
      return;
    }
    gt.setToken((await response.json()).access_token);
    const next = new URLSearchParams(location.search).get("next") || "/alarms";
    // only a path of this console (with its query), never another site
    location.assign(/^\/[a-z][a-z/]*(\?[^#]*)?$|^\/$/.test(next) ? next : "/alarms");
  });
});
