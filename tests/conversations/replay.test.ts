/**
 * Every tests/conversations/*.yaml is one test: the conversation is replayed through a fresh
 * runtime with the real content, and each expectation is checked against that content.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { loadContent } from '../../bot/content/loadContent.js';
import { REPO_ROOT } from '../support/botHarness.js';
import { loadConversationScript, stepsExpected, type LoadedScript } from '../support/conversationScript.js';
import { replayConversation } from '../support/conversationReplay.js';

const FOLDER = path.dirname(fileURLToPath(import.meta.url));
const files = readdirSync(FOLDER)
  .filter((name) => name.endsWith('.yaml'))
  .sort();

// Loaded up front so a broken script is its own failing test, named after its file.
const loaded = await Promise.all(
  files.map(async (name) => {
    try {
      return { name, script: await loadConversationScript(path.join(FOLDER, name), REPO_ROOT) };
    } catch (error) {
      return { name, error: error as Error };
    }
  }),
);

describe('conversations', () => {
  for (const entry of loaded) {
    const title = entry.script ? `${entry.name}: ${entry.script.script.name}` : entry.name;
    it(title, async () => {
      if (!entry.script) throw entry.error;
      await replayConversation(entry.script);
    });
  }

  it('together walk every step of every module', async () => {
    const content = (await loadContent(path.join(REPO_ROOT, 'resources/content'))).forLocale('en');
    const seen = new Set(loaded.flatMap((entry) => (entry.script ? stepsExpected(entry.script.script) : [])));
    const unseen = [...content.modules.values()].flatMap((module) =>
      module.steps.filter((step) => step.type !== 'branch' && !seen.has(`${module.id}.${step.id}`)).map((step) => `${module.id}.${step.id}`),
    );
    expect(unseen).toEqual([]);
  });
});

describe('the replay runner', () => {
  async function scriptFrom(yaml: string): Promise<LoadedScript> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-script-'));
    try {
      const file = path.join(dir, 'example.yaml');
      await writeFile(file, yaml);
      return await loadConversationScript(file, dir);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  it('rejects a misspelt key with the file and the step', async () => {
    await expect(scriptFrom('name: typo\nsteps:\n  - join: true\n  - expct: { message: welcome }\n')).rejects.toThrow(
      /example\.yaml: not a valid conversation script:\n {2}steps\[1\]: Unrecognized key: "expct"/,
    );
  });

  it('rejects a step that does two things at once', async () => {
    await expect(scriptFrom('name: two\nsteps:\n  - { join: true, user: hello }\n')).rejects.toThrow(/steps\[0\]: each step does exactly one thing/);
  });

  it('reports the file, the step and what the bot said when an expectation fails', async () => {
    const script = await scriptFrom('name: wrong\nsteps:\n  - join: true\n  - expect: { message: menu.prompt }\n');
    await expect(replayConversation(script)).rejects.toThrow(
      /^example\.yaml, steps\[1\]:\n {2}expected message menu\.prompt, missing: "What would you like[^]*the person: \(joins the chat\)\n {2}the bot:\n {4}\| Hello, and welcome to Waypoint\.[^]*\[Yes, continue\] \[No, not now\]/,
    );
  });

  it('fails a script whose turn logged turn.failed, though no step expected anything about it', async () => {
    // Typing, at a pause, the id of the step the pause moves on to: the privacy guard (in throw mode)
    // refuses the write, because the stored progress now contains what was typed.
    const script = await scriptFrom(`name: guard
steps:
  - editContent:
      - { file: modules/relationships.yaml, path: [steps, 0, pause], value: true }
      - { file: modules/relationships.yaml, path: [steps, 1, pause], value: true }
  - restart: true
  - join: true
  - user: { press: consent.agree }
  - user: { press: { title: relationships } }
  - user: online-friendships
`);
    await expect(replayConversation(script)).rejects.toThrow(
      /^example\.yaml, steps\[5\]:\n {2}the turn logged a failure:\n[^]*"event":"turn\.failed"[^]*the person: online-friendships/,
    );
  });

  it('fails on a messages key that does not exist instead of treating it as text', async () => {
    const script = await scriptFrom('name: key\nsteps:\n  - join: true\n  - expect: { buttons: [consent.agre] }\n');
    await expect(replayConversation(script)).rejects.toThrow(/steps\[1\]:\n {2}messages\.yaml has no text at "consent\.agre"/);
  });
});
