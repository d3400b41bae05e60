/**
 * `npm run content:check [dir]`: validates every locale under resources/content (or `dir`) the
 * way the bot does at start-up, so a clinician or CI learns about a broken file before a person does.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentError } from '../content/contentError.js';
import { loadContent } from '../content/loadContent.js';

const DEFAULT_ROOT = fileURLToPath(new URL('../../resources/content', import.meta.url));

const root = process.argv[2] ? path.resolve(process.argv[2]) : DEFAULT_ROOT;

try {
  const library = await loadContent(root);
  const modules = [...library.locales.values()].reduce((sum, content) => sum + content.modules.size, 0);
  console.log(`content ok: ${library.locales.size} locales, ${modules} modules`);
} catch (error) {
  if (!(error instanceof ContentError)) throw error;
  console.error(error.message);
  console.error(`content check failed: ${error.problems.length} ${error.problems.length === 1 ? 'problem' : 'problems'} in ${root}`);
  process.exitCode = 1;
}
