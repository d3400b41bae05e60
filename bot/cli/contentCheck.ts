/**
 * `npm run content:check [contentDir] [--risk dir] [--helplines file]`: validates everything
 * clinicians edit, the way the bot does at start-up: every locale under resources/content, the
 * risk lexicons under resources/risk and resources/helplines.yaml. A broken file is reported
 * here, with file and line, before a person ever meets it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ContentError } from '../content/contentError.js';
import { loadContent } from '../content/loadContent.js';
import { loadHelplines } from '../content/helplines.js';
import { loadRiskData } from '../risk/loadRiskData.js';
import { createRiskClassifier } from '../risk/riskClassifier.js';

const RESOURCES = fileURLToPath(new URL('../../resources', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { risk: { type: 'string' }, helplines: { type: 'string' } },
});
const contentDir = path.resolve(positionals[0] ?? path.join(RESOURCES, 'content'));
const riskDir = path.resolve(values.risk ?? path.join(RESOURCES, 'risk'));
const helplinesFile = path.resolve(values.helplines ?? path.join(RESOURCES, 'helplines.yaml'));

const checks = [
  async () => {
    const library = await loadContent(contentDir);
    const modules = [...library.locales.values()].reduce((sum, content) => sum + content.modules.size, 0);
    return `content: ${library.locales.size} ${library.locales.size === 1 ? 'locale' : 'locales'}, ${modules} modules`;
  },
  async () => {
    const data = await loadRiskData(riskDir);
    // Building the classifier proves every phrase and example can be used, not only parsed.
    for (const d of data.values()) createRiskClassifier(d);
    const examples = [...data.values()].reduce((sum, d) => sum + d.examples.length, 0);
    return `risk: ${data.size} ${data.size === 1 ? 'lexicon' : 'lexicons'}, ${examples} examples`;
  },
  async () => `helplines: ${(await loadHelplines(helplinesFile)).countries.length} countries`,
];

let problems = 0;
const failedFiles: string[] = [];
for (const check of checks) {
  try {
    console.log(`ok ${await check()}`);
  } catch (error) {
    if (!(error instanceof ContentError)) throw error;
    console.error(error.message);
    problems += error.problems.length;
    failedFiles.push(...new Set(error.problems.map((p) => p.file)));
  }
}
if (problems > 0) {
  console.error(`content check failed: ${problems} ${problems === 1 ? 'problem' : 'problems'} (${failedFiles.join(', ')})`);
  process.exitCode = 1;
}
