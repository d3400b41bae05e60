/**
 * Reads a labelled development set: JSON lines of {text, category, level}. A bad line is an
 * error naming its file and line, so a mislabelled message cannot quietly skew the figures.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { RISK_CATEGORIES, RISK_LEVELS } from './riskData.js';
import type { LabelledMessage } from './evaluation.js';

const lineSchema = z.strictObject({
  text: z.string().min(1),
  category: z.enum(RISK_CATEGORIES),
  level: z.enum(RISK_LEVELS).optional(),
});

export async function readDevSet(file: string): Promise<LabelledMessage[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const messages: LabelledMessage[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      throw new Error(`${file}:${i + 1}: not valid JSON`);
    }
    const result = lineSchema.safeParse(parsed);
    if (!result.success) throw new Error(`${file}:${i + 1}: ${result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
    messages.push(result.data);
  });
  return messages;
}
