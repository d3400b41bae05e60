/**
 * Reads every `resources/risk/<locale>.yaml`, validates it (riskData.ts) and cross-checks what
 * the schema cannot see: levels that do not fit their category, phrases or examples listed
 * twice, categories with too few examples to learn from. Problems come back as one
 * ContentError with file and line, like the dialog content.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ContentError, type ContentFile, type ContentProblem } from '../content/contentError.js';
import { readYaml } from '../content/yamlFile.js';
import { phraseWords } from './normalise.js';
import { RISK_CATEGORIES, riskDataSchema, type LexiconCategory, type RiskData } from './riskData.js';
import { readDevSet } from './devSet.js';
import { parseWordClusters } from './wordClusters.js';

/** Below this the model has too little to learn a category's wording from. */
export const MIN_EXAMPLES_PER_CATEGORY = 10;
const LOCALE_FILE = /^([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})*)\.yaml$/;
/**
 * `<locale>.tune.jsonl`: the tuning half of the labelled development set (the other half is
 * held out in tests/risk/devset/ and never learnt from). Its messages are examples too.
 */
export const TUNE_SUFFIX = '.tune.jsonl';

/** `<locale>.clusters.tsv`: generated word clusters (wordClusters.ts), optional. */
const CLUSTERS_SUFFIX = '.clusters.tsv';

/** Risk data by locale; the default locale's file must exist. */
export async function loadRiskData(dir: string, options: { defaultLocale?: string } = {}): Promise<ReadonlyMap<string, RiskData>> {
  const defaultLocale = options.defaultLocale ?? 'en';
  const problems: ContentProblem[] = [];
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [] as string[];
    throw error;
  });
  const locales = names.flatMap((name) => LOCALE_FILE.exec(name)?.[1] ?? []).sort();
  const tuneFiles = new Set(names.filter((name) => name.endsWith(TUNE_SUFFIX)));
  if (!locales.includes(defaultLocale)) {
    problems.push({ code: 'CONTENT_FILE_MISSING', file: `${path.basename(dir)}/${defaultLocale}.yaml`, path: '', message: `the risk file of the default locale is missing from ${dir}` });
  }
  // Problems name the file with its folder ("risk/en.yaml"), which says more than "en.yaml".
  const parent = path.dirname(dir);
  const folder = path.basename(dir);
  const byLocale = new Map<string, RiskData>();
  for (const locale of locales) {
    const parsed = await readYaml(parent, `${folder}/${locale}.yaml`, riskDataSchema, problems);
    if (!parsed?.data) continue;
    const before = problems.length;
    checkRiskData(parsed.source, parsed.data, locale);
    if (problems.length !== before) continue;
    const tuneFile = `${locale}${TUNE_SUFFIX}`;
    const tune = tuneFiles.has(tuneFile) ? await readTuneSplit(dir, folder, tuneFile, problems) : [];
    const clustersFile = `${locale}${CLUSTERS_SUFFIX}`;
    const wordClusters = names.includes(clustersFile) ? await readClusters(dir, folder, clustersFile, problems) : undefined;
    byLocale.set(locale, { ...parsed.data, examples: [...parsed.data.examples, ...tune], ...(wordClusters && { wordClusters }) });
  }
  if (problems.length > 0) throw new ContentError(problems);
  return byLocale;
}

function checkRiskData(source: ContentFile, data: RiskData, locale: string): void {
  if (data.locale !== locale) source.report('CONTENT_ID_MISMATCH', ['locale'], `locale "${data.locale}" must equal the file name "${locale}"`);

  const seenPhrases = new Map<string, string>();
  for (const category of Object.keys(data.lexicon) as LexiconCategory[]) {
    data.lexicon[category].forEach((entry, i) => {
      const at = ['lexicon', category, i, 'level'];
      if (category === 'human' && entry.level !== 'low') source.report('CONTENT_BAD_LEVEL', at, 'a request for a person is always level "low"');
      if (category === 'distress' && entry.level === 'imminent') source.report('CONTENT_BAD_LEVEL', at, 'distress goes up to "high"; imminent risk is suicide or a child at risk');
      const key = phraseWords(entry.phrase).join(' ');
      const earlier = seenPhrases.get(key);
      if (earlier !== undefined) source.report('CONTENT_DUPLICATE_PHRASE', ['lexicon', category, i, 'phrase'], `"${entry.phrase}" is already listed under ${earlier}`);
      else seenPhrases.set(key, category);
    });
  }

  const seenExamples = new Map<string, number>();
  data.examples.forEach((example, i) => {
    const key = phraseWords(example.text).join(' ');
    const earlier = seenExamples.get(key);
    if (earlier !== undefined) source.report('CONTENT_DUPLICATE_PHRASE', ['examples', i, 'text'], `the same example is already at examples[${earlier}]`);
    else seenExamples.set(key, i);
  });
  for (const category of RISK_CATEGORIES) {
    const count = data.examples.filter((e) => e.category === category).length;
    if (count < MIN_EXAMPLES_PER_CATEGORY) {
      source.report('CONTENT_TOO_FEW_EXAMPLES', ['examples'], `${category} has ${count} examples; at least ${MIN_EXAMPLES_PER_CATEGORY} are needed`);
    }
  }
}

async function readTuneSplit(dir: string, folder: string, file: string, problems: ContentProblem[]): Promise<RiskData['examples']> {
  try {
    return (await readDevSet(path.join(dir, file))).map(({ text, category }) => ({ text, category }));
  } catch (error) {
    // readDevSet names the line; the report names the file as the other risk problems do.
    const message = (error as Error).message.replace(`${path.join(dir, file)}:`, 'line ');
    problems.push({ code: 'CONTENT_SCHEMA', file: `${folder}/${file}`, path: '', message });
    return [];
  }
}

async function readClusters(dir: string, folder: string, file: string, problems: ContentProblem[]): Promise<[string, number][]> {
  const { clusters, problems: found } = parseWordClusters(await readFile(path.join(dir, file), 'utf8'));
  for (const { line, message } of found) problems.push({ code: 'CONTENT_SCHEMA', file: `${folder}/${file}`, path: '', line, message });
  return [...clusters];
}
