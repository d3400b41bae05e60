/**
 * Live chat across two Waypoint instances for the relay benchmark: a redis-server of its own (no
 * persistence, loopback, stopped at the end), instance A where people talk through the Bot
 * Framework endpoint (replies land at a fake connector, as on one instance), and instance B where
 * counsellors sign in to the console. Every counsellor message goes B -> Redis -> A -> connector.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startWaypoint, type RunningWaypoint } from '../../../bot/index.js';
import { openStaffAccounts, type StaffRole } from '../../../bot/handover/staffAccounts.js';
import { captureLog } from '../../support/capturedLog.js';
import { startFakeConnector } from '../../support/fakeConnector.js';
import { Counsellor, PASSWORD, Person, type Rig } from '../../support/liveChatRig.js';
import { testConfig } from '../../support/testConfig.js';

export type AcrossInstances = Pick<Rig, 'connector' | 'person' | 'counsellor' | 'close'>;

export async function startLiveChatAcrossInstances(staff: readonly { name: string; role: StaffRole }[]): Promise<AcrossInstances> {
  const redis = await startBenchRedis();
  const secret = randomBytes(24).toString('base64url');
  const dataDirs: string[] = [];
  const instances: RunningWaypoint[] = [];
  for (const name of ['a', 'b']) {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), `waypoint-relay-${name}-`));
    dataDirs.push(dataDir);
    const accounts = openStaffAccounts(dataDir, { scryptCost: 2 ** 10 });
    for (const member of staff) await accounts.add(member.name, PASSWORD, member.role);
    const { log } = captureLog('warn');
    instances.push(await startWaypoint(testConfig(dataDir, { REDIS_URL: redis.url, PSEUDONYM_SECRET: secret, LOG_LEVEL: 'warn' }), log));
  }
  const [a, b] = instances as [RunningWaypoint, RunningWaypoint];
  const connector = await startFakeConnector();
  const counsellors: Counsellor[] = [];
  return {
    connector,
    person: (conversationId) => new Person({ running: a, connector }, conversationId),
    async counsellor(name) {
      const res = await fetch(`${b.url}/console/api/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name, password: PASSWORD }),
      });
      if (res.status !== 200) throw new Error(`sign-in as ${name} failed with ${res.status}`);
      const { csrfToken } = (await res.json()) as { csrfToken: string };
      const counsellor = await Counsellor.connect(b.url, (res.headers.get('set-cookie') ?? '').split(';')[0]!, csrfToken);
      counsellors.push(counsellor);
      return counsellor;
    },
    async close() {
      counsellors.forEach((c) => c.socket.terminate());
      for (const instance of instances) await instance.stop();
      await connector.close();
      await redis.stop();
      for (const dir of dataDirs) await rm(dir, { recursive: true, force: true });
    },
  };
}

/** redis-server on a free loopback port, persistence off (tests/support/redisServer.ts needs Jest). */
async function startBenchRedis(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => resolve(free));
    });
  });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-relay-redis-'));
  const child: ChildProcess = spawn(process.env.REDIS_SERVER_BIN ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += String(chunk);
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`redis-server could not run (apt-get install -y redis-server): ${error.message}`));
    });
  });
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
