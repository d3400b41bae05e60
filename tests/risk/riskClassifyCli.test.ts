import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

function run(command: string, args: string[], input: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: REPO_ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += String(chunk)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

const lines = (texts: string[]) => texts.map((text) => `${JSON.stringify({ text })}\n`).join('');

describe('npm run -s risk:classify', () => {
  it('writes exactly one JSON line per input, in order, and nothing else on stdout', async () => {
    const input = lines(["i'm going to kill myself tonight", 'mostly friends from work', 'can i talk to a real person please', 'i would never hurt a child']);

    const { code, stdout } = await run('npm', ['run', '-s', 'risk:classify'], input);

    expect(code).toBe(0);
    const out = stdout.split('\n');
    expect(out.at(-1)).toBe('');
    const results = out.slice(0, -1).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(results).toEqual([
      { category: 'suicide', level: 'imminent', escalate: true },
      { category: 'none', level: 'none', escalate: false },
      { category: 'human', level: 'low', escalate: true },
      { category: 'none', level: 'none', escalate: false },
    ]);
    for (const line of out.slice(0, -1)) expect(Object.keys(JSON.parse(line) as object)).toEqual(['category', 'level', 'escalate']);
  }, 30_000);

  it('keeps output line N answering input line N when a line is malformed, and says why on stderr', async () => {
    const input = `${lines(['hello'])}not json\n\n{"txt": "no text"}\n${lines(['i want to die'])}`;

    const { code, stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'bot/cli/riskClassify.ts'], input);

    expect(code).toBe(1);
    expect(stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      { category: 'none', level: 'none', escalate: false },
      { error: 'not valid JSON: expected {"text": "..."}' },
      { error: 'missing "text" (a string)' },
      expect.objectContaining({ category: 'suicide', escalate: true }),
    ]);
    expect(stderr).toContain('line 2: not valid JSON');
    expect(stderr).toContain('line 4: missing "text"');
  }, 30_000);

  it('handles a large batch quickly and in order', async () => {
    // Ordinary answers, each different ("number" alone leans to asking for a helpline number).
    const texts = Array.from({ length: 5000 }, (_, i) => (i % 2 ? 'i want to die' : `my answer to step ${i} is going for a walk`));

    const { code, stdout } = await run(process.execPath, ['--import', 'tsx', 'bot/cli/riskClassify.ts'], lines(texts));

    expect(code).toBe(0);
    const categories = stdout.trim().split('\n').map((line) => (JSON.parse(line) as { category: string }).category);
    expect(categories).toHaveLength(5000);
    expect(categories.every((category, i) => category === (i % 2 ? 'suicide' : 'none'))).toBe(true);
  }, 30_000);
});
