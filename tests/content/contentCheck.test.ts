import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brokenLibrary, removeBrokenLibraries, replace, VALID_LIBRARY } from './fixtureLibrary.js';

afterAll(removeBrokenLibraries);

/** Fixed hours, so the expected output does not change each time operators edit resources/handover.yaml. */
const HANDOVER = `timeZone: Europe/London
weekly:
  monday: ['09:00-17:00']
  tuesday: ['09:00-17:00']
  wednesday: ['09:00-17:00']
  thursday: ['09:00-17:00']
  friday: ['09:00-13:00', '14:00-17:30']
  saturday: []
  sunday: []
holidays:
  - { date: 2027-12-25, name: Christmas Day }
queue:
  timeoutMinutes: 20
  assumedChatMinutes: 20
  positionUpdateSeconds: 60
`;
let handoverDir = '';
beforeAll(async () => {
  handoverDir = await mkdtemp(path.join(os.tmpdir(), 'waypoint-handover-'));
});
afterAll(() => rm(handoverDir, { recursive: true, force: true }));

async function handoverFile(text: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(handoverDir, 'case-')), 'handover.yaml');
  await writeFile(file, text);
  return file;
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RISK_FIXTURE = fileURLToPath(new URL('../fixtures/risk', import.meta.url));

/** Runs `npm run content:check -- <dir>` the way CI does, minus npm (whose warnings would clutter stderr). */
async function contentCheck(dir: string, handover = HANDOVER): Promise<{ code: number; stdout: string; stderr: string }> {
  const args = ['--import', 'tsx', 'bot/cli/contentCheck.ts', dir, '--risk', RISK_FIXTURE, '--handover', await handoverFile(handover)];
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, args, { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run content:check', () => {
  it('says what it checked when the content, the risk lexicon, the helplines and the handover settings are valid', async () => {
    const result = await contentCheck(VALID_LIBRARY);

    expect(result).toEqual({
      code: 0,
      stdout: 'ok content: 2 locales, 3 modules\nok risk: 1 lexicon, 50 examples\nok helplines: 7 countries\nok handover: open 39.5 hours a week, 1 holiday (Europe/London)\n',
      stderr: '',
    });
  });

  it('prints the report on stderr and exits with 1 when the content is broken', async () => {
    const root = await brokenLibrary({ 'en/modules/breathing.yaml': replace('next: goodbye', 'next: clsoing') });

    const result = await contentCheck(root);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('ok risk: 1 lexicon, 50 examples\nok helplines: 7 countries\nok handover: open 39.5 hours a week, 1 holiday (Europe/London)\n');
    expect(result.stderr).toBe(
      'en/modules/breathing.yaml:23 steps[1].options[1].next: unknown step "clsoing" (CONTENT_UNKNOWN_STEP)\n' +
        'content check failed: 1 problem (en/modules/breathing.yaml)\n',
    );
  });

  it('reports a broken handover file given with --handover, with its line', async () => {
    const result = await contentCheck(VALID_LIBRARY, replace("tuesday: ['09:00-17:00']", "tuesday: ['09:00-12:00', '11:00-17:00']")(HANDOVER));

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('ok content: 2 locales, 3 modules\nok risk: 1 lexicon, 50 examples\nok helplines: 7 countries\n');
    expect(result.stderr).toBe(
      'handover.yaml:4 weekly.tuesday[1]: "11:00-17:00" overlaps "09:00-12:00" (CONTENT_SCHEMA)\n' + 'content check failed: 1 problem (handover.yaml)\n',
    );
  });
});
