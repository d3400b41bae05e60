import { afterAll, describe, expect, it } from '@jest/globals';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brokenLibrary, removeBrokenLibraries, replace, VALID_LIBRARY } from './fixtureLibrary.js';

afterAll(removeBrokenLibraries);

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RISK_FIXTURE = fileURLToPath(new URL('../fixtures/risk', import.meta.url));

/** Runs `npm run content:check -- <dir>` the way CI does, minus npm (whose warnings would clutter stderr). */
async function contentCheck(dir: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bot/cli/contentCheck.ts', dir, '--risk', RISK_FIXTURE], { cwd: REPO_ROOT });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

describe('npm run content:check', () => {
  it('says what it checked when the content, the risk lexicon and the helplines are valid', async () => {
    const result = await contentCheck(VALID_LIBRARY);

    expect(result).toEqual({
      code: 0,
      stdout: 'ok content: 2 locales, 3 modules\nok risk: 1 lexicon, 50 examples\nok helplines: 7 countries\n',
      stderr: '',
    });
  });

  it('prints the report on stderr and exits with 1 when the content is broken', async () => {
    const root = await brokenLibrary({ 'en/modules/breathing.yaml': replace('next: goodbye', 'next: clsoing') });

    const result = await contentCheck(root);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('ok risk: 1 lexicon, 50 examples\nok helplines: 7 countries\n');
    expect(result.stderr).toBe(
      'en/modules/breathing.yaml:23 steps[1].options[1].next: unknown step "clsoing" (CONTENT_UNKNOWN_STEP)\n' +
        'content check failed: 1 problem (en/modules/breathing.yaml)\n',
    );
  });
});
