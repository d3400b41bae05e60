/**
 * `npm run counsellor -- add NAME [--supervisor] | list | disable NAME | enable NAME`: manages who
 * may sign in to the counsellor console, in `<DATA_DIR>/counsellors.json`. Safe to run while the
 * server is up: the server re-reads the file, and ends a disabled account's sessions within 30 s.
 * The password is asked twice without echo on a terminal; piped in, the first line is the password.
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openStaffAccounts, StaffAccountError, type StaffAccount } from '../handover/staffAccounts.js';

const USAGE = `Usage: npm run counsellor -- <command>
  add NAME [--supervisor]   add an account (asks for the password; NAME is the first name people see)
  list                      show every account
  disable NAME              stop an account from signing in and end its sessions
  enable NAME               let a disabled account sign in again`;

class UsageError extends Error {}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { supervisor: { type: 'boolean' } } });
  const [command, ...rest] = positionals;
  // `add Mary Ann` works as well as `add "Mary Ann"`.
  const name = rest.join(' ');
  if (values.supervisor && command !== 'add') throw new UsageError('--supervisor only goes with add');

  // A local .env is a convenience for development, as for `npm start`.
  if (existsSync('.env')) process.loadEnvFile('.env');
  const accounts = openStaffAccounts(loadConfig().dataDir);

  switch (command) {
    case 'add': {
      requireName(name);
      const password = await readNewPassword();
      const account = await accounts.add(name, password, values.supervisor ? 'supervisor' : 'counsellor');
      console.log(`Added ${account.role} ${account.name}.`);
      return;
    }
    case 'list':
      if (rest.length > 0) throw new UsageError('list takes no name');
      printTable(await accounts.list());
      return;
    case 'disable':
      requireName(name);
      await accounts.disable(name);
      console.log(`Disabled ${name.trim()}. Their console sessions end within 30 seconds.`);
      return;
    case 'enable':
      requireName(name);
      await accounts.enable(name);
      console.log(`Enabled ${name.trim()}.`);
      return;
    default:
      throw new UsageError(command ? `unknown command: ${command}` : 'no command given');
  }
}

function requireName(name: string): void {
  if (!name.trim()) throw new UsageError('a NAME is needed');
}

async function readNewPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    // Scripts pipe the password in: one line, asked once.
    const password = await readFirstLine();
    if (password === undefined) throw new Error('no password on standard input');
    return password;
  }
  const first = await askHidden('Password (at least 12 characters): ');
  const second = await askHidden('Same password again: ');
  if (first !== second) throw new Error('the two passwords differ; nothing was changed');
  return first;
}

async function readFirstLine(): Promise<string | undefined> {
  const lines = createInterface({ input: process.stdin, terminal: false });
  try {
    for await (const line of lines) return line;
    return undefined;
  } finally {
    lines.close();
  }
}

/** Prompts on stderr and reads a line from the terminal without echoing what is typed. */
async function askHidden(prompt: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk: Buffer, _encoding, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const terminal = createInterface({ input: process.stdin, output, terminal: true });
  // In raw mode Ctrl-C reaches readline, not the process; without this the prompt would just stall.
  terminal.on('SIGINT', () => {
    terminal.close();
    process.stderr.write('\n');
    process.exit(130);
  });
  try {
    const answer = terminal.question(prompt);
    // The prompt is written synchronously by question(); everything after it is the typing.
    muted = true;
    return await answer;
  } finally {
    terminal.close();
    process.stderr.write('\n');
  }
}

function printTable(accounts: StaffAccount[]): void {
  if (accounts.length === 0) {
    console.log('No staff accounts yet. Add one with: npm run counsellor -- add NAME');
    return;
  }
  const rows = [
    ['NAME', 'ROLE', 'STATUS', 'CREATED'],
    ...accounts.map((a) => [a.name, a.role, a.disabled ? 'disabled' : 'active', a.createdAt.slice(0, 10)]),
  ];
  // Width in code points, so names in other scripts still line up in most terminals.
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => [...row[column]!].length)));
  for (const row of rows) {
    console.log(row.map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length)).join('  ').trimEnd());
  }
}

try {
  await main();
} catch (error) {
  if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
    console.error(`counsellor: ${(error as Error).message}\n${USAGE}`);
    process.exitCode = 2;
  } else {
    // Every message here is ours or the file system's; none carries a password or hash.
    const message = error instanceof StaffAccountError ? error.message : (error as Error).message.split('\n').join(' ');
    console.error(`counsellor: ${message}`);
    process.exitCode = 1;
  }
}
