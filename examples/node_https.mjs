// The CleverFox API from Node (no packages): list, read, create and delete a company.
// usage: node examples/node_https.mjs [BASE_URL] [CA_FILE] [API_KEY]
import https from "node:https";
import fs from "node:fs";
import { randomUUID } from "node:crypto";

const [base = "https://localhost:8443", caFile = "certs/ca.pem", key = "demo-partner-1"] = process.argv.slice(2);
const agent = new https.Agent({ ca: fs.readFileSync(caFile), keepAlive: true });

function call(method, path, body) {
  return new Promise((resolve, reject) => {
    const req = https.request(new URL(path, base), {
      method,
      agent,
      auth: `${key}:`, // the API key is the username; the password is ignored
      headers: body ? { "Content-Type": "application/json" } : {},
      timeout: 30000,
    }, (res) => {
      let text = "";
      res.on("data", (c) => (text += c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.on("timeout", () => req.destroy(new Error("timeout")));
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

const list = await call("GET", "/api/companies?PageSize=5");
if (list.status !== 200) throw new Error(`list: ${list.status}`);
for (const c of list.json.data) console.log(" ", c.CompanyId, c.Name);

// a new Token (a GUID) on every write: a retry with the same Token cannot write twice
const created = await call("POST", "/api/companies", { PlanTypeId: 1, Name: "Example Company (Node)", Token: randomUUID() });
if (created.status !== 201) throw new Error(`create: ${created.status} ${JSON.stringify(created.json)}`);
const id = created.json.data.CompanyId;
console.log("created company", id, "at", created.headers.location);
if ((await call("GET", `/api/companies/${id}`)).status !== 200) throw new Error("read");
if ((await call("DELETE", `/api/companies/${id}`)).status !== 200) throw new Error("delete");
console.log("deleted company", id);
agent.destroy();
