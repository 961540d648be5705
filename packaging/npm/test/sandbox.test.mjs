// startSandbox() from the installed package: the URL, CA and keys it returns
// work, sessions keep their data apart, and stop() ends the process.
import { test } from "node:test";
import assert from "node:assert/strict";
import https from "node:https";
import { startSandbox } from "cleverfox-sandbox";

function call(sb, key, method, url, body) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = https.request(url, {
      method,
      ca: sb.ca,
      auth: `${key}:`,
      headers: data ? { "Content-Type": "application/json" } : {},
      timeout: 20000,
    }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode, body: text ? JSON.parse(text) : null }));
    });
    req.on("error", reject);
    req.end(data);
  });
}

test("startSandbox serves the built-in fixtures, sessions apart, and stops", async () => {
  const sb = await startSandbox();
  try {
    assert.match(sb.baseUrl, /^https:\/\/localhost:\d+$/);
    assert.equal(sb.partnerKey, "demo-partner-1");
    assert.equal(sb.adminKey, "demo-admin");
    assert.match(sb.ca, /BEGIN CERTIFICATE/);
    assert.match(sb.banner, /Fixtures: {2}embedded defaults/);

    const health = await call(sb, sb.adminKey, "GET", `${sb.baseUrl}/_sandbox/health`);
    assert.equal(health.status, 200);
    assert.equal(health.body.fixtures, "embedded defaults");

    const created = await call(sb, sb.partnerKey, "POST", `${sb.sessionUrl("node-a")}/api/companies`,
      { PlanTypeId: 1, Name: "Written in session node-a" });
    assert.equal(created.status, 201);
    const names = async (base) =>
      (await call(sb, sb.partnerKey, "GET", `${base}/api/companies?page_size=100`)).body.data.map((c) => c.Name);
    assert.ok((await names(sb.sessionUrl("node-a"))).includes("Written in session node-a"));
    assert.ok(!(await names(sb.sessionUrl("node-b"))).includes("Written in session node-a"));
    assert.ok(!(await names(sb.baseUrl)).includes("Written in session node-a"));
  } finally {
    await sb.stop();
  }
  assert.notEqual(sb.process.exitCode ?? sb.process.signalCode, null);
});

test("a fixtures path that names nothing rejects with the sandbox's error", async () => {
  await assert.rejects(startSandbox({ fixtures: "/nonexistent/fixtures" }), /no fixtures at/);
});
