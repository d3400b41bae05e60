/**
 * The memory of a Waypoint child process after a full garbage collection, through the Node
 * inspector on a loopback port. Without the collection, "heap used" and RSS move with the
 * collector's timing (in a 3-minute trial the committed heap went 180 -> 386 MB while the live
 * heap stayed at ~110 MB), which says nothing about a leak.
 *
 * The child must run with NODE_OPTIONS=--inspect=127.0.0.1:0 (INSPECT_ON_LOOPBACK): Node prints
 * the inspector's address on stderr, which waypointProcess.ts collects.
 */
import WebSocket from 'ws';
import type { WaypointProcess } from '../support/waypointProcess.js';

export const INSPECT_ON_LOOPBACK = '--inspect=127.0.0.1:0';

export interface MemoryAfterGc {
  readonly rssMb: number;
  readonly heapUsedMb: number;
  readonly heapTotalMb: number;
  readonly externalMb: number;
}

const INSPECTOR = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/[\w-]+)/;
const CALL_TIMEOUT_MS = 30_000;

export async function memoryAfterGc(waypoint: WaypointProcess): Promise<MemoryAfterGc> {
  const url = waypoint.output().match(INSPECTOR)?.[1];
  if (!url) throw new Error(`the process was not started with ${INSPECT_ON_LOOPBACK}`);
  const socket = new WebSocket(url);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    let nextId = 0;
    const call = (method: string, params: Record<string, unknown> = {}) =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const id = ++nextId;
        const timer = setTimeout(() => reject(new Error(`inspector: no answer to ${method}`)), CALL_TIMEOUT_MS);
        const onMessage = (data: Buffer) => {
          const message = JSON.parse(data.toString('utf8')) as { id?: number; result?: Record<string, unknown>; error?: { message: string } };
          if (message.id !== id) return;
          clearTimeout(timer);
          socket.off('message', onMessage);
          if (message.error) reject(new Error(`inspector: ${method}: ${message.error.message}`));
          else resolve(message.result ?? {});
        };
        socket.on('message', onMessage);
        socket.send(JSON.stringify({ id, method, params }));
      });
    await call('HeapProfiler.collectGarbage');
    const evaluated = await call('Runtime.evaluate', { expression: 'JSON.stringify(process.memoryUsage())', returnByValue: true });
    const usage = JSON.parse((evaluated.result as { value: string }).value) as NodeJS.MemoryUsage;
    const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
    return { rssMb: mb(usage.rss), heapUsedMb: mb(usage.heapUsed), heapTotalMb: mb(usage.heapTotal), externalMb: mb(usage.external) };
  } finally {
    socket.terminate();
  }
}
