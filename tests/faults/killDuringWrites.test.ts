/**
 * The bounded version of `npm run faults`: one Waypoint process under load is killed with
 * SIGKILL in the middle of its writes, and restarted on the same data folder. Every store file
 * must still be whole, the restart must succeed and clear steno's temp files, and every turn the
 * service acknowledged (its POST answered) must be in the store.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import type { WaypointProcess } from '../support/waypointProcess.js';
import { runKillDuringWrites } from './killDuringWritesRun.js';

describe('kill -9 during heavy writes', () => {
  let dataDir: string;
  let latest: WaypointProcess | undefined;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'waypoint-kill-'));
  });

  afterEach(async () => {
    // Only does anything when the test gave up half-way: a run stops its processes itself.
    await latest?.kill();
    await rm(dataDir, { recursive: true, force: true });
  });

  // Two process starts (~4 s each on an idle machine) and ~2 s of load; the limit allows for a busy one.
  it('loses no acknowledged state and leaves only whole files', async () => {
    const result = await runKillDuringWrites({ dataDir, rounds: 1, people: 40, killAfterTurns: 200, maxPauseMs: 20, onProcess: (p) => (latest = p) });

    expect(result.errors).toEqual([]);
    const [round] = result.rounds;
    expect(round!.acknowledgedTurns).toBeGreaterThanOrEqual(200);
    expect(round!.storeFiles).toBeGreaterThan(0);
    expect(round!.brokenFiles).toEqual([]);
    expect(round!.tempFilesAfterRestart).toBe(0);
    expect(result.finalExitCode).toBe(0);
    expect(result.store.problems).toEqual([]);
    // The check must have had something to check: people at a known module step with nothing in flight.
    expect(result.store.exact).toBeGreaterThan(0);
    expect(result.store.consent).toBeGreaterThan(0);
  }, 90_000);
});
