/**
 * Jest global setup: the temporary folders tests make (data folders, Redis folders, browser
 * profiles) go to memory, /dev/shm, when the machine has one with room; TMPDIR is set before the
 * workers start, and they and anything they spawn inherit it.
 *
 * Why: every Waypoint a test starts opens a fresh store, and the store makes its 256 shard folders
 * on open. On an ext4 disk that takes about 0.3 s, on tmpfs about 0.01 s, and the suite opens a
 * store several hundred times. The files are as real on tmpfs; what differs is only what a power
 * cut would keep, and no test simulates one (kill -9 behaves the same).
 *
 * A TMPDIR the caller set is left alone, as is a machine without /dev/shm (or with a small one,
 * such as a container's 64 MB default). The folder is kept between runs, so tools that cache
 * under TMPDIR (tsx) stay warm; each test removes what it made, as before.
 */
import { mkdirSync, statSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import process from 'node:process';

const SHM = '/dev/shm';
const ENOUGH_BYTES = 1024 ** 3;

export default function tempInMemory() {
  if (process.env.TMPDIR || process.platform !== 'linux') return;
  try {
    const { bavail, bsize } = statfsSync(SHM);
    if (bavail * bsize < ENOUGH_BYTES) return;
    const { uid } = os.userInfo();
    const folder = path.join(SHM, `waypoint-tests-${uid}`);
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    // /dev/shm is shared by every user: only a folder of our own, that nobody else can enter, will do.
    const made = statSync(folder);
    if (made.uid !== uid || (made.mode & 0o077) !== 0) return;
    process.env.TMPDIR = folder;
  } catch {
    // No usable /dev/shm: the default temporary folder it is.
  }
}
