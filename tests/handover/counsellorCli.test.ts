import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStaffAccounts } from '../../bot/handover/staffAccounts.js';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const PASSWORD = 'correct horse battery';

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-counsellor-cli-'));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real command with the password (if any) piped on stdin, as a script would. */
function counsellor(args: string[], input = '', viaNpm = false): Promise<Run> {
  const [command, prefix] = viaNpm
    ? ['npm', ['run', '-s', 'counsellor', '--']]
    : [process.execPath, ['--import', 'tsx', 'bot/cli/counsellor.ts']];
  return new Promise((resolve, reject) => {
    const child = spawn(command, [...prefix, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATA_DIR: dataDir },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => {
      // Whatever happens, a password or its hash never reaches the terminal.
      for (const secret of [PASSWORD, 'scrypt$']) expect(stdout + stderr).not.toContain(secret);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

const errorLines = (stderr: string) => stderr.split('\n').filter((line) => line.startsWith('counsellor:'));

describe('npm run counsellor', () => {
  it('adds accounts from a piped password, lists, disables and enables them', async () => {
    const added = await counsellor(['add', 'Sam'], `${PASSWORD}\n`, true);
    expect(added).toMatchObject({ code: 0, stdout: 'Added counsellor Sam.\n', stderr: '' });
    expect(await counsellor(['add', 'Priya', '--supervisor'], `${PASSWORD}\n`)).toMatchObject({ code: 0, stdout: 'Added supervisor Priya.\n' });

    // The server side reads what the CLI wrote, at the default cost.
    const accounts = openStaffAccounts(dataDir);
    expect(await accounts.verify('sam', PASSWORD)).toMatchObject({ name: 'Sam', role: 'counsellor' });
    const file = path.join(dataDir, 'counsellors.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await readFile(file, 'utf8')).not.toContain(PASSWORD);

    expect(await counsellor(['disable', 'sam'])).toMatchObject({ code: 0 });
    const listed = await counsellor(['list']);
    expect(listed.code).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    expect(listed.stdout.split('\n').map((line) => line.split(/\s{2,}/))).toEqual([
      ['NAME', 'ROLE', 'STATUS', 'CREATED'],
      ['Sam', 'counsellor', 'disabled', today],
      ['Priya', 'supervisor', 'active', today],
      [''],
    ]);
    expect(await accounts.verify('Sam', PASSWORD)).toBeUndefined();

    expect(await counsellor(['enable', 'Sam'])).toMatchObject({ code: 0 });
    expect(await accounts.verify('Sam', PASSWORD)).toMatchObject({ name: 'Sam' });
  });

  it('explains a refusal in one line on stderr and exits with 1', async () => {
    const cases: Array<[string[], string, RegExp]> = [
      [['add', 'sam'], `${PASSWORD}\n`, /already an account called sam/],
      [['add', 'Jo'], 'too short\n', /at least 12 characters/],
      [['add', 'Jo!'], `${PASSWORD}\n`, /name must be 1 to 40 characters/],
      [['add', 'Jo'], '', /no password/],
      [['disable', 'Nobody'], '', /no account called Nobody/],
    ];
    const runs = await Promise.all(cases.map(([args, input]) => counsellor(args, input)));
    for (const [i, run] of runs.entries()) {
      const reason = cases[i]![2];
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(errorLines(run.stderr)).toHaveLength(1);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
      expect(run.stderr).toMatch(reason);
    }
    expect((await counsellor(['list'])).stdout).not.toContain('Jo');
  });

  it('prints the usage and exits with 2 for an unknown command or a missing name', async () => {
    const runs = await Promise.all([['promote', 'Sam'], [], ['add'], ['list', '--supervisor']].map((args) => counsellor(args)));
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Usage: npm run counsellor -- <command>');
    }
  });
});
