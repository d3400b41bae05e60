/**
 * Waypoint as an operator runs it: `bot/index.ts` in its own Node process with the settings given
 * as environment, on a free loopback port. For tests and scripts that need several instances, a
 * crash (`kill -9`) or the time to start. The caller stops what it starts.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { REPO_ROOT } from './botHarness.js';

export interface WaypointProcess {
  readonly url: string;
  readonly pid: number;
  /** Milliseconds from spawn to the "listening" line. */
  readonly startMs: number;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
  /** SIGKILL: no shutdown, no flush, as in a crash. */
  kill(): Promise<void>;
  /** SIGTERM and wait; resolves to the exit code. */
  stop(): Promise<number | null>;
}

const LISTENING = /listening on (http:\/\/\S+)/;

/** Starts one instance; `env` is its whole configuration besides PATH, PORT=0 and HOST=127.0.0.1. */
export async function startWaypointProcess(env: Record<string, string>, { timeoutMs = 30_000 } = {}): Promise<WaypointProcess> {
  const started = performance.now();
  const child: ChildProcessWithoutNullStreams = spawn(process.execPath, ['--import', 'tsx', 'bot/index.ts'], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
  });
  let output = '';
  child.stdout.on('data', (chunk) => (output += String(chunk)));
  child.stderr.on('data', (chunk) => (output += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`Waypoint did not start within ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    const check = () => {
      const match = output.match(LISTENING);
      if (!match) return;
      clearTimeout(timer);
      child.stdout.off('data', check);
      resolve(match[1]!);
    };
    child.stdout.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`Waypoint exited (${code}) before listening:\n${output}`));
    });
  });
  const startMs = performance.now() - started;

  const stopWith = async (signal: NodeJS.Signals): Promise<number | null> => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  return {
    url,
    pid: child.pid!,
    startMs,
    output: () => output,
    kill: async () => {
      await stopWith('SIGKILL');
    },
    stop: () => stopWith('SIGTERM'),
  };
}
