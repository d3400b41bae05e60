/**
 * `npm run chat`: talk to Waypoint in the terminal through the same pipeline and storage as the
 * server, so a content editor can try a module without any channel. Buttons are numbered;
 * type the number or the words.
 */
import { createInterface } from 'node:readline';
import { existsSync } from 'node:fs';
import type { Activity } from 'botbuilder';
import { loadConfig } from '../config.js';
import { createLogger } from '../privacy/logger.js';
import { createRuntime } from '../runtime.js';
import { MemoryAdapter } from '../channels/memory/memoryAdapter.js';

if (existsSync('.env')) process.loadEnvFile('.env');
const config = loadConfig();
// Terminal output is for the person chatting; warnings and errors still reach stderr.
const log = createLogger({ level: 'warn', destination: process.stderr });

let runtime;
try {
  runtime = await createRuntime(config, log);
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const locale = process.env.CHAT_LOCALE ?? config.defaultLocale;
const adapter = new MemoryAdapter(runtime.bot, { channelId: 'console', userId: 'console-user', locale });

function show(replies: Activity[]): void {
  for (const reply of replies) {
    if (reply.type !== 'message') continue;
    if (reply.text) console.log(`\nWaypoint: ${reply.text.replace(/\n/g, '\n          ')}`);
    const buttons = reply.suggestedActions?.actions ?? [];
    if (buttons.length > 0) console.log(buttons.map((b, i) => `  [${i + 1}] ${b.title}`).join('\n'));
  }
}

console.log('Waypoint terminal chat. Type your answer, a button number, or "stop". Ctrl+D leaves.');
show(await adapter.join());
const terminal = createInterface({ input: process.stdin, output: process.stdout, prompt: '\nYou: ' });
terminal.prompt();
try {
  // The async iterator buffers lines, so answers piped in from a file are not lost between turns.
  for await (const line of terminal) {
    if (line.trim() !== '') show(await adapter.say(line));
    terminal.prompt();
  }
} finally {
  terminal.close();
  await runtime.close();
}
