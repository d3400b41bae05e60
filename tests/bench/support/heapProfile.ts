/**
 * What the heap holds, by kind: a V8 heap snapshot of this process, summed by constructor name
 * (objects), function name (closures) or type (strings, arrays, code...). Two of them, before
 * and after, say what a change of state added. Slow and memory-hungry: for profiling runs only.
 */
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeHeapSnapshot } from 'node:v8';

export type HeapCensus = Map<string, { count: number; bytes: number }>;

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export async function heapCensus(): Promise<HeapCensus> {
  const file = writeHeapSnapshot(path.join(os.tmpdir(), `waypoint-bench-${process.pid}-${Date.now()}.heapsnapshot`));
  try {
    const snapshot = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
    const fields = snapshot.snapshot.meta.node_fields;
    const types = snapshot.snapshot.meta.node_types[0];
    const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((field) => fields.indexOf(field)) as [number, number, number];
    const census: HeapCensus = new Map();
    for (let i = 0; i < snapshot.nodes.length; i += fields.length) {
      const type = types[snapshot.nodes[i + typeAt]!]!;
      const name = snapshot.strings[snapshot.nodes[i + nameAt]!] ?? '';
      const kind = type === 'object' ? name : type === 'closure' ? `closure ${name || '(anonymous)'}` : `(${type})`;
      const entry = census.get(kind) ?? { count: 0, bytes: 0 };
      entry.count++;
      entry.bytes += snapshot.nodes[i + sizeAt]!;
      census.set(kind, entry);
    }
    return census;
  } finally {
    await rm(file, { force: true });
  }
}

/** The kinds that grew most from `before` to `after`, per `per` (e.g. per conversation). */
export function growth(before: HeapCensus, after: HeapCensus, per: number, top = 15): { kind: string; countPer: number; bytesPer: number }[] {
  return [...after]
    .map(([kind, now]) => {
      const was = before.get(kind) ?? { count: 0, bytes: 0 };
      return { kind, countPer: Math.round(((now.count - was.count) / per) * 100) / 100, bytesPer: Math.round((now.bytes - was.bytes) / per) };
    })
    .sort((a, b) => b.bytesPer - a.bytesPer)
    .slice(0, top);
}
