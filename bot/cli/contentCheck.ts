/**
 * `npm run content:check [contentDir] [--risk dir] [--helplines file] [--handover file]`:
 * validates everything clinicians and operators edit, the way the bot does at start-up: every
 * locale under resources/content, the risk lexicons under resources/risk, resources/helplines.yaml
 * and the counsellors' hours in resources/handover.yaml. A broken file is reported here, with
 * file and line, before a person ever meets it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ContentError } from '../content/contentError.js';
import { loadContent } from '../content/loadContent.js';
import { loadHelplines } from '../content/helplines.js';
import { loadHandoverSettings } from '../handover/handoverSettings.js';
import { loadRiskData } from '../risk/loadRiskData.js';
import { createRiskClassifier } from '../risk/riskClassifier.js';

const RESOURCES = fileURLToPath(new URL('../../resources', import.meta.url));
const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { risk: { type: 'string' }, helplines: { type: 'string' }, handover: { type: 'string' } },
});
const contentDir = path.resolve(positionals[0] ?? path.join(RESOURCES, 'content'));
const riskDir = path.resolve(values.risk ?? path.join(RESOURCES, 'risk'));
const helplinesFile = path.resolve(values.helplines ?? path.join(RESOURCES, 'helplines.yaml'));
const handoverFile = path.resolve(values.handover ?? path.join(RESOURCES, 'handover.yaml'));

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
  async () => {
    const settings = await loadHandoverSettings(handoverFile);
    // Weekly hours in one number make a mistyped range (21:00 for 12:00) stand out.
    const minutes = Object.values(settings.weekly).flat().reduce((sum, r) => sum + r.endMinute - r.startMinute, 0);
    const holidays = settings.holidays.length;
    return `handover: open ${Math.round((minutes / 60) * 10) / 10} hours a week, ${holidays} ${holidays === 1 ? 'holiday' : 'holidays'} (${settings.timeZone})`;
  },
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
