
"use strict";
// The sandbox console: plain JavaScript over the control API of this origin.
// The browser re-sends the Basic credentials it was asked for on every call.

(function () {
  const $ = (id) => document.getElementById(id);
  const here = location.pathname.match(/^(\/s\/[A-Za-z0-9_.-]{1,64})?\/_sandbox\/console\/?$/);
  let base = here && here[1] ? here[1] : "";
  const JOURNAL_POLL_MS = 500;
  const HEALTH_POLL_MS = 1000;
  const JOURNAL_SHOWN = 200;

  // ------------------------------------------------------------ helpers

  /** An element with attributes and children (text is always text). */
  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") e.className = v;
      else if (k === "text") e.textContent = v;
      else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v === true ? "" : v);
    }
    for (const c of children.flat()) {
      if (c === null || c === undefined) continue;
      e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return e;
  }

  /** Calls the control API of the current session: {status, body}. */
  async function call(path, method, body, root) {
    const init = { method: method || "GET", headers: {}, credentials: "same-origin" };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = typeof body === "string" ? body : JSON.stringify(body);
    }
    const r = await fetch((root ? "" : base) + "/_sandbox/" + path, init);
    const text = await r.text();
    let parsed = text;
    try { parsed = text ? JSON.parse(text) : null; } catch (_) { /* not JSON */ }
    return { status: r.status, body: parsed };
  }

  /** The sentences of an error answer. */
  function errors(r) {
    if (r.body && Array.isArray(r.body.errors)) return r.body.errors;
    return ["The sandbox answered " + r.status + "."];
  }

  /** Shows a message (or a list of errors) in a message area. */
  function say(id, text, isError) {
    const box = $(id);
    box.replaceChildren();
    box.className = "msg" + (isError ? " error" : "");
    if (Array.isArray(text)) {
      box.append(el("ul", {}, text.map((t) => el("li", { text: t }))));
    } else if (text) {
      box.textContent = text;
    }
  }

  function pretty(v) {
    if (v === null || v === undefined) return "(none)";
    if (typeof v === "string") {
      try { return JSON.stringify(JSON.parse(v), null, 2); } catch (_) { return v; }
    }
    return JSON.stringify(v, null, 2);
  }

  function statusClass(s) { return "s" + String(s).charAt(0); }

  // ------------------------------------------------------------ tabs

  let current = "requests";
  const loaders = {};
  function show(tab) {
    current = tab;
    for (const b of document.querySelectorAll("#tabs button")) {
      if (b.dataset.tab === tab) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
    }
    for (const s of document.querySelectorAll("main > section")) s.hidden = s.id !== tab;
    if (loaders[tab]) loaders[tab]();
  }
  for (const b of document.querySelectorAll("#tabs button")) {
    b.addEventListener("click", () => show(b.dataset.tab));
  }

  // ------------------------------------------------------------ health

  let counts = {};
  async function health() {
    let r;
    try { r = await call("health"); } catch (e) { setStatus("unreachable", "degraded"); return; }
    if (r.status !== 200) { setStatus("health " + r.status, "degraded"); return; }
    const h = r.body;
    counts = h.counts || {};
    setStatus(h.status + (base ? " · session " + base.slice(3) : ""), h.status);
    const box = $("problem");
    if (h.error) {
      const others = (h.problems || []).slice(1);
      box.replaceChildren(
        el("strong", { text: "The last fixture reload failed; the sandbox serves the last good data." }),
        el("span", { class: "where", text: "file " + h.error.file + ", line " + h.error.line + ", column " + h.error.column }),
        el("pre", { text: h.error.message }),
        ...(others.length ? [el("p", { text: "and " + others.length + " more:" }), el("ul", {}, others.map((p) => el("li", { text: p })))] : []),
      );
      box.hidden = false;
    } else if (h.watch_error) {
      box.replaceChildren(el("strong", { text: "Watching the fixtures stopped: " + h.watch_error }));
      box.hidden = false;
    } else {
      box.hidden = true;
      box.replaceChildren();
    }
    if (current === "health") drawHealth(h);
    fillCollections();
  }
  function setStatus(text, cls) {
    const s = $("status");
    s.textContent = text;
    s.className = "badge " + (cls || "");
  }
  function drawHealth(h) {
    const facts = [["status", h.status], ["version", h.version], ["fixtures", h.fixtures],
      ["loaded at", h.loaded_at], ["watching", String(h.watching)], ["sessions", h.sessions]];
    $("health-facts").replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v === undefined ? "" : v })]));
    $("health-counts").replaceChildren(...Object.entries(h.counts || {}).flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: v })]));
  }
  loaders.health = health;
  $("reset").addEventListener("click", async () => {
    const r = await call("reset", "POST");
    if (r.status === 200) say("health-msg", "Reloaded: " + r.body.records + " records.");
    else say("health-msg", errors(r), true);
    health();
  });

  // ------------------------------------------------------------ requests

  let lastId = 0;
  let filterQuery = "";
  function journalQuery() {
    const q = new URLSearchParams();
    if ($("f-method").value) q.set("method", $("f-method").value);
    if ($("f-path").value.trim()) q.set("path", $("f-path").value.trim());
    if ($("f-status").value.trim()) q.set("status", $("f-status").value.trim());
    return q;
  }
  function entry(e) {
    const path = e.path + (e.query ? "?" + e.query : "");
    return el("li", { "data-id": e.id },
      el("details", {},
        el("summary", {},
          el("span", { class: "m", text: e.method }), " ", el("code", { text: path }), " ",
          el("span", { class: statusClass(e.status), text: e.status === 0 ? "closed" : e.status }), " ",
          el("span", { class: "when", text: e.time + " · " + Number(e.duration_ms).toFixed(1) + " ms · #" + e.id +
            (e.partner_id !== null ? " · partner " + e.partner_id : " · no partner") })),
        el("h3", { text: "Request body" }), el("pre", { text: pretty(e.request_body) }),
        el("h3", { text: "Response body" }), el("pre", { text: pretty(e.response_body) })));
  }
  let polling = false;
  async function pollJournal() {
    if (polling) return;
    polling = true;
    try {
      const q = new URLSearchParams(filterQuery);
      if (lastId) q.set("after", String(lastId));
      const r = await call("requests?" + q.toString());
      if (r.status !== 200) { say("requests-msg", errors(r), true); return; }
      const fresh = r.body.data || [];
      if (fresh.length) {
        lastId = Math.max(lastId, ...fresh.map((e) => e.id));
        const list = $("requests-list");
        list.prepend(...fresh.map(entry));
        while (list.children.length > JOURNAL_SHOWN) list.lastElementChild.remove();
      }
      if (!$("requests-list").children.length) say("requests-msg", "No requests yet.");
      else if ($("requests-msg").textContent === "No requests yet.") say("requests-msg", "");
    } catch (e) {
      say("requests-msg", "Cannot reach the sandbox: " + e.message, true);
    } finally {
      polling = false;
    }
  }
  function restartJournal() {
    lastId = 0;
    $("requests-list").replaceChildren();
    say("requests-msg", "");
    pollJournal();
  }
  $("requests-filter").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const s = $("f-status").value.trim();
    if (s && !/^[0-9]{3}$/.test(s)) { say("requests-msg", ["Status must be a status code such as 422."], true); return; }
    filterQuery = journalQuery().toString();
    restartJournal();
  });
  $("requests-clear").addEventListener("click", async () => {
    const r = await call("requests", "DELETE");
    if (r.status !== 200) say("requests-msg", errors(r), true);
    restartJournal();
  });
  loaders.requests = pollJournal;

  // ------------------------------------------------------------ data

  const COLLECTIONS = ["companies", "partners", "partnerusers", "companyusers", "subscriptions", "devices",
    "jobs", "jobitems", "logs", "logitems", "events", "plans", "plantypes", "backuptypes"];
  const view = { coll: "companies", q: "", id: null, page: 1, size: 25 };
  function fillCollections() {
    const sel = $("d-coll");
    if (!sel.options.length) for (const c of COLLECTIONS) sel.append(el("option", { value: c, text: c }));
    for (const o of sel.options) o.textContent = o.value + (o.value in counts ? " (" + counts[o.value] + ")" : "");
  }
  function valueNode(v) {
    if (v !== null && typeof v === "object") return el("pre", { text: JSON.stringify(v, null, 2) });
    return el("span", { text: v === null ? "null" : String(v) });
  }
  function record(page, rec) {
    const id = rec[page.key];
    const links = new Map((page.links || []).map((l) => [l.attribute, l.collection]));
    const name = rec.Name || rec.CompanyName || rec.Email || rec.FirstName && (rec.FirstName + " " + (rec.LastName || "")) || rec.Description || "";
    const rows = Object.entries(rec).flatMap(([k, v]) => {
      let dd;
      if (links.has(k) && v !== null) {
        const target = links.get(k);
        dd = el("dd", {}, el("button", { type: "button", class: "link",
          "aria-label": "Open " + target + " " + v, text: target + " #" + v,
          onclick: () => openData(target, "", v) }));
      } else dd = el("dd", {}, valueNode(v));
      return [el("dt", { text: k }), dd];
    });
    return el("li", {}, el("details", {},
      el("summary", {}, el("strong", { text: page.key + " " + id }), name ? " · " + name : ""),
      el("dl", { class: "attrs" }, rows)));
  }
  async function loadData() {
    fillCollections();
    $("d-coll").value = view.coll;
    const q = new URLSearchParams({ page: view.page, page_size: view.size });
    if (view.q) q.set("q", view.q);
    if (view.id !== null) q.set("id", view.id);
    const r = await call("data/" + view.coll + "?" + q.toString());
    if (r.status === 404) { say("data-msg", "The data view is not available on this server.", true); return; }
    if (r.status !== 200) { say("data-msg", errors(r), true); return; }
    const page = r.body;
    const pages = Math.max(1, Math.ceil(page.total / page.page_size));
    $("data-list").replaceChildren(...page.data.map((rec) => record(page, rec)));
    $("d-page").textContent = "page " + page.page_no + " of " + pages;
    $("d-prev").disabled = page.page_no <= 1;
    $("d-next").disabled = page.page_no >= pages;
    const what = view.id !== null ? page.key + " " + view.id : view.q ? "matching \u201c" + view.q + "\u201d" : "";
    say("data-msg", page.total + " " + page.collection + (what ? " " + what : "") + ".");
    if (view.id !== null) {
      $("data-msg").append(" ", el("button", { type: "button", class: "link", text: "Show all " + page.collection,
        onclick: () => openData(view.coll, "", null) }));
      const first = $("data-list").querySelector("details");
      if (first) first.open = true;
    }
  }
  function openData(coll, q, id) {
    Object.assign(view, { coll, q, id, page: 1 });
    $("d-q").value = q;
    if (current !== "data") show("data"); else loadData();
  }
  $("data-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    openData($("d-coll").value, $("d-q").value.trim(), null);
  });
  $("d-coll").addEventListener("change", () => openData($("d-coll").value, "", null));
  $("d-prev").addEventListener("click", () => { view.page = Math.max(1, view.page - 1); loadData(); });
  $("d-next").addEventListener("click", () => { view.page += 1; loadData(); });
  loaders.data = loadData;

  // ------------------------------------------------------------ clock

  function drawClock(c) {
    $("clock-now").textContent = c.now;
    const off = c.offset_seconds;
    $("clock-offset").textContent = off === 0 ? "real time" : (off > 0 ? "+" : "") + off + " s from real time";
  }
  async function loadClock() {
    const r = await call("clock");
    if (r.status === 200) drawClock(r.body); else say("clock-msg", errors(r), true);
  }
  async function moveClock(body, what) {
    const r = await call("clock", "POST", body);
    if (r.status !== 200) { say("clock-msg", errors(r), true); return; }
    drawClock(r.body);
    say("clock-msg", what + "." + ("runs" in r.body ? " The schedule wrote " + r.body.runs + " run" + (r.body.runs === 1 ? "" : "s") + "." : ""));
  }
  for (const b of document.querySelectorAll("[data-advance]")) {
    b.addEventListener("click", () => moveClock({ advance: Number(b.dataset.advance) }, "Moved " + b.textContent));
  }
  $("clock-real").addEventListener("click", () => moveClock({ set: "now" }, "Back to real time"));
  $("clock-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    let v = $("clock-set").value.trim();
    if (/^\d{4}-\d{2}-\d{2}$/.test(v)) v += "T00:00:00.000";
    else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v)) v += ":00.000";
    else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/.test(v)) v += ".000";
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}$/.test(v)) {
      say("clock-msg", ["Write the time as YYYY-MM-DD, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS.mmm (UTC)."], true);
      return;
    }
    moveClock({ set: v }, "Set to " + v);
  });
  loaders.clock = loadClock;

  // ------------------------------------------------------------ faults

  function describeRule(r) {
    const when = [r.method || "any method", r.path ? "under " + r.path : "any path", r.partner ? "partner " + r.partner : "any partner"].join(", ");
    const rest = Object.entries(r).filter(([k]) => !["id", "method", "path", "partner"].includes(k))
      .map(([k, v]) => k + " " + JSON.stringify(v)).join(", ");
    return when + " → " + rest;
  }
  async function loadFaults() {
    const r = await call("faults");
    if (r.status !== 200) { say("faults-msg", errors(r), true); return; }
    const rules = r.body.data || [];
    $("faults-list").replaceChildren(...rules.map((rule) => el("li", {},
      el("span", { text: "#" + rule.id + " " + describeRule(rule) }), " ",
      el("button", { type: "button", class: "danger", "aria-label": "Delete rule " + rule.id, text: "Delete",
        onclick: async () => {
          const d = await call("faults/" + rule.id, "DELETE");
          if (d.status !== 200) say("faults-msg", errors(d), true); else say("faults-msg", "Rule " + rule.id + " deleted.");
          loadFaults();
        } }))));
    if (!rules.length) $("faults-list").append(el("li", { text: "No rules: every request is served normally." }));
  }
  function wholeNumber(id, label, problems) {
    const v = $(id).value.trim();
    if (!v) return undefined;
    if (!/^[0-9]+$/.test(v)) { problems.push(label + " must be a whole number, not \u201c" + v + "\u201d."); return undefined; }
    return Number(v);
  }
  $("fault-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const problems = [];
    const rule = {};
    if ($("r-method").value) rule.method = $("r-method").value;
    if ($("r-path").value.trim()) rule.path = $("r-path").value.trim();
    const partner = wholeNumber("r-partner", "PartnerId", problems);
    if (partner !== undefined) rule.partner = partner;
    const action = $("r-action").value;
    const value = wholeNumber("r-value", "Status, delay or limit", problems);
    if (action === "close") rule.close = true;
    else if (value === undefined) problems.push("Give a " + ({ status: "status", latency_ms: "delay in ms", rate_limit: "limit" })[action] + ".");
    else rule[action] = value;
    if (action === "rate_limit") {
      const w = wholeNumber("r-window", "Window", problems);
      if (w === undefined) problems.push("A rate limit needs a window in seconds.");
      else rule.window_s = w;
    }
    const body = $("r-body").value.trim();
    if (body) {
      if (action !== "status") problems.push("A body goes only with a status.");
      else {
        try { rule.body = JSON.parse(body); } catch (e) { problems.push("The body is not valid JSON: " + e.message); }
      }
    }
    const times = wholeNumber("r-times", "Times", problems);
    if (times !== undefined) rule.times = times;
    if (problems.length) { say("faults-msg", problems, true); return; }
    const r = await call("faults", "POST", rule);
    if (r.status !== 201) { say("faults-msg", errors(r), true); return; }
    say("faults-msg", "Rule " + r.body.id + " added: " + describeRule(r.body));
    loadFaults();
  });
  $("faults-clear").addEventListener("click", async () => {
    const r = await call("faults", "DELETE");
    if (r.status !== 200) say("faults-msg", errors(r), true); else say("faults-msg", "Every rule removed.");
    loadFaults();
  });
  loaders.faults = loadFaults;

  // ------------------------------------------------------------ schedule and compat

  function settings(name, label) {
    const form = $(name + "-form"), text = $(name + "-json"), msg = name + "-msg";
    async function load() {
      const r = await call(name);
      if (r.status === 404) {
        form.hidden = true;
        say(msg, label + " settings are not available on this server.");
        return;
      }
      form.hidden = false;
      if (r.status !== 200) { say(msg, errors(r), true); return; }
      text.value = JSON.stringify(r.body, null, 2);
      say(msg, "");
    }
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      let value;
      try { value = JSON.parse(text.value); } catch (e) { say(msg, [label + " settings are not valid JSON: " + e.message], true); return; }
      const r = await call(name, "PUT", value);
      if (r.status < 200 || r.status > 299) { say(msg, errors(r), true); return; }
      await load();
      say(msg, label + " settings saved.");
    });
    loaders[name] = load;
  }
  settings("schedule", "Schedule");
  settings("compat", "Compat");

  // ------------------------------------------------------------ outbox

  async function loadOutbox() {
    const r = await call("outbox");
    if (r.status !== 200) { say("outbox-msg", errors(r), true); return; }
    const mails = r.body.data || [];
    say("outbox-msg", mails.length ? "" : "No e-mails.");
    $("outbox-list").replaceChildren(...mails.map((m) => el("li", {}, el("details", {},
      el("summary", {}, el("strong", { text: m.subject }), " to " + m.to, " ", el("span", { class: "when", text: m.time })),
      el("dl", { class: "attrs" }, ["to", "cc", "bcc", "time"].flatMap((k) => [el("dt", { text: k }), el("dd", { text: m[k] === null ? "" : m[k] })])),
      el("pre", { text: m.body })))));
  }
  $("outbox-clear").addEventListener("click", async () => {
    const r = await call("outbox", "DELETE");
    if (r.status !== 200) say("outbox-msg", errors(r), true);
    loadOutbox();
  });
  loaders.outbox = loadOutbox;

  // ------------------------------------------------------------ sessions

  function switchTo(name) {
    base = name === "default" ? "" : "/s/" + name;
    history.replaceState(null, "", base + "/_sandbox/console");
    $("session").value = name;
    restartJournal();
    health();
    say("sessions-msg", "The console now shows session " + name + ".");
    if (loaders[current] && current !== "requests") loaders[current]();
  }
  async function loadSessions() {
    const r = await call("sessions", "GET", undefined, true);
    if (r.status === 404) { say("sessions-msg", "Sessions are not available on this server."); return; }
    if (r.status !== 200) { say("sessions-msg", errors(r), true); return; }
    const list = r.body.data || [];
    const mine = base ? base.slice(3) : "default";
    const sel = $("session");
    sel.replaceChildren(...list.map((s) => el("option", { value: s.name, text: s.name })));
    if (!list.some((s) => s.name === mine)) sel.append(el("option", { value: mine, text: mine }));
    sel.value = mine;
    if (current !== "sessions") return;
    $("sessions-list").replaceChildren(...list.map((s) => el("li", {},
      el("strong", { text: s.name }), s.name === mine ? " (shown)" : "",
      el("dl", { class: "attrs" }, ["created_at", "last_used_at", "expires_at", "from", "changes"]
        .flatMap((k) => [el("dt", { text: k.replace(/_/g, " ") }), el("dd", { text: s[k] === null || s[k] === undefined ? "" : s[k] })])),
      el("p", { class: "buttons" },
        el("button", { type: "button", "aria-label": "Open session " + s.name, text: "Open", disabled: s.name === mine,
          onclick: () => switchTo(s.name) }),
        s.name === "default" ? null : el("button", { type: "button", class: "danger", "aria-label": "End session " + s.name, text: "End",
          onclick: async () => {
            const d = await call("sessions/" + encodeURIComponent(s.name), "DELETE", undefined, true);
            if (d.status !== 200) say("sessions-msg", errors(d), true);
            else { say("sessions-msg", "Session " + s.name + " ended."); if (s.name === mine) switchTo("default"); }
            loadSessions();
          } })))));
  }
  $("session").addEventListener("change", () => switchTo($("session").value));
  $("new-session").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("s-name").value.trim();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(name)) {
      say("sessions-msg", ["A session name is 1 to 64 letters, digits, '_', '.' or '-'."], true);
      return;
    }
    const body = { name };
    if ($("s-from").value.trim()) body.from = $("s-from").value.trim();
    const r = await call("sessions", "POST", body, true);
    if (r.status !== 201) { say("sessions-msg", errors(r), true); return; }
    await loadSessions();
    switchTo(name);
  });
  loaders.sessions = loadSessions;

  // ------------------------------------------------------------ start

  health();
  loadSessions();
  show("requests");
  setInterval(() => { if (current === "requests" && !document.hidden) pollJournal(); }, JOURNAL_POLL_MS);
  setInterval(() => { if (!document.hidden) health(); }, HEALTH_POLL_MS);
})();
