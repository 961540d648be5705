// startSandbox(): runs the cleverfox-sandbox binary this package carries on a
// free port, with its own certificates directory, and resolves once its
// banner has given the URL, the CA and the API keys. No dependencies.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The binary carried by this package. */
export const binaryPath = join(dirname(fileURLToPath(import.meta.url)), "bin", "cleverfox-sandbox");

const KEY_LINE = /^ {4}(\S+)\s{2,}((?:partner|admin).*)$/;

/**
 * Starts the sandbox. Options: `fixtures` (a directory or bundle file; default: the
 * fixtures built into the binary), `args` (more command line options), `binary`,
 * `timeoutMs` (default 30000).
 */
export function startSandbox(options = {}) {
  const { fixtures, args = [], binary = binaryPath, timeoutMs = 30000 } = options;
  const workdir = mkdtempSync(join(tmpdir(), "cleverfox-sandbox-"));
  const cmd = ["--bind", "127.0.0.1:0", "--certs", join(workdir, "certs"), "--no-watch"];
  if (fixtures !== undefined) cmd.push("--fixtures", resolve(fixtures));
  cmd.push(...args);
  // started in an empty directory: no ./fixtures there but the one asked for
  const child = spawn(binary, cmd, { cwd: workdir, stdio: ["ignore", "pipe", "pipe"] });
  const cleanup = () => rmSync(workdir, { recursive: true, force: true });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  let stderr = "";
  child.stderr.on("data", (d) => {
    if (stderr.length < 64 * 1024) stderr += d;
  });

  return new Promise((resolvePromise, reject) => {
    const banner = [];
    const keys = {};
    let baseUrl;
    let caPath;
    let done = false;
    let quiet;
    const lines = createInterface({ input: child.stdout });
    const timer = setTimeout(() => fail(new Error(`no banner within ${timeoutMs} ms: ${banner.join("\n")}`)), timeoutMs);

    function fail(err) {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(quiet);
      child.kill("SIGKILL");
      process.removeListener("exit", killOnExit);
      cleanup();
      reject(err);
    }

    function ready() {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(quiet);
      const entries = Object.entries(keys);
      const partnerKey = entries.find(([, d]) => d.startsWith("partner ") && !d.includes("answers 403"))?.[0];
      const adminKey = entries.find(([, d]) => d.startsWith("admin"))?.[0];
      const exited = new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", () => r())));
      resolvePromise({
        baseUrl,
        caPath,
        ca: caPath ? readFileSync(caPath, "utf8") : undefined,
        keys,
        partnerKey,
        adminKey,
        banner: banner.join("\n"),
        process: child,
        /** The base URL of session `name` (created on its first request). */
        sessionUrl: (name) => `${baseUrl}/s/${name}`,
        /** Stops the sandbox (SIGTERM) and removes its certificates directory. */
        async stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
          await exited;
          process.removeListener("exit", killOnExit);
          cleanup();
        },
      });
    }

    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`the sandbox exited (${code}): ${stderr.trim()}`)));
    lines.on("line", (line) => {
      banner.push(line);
      const url = line.match(/(https:\/\/[^/\s]+)\/api\//);
      if (url && !baseUrl) baseUrl = url[1];
      if (line.startsWith("  Trust:")) caPath = line.slice(8).trim().split("  (")[0].trim();
      const key = line.match(KEY_LINE);
      if (key) keys[key[1]] = key[2];
      if (line.trim().startsWith("curl ")) ready();
      else if (line.startsWith("  API keys") || key) {
        // a banner without a curl line (no partner key) ends with its key list
        clearTimeout(quiet);
        quiet = setTimeout(() => baseUrl && ready(), 2000);
      }
    });
  });
}
