import type { ChildProcess } from "node:child_process";

export interface SandboxOptions {
  /** A fixtures directory or bundle file; default: the fixtures built into the binary. */
  fixtures?: string;
  /** More command line options. */
  args?: string[];
  /** Another binary to run. */
  binary?: string;
  /** How long to wait for the banner (default 30000). */
  timeoutMs?: number;
}

export interface Sandbox {
  /** https://localhost:PORT */
  baseUrl: string;
  /** The CA to trust, as PEM text, and its file. */
  ca: string | undefined;
  caPath: string | undefined;
  /** Every API key of the banner, with what it is. */
  keys: Record<string, string>;
  partnerKey: string | undefined;
  adminKey: string | undefined;
  banner: string;
  process: ChildProcess;
  /** The base URL of session `name` (created on its first request). */
  sessionUrl(name: string): string;
  stop(): Promise<void>;
}

export const binaryPath: string;
export function startSandbox(options?: SandboxOptions): Promise<Sandbox>;
