/**
 * `npm run risk:eval`: how well the risk screen does on the labelled development set. Prints,
 * per split, precision, recall and false-positive rate per category, the confusion matrix, the
 * targets, and the mean time per message.
 *
 * - held-out (tests/risk/devset/en.heldout.jsonl): never learnt from; the targets apply here.
 * - validation (tests/risk/devset/en.validation.jsonl): never learnt from either; the screen's
 *   thresholds were chosen on it, so its figures are a little flattering.
 * - tune (resources/risk/en.tune.jsonl): learnt from like the examples, so it is scored by
 *   5-fold cross-validation: each fifth is screened by a screen trained without it.
 *
 *   npm run risk:eval                      all three
 *   npm run risk:eval -- --errors          also list the tune and validation splits' mistakes
 *
 * The held-out split's mistakes are never listed: looking at them would turn it into a tuning
 * set, and its figures would no longer say how the screen does on messages it has not seen.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ContentError } from '../content/contentError.js';
import { RISK_CATEGORIES } from '../risk/riskData.js';
import { evaluate, type Evaluation, type LabelledMessage } from '../risk/evaluation.js';
import { readDevSet } from '../risk/devSet.js';
import type { RiskAssessment, RiskScreen } from '../risk/riskScreen.js';
import { DEFAULT_RISK_DIR } from './riskScreenFromDisk.js';
import { loadRiskData, TUNE_SUFFIX } from '../risk/loadRiskData.js';
import { createRiskClassifier } from '../risk/riskClassifier.js';
import type { RiskData } from '../risk/riskData.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const HELD_OUT = path.join(REPO, 'tests/risk/devset/en.heldout.jsonl');
const VALIDATION = path.join(REPO, 'tests/risk/devset/en.validation.jsonl');
const FOLDS = 5;
/** Timing repeats the set until at least this long has passed, so the mean is not noise. */
const MIN_TIMING_MS = 1000;

const TARGETS = [
  { what: 'recall suicide', at: (e: Evaluation) => score(e, 'suicide').recall, min: 0.97 },
  { what: 'recall child_at_risk', at: (e: Evaluation) => score(e, 'child_at_risk').recall, min: 0.97 },
  { what: 'recall human', at: (e: Evaluation) => score(e, 'human').recall, min: 0.95 },
  { what: 'false-positive rate on none', at: (e: Evaluation) => e.noneFalsePositiveRate, max: 0.05 },
];
const MAX_MEAN_MS = 0.1;

const showErrors = process.argv.includes('--errors');
const riskDir = process.env.RISK_DIR ? path.resolve(process.env.RISK_DIR) : DEFAULT_RISK_DIR;
let data: RiskData;
try {
  data = (await loadRiskData(riskDir)).get('en')!;
} catch (error) {
  if (!(error instanceof ContentError)) throw error;
  console.error(error.message);
  process.exit(2);
}
const tune = await readDevSet(path.join(riskDir, `en${TUNE_SUFFIX}`));
// The loader appends the tune split after the YAML's own examples.
const yamlExamples = data.examples.slice(0, data.examples.length - tune.length);
const heldOut = await readDevSet(HELD_OUT);
const validation = await readDevSet(VALIDATION);

const results: Record<string, unknown> = {};
// Built once: the validation and held-out splits are screened by the same screen the bot runs.
let fullScreen: ReturnType<typeof createRiskClassifier> | undefined;
let allMet = true;
const TITLES = {
  tune: `tune split (${FOLDS}-fold cross-validated)`,
  validation: 'validation split (never learnt from; thresholds chosen on it)',
  heldout: 'held-out split (never learnt from)',
};
for (const split of ['tune', 'validation', 'heldout'] as const) {
  const { messages, predictions, screen } = split === 'tune' ? crossValidateTune() : scoreUnseen(split === 'heldout' ? heldOut : validation);
  const evaluation = evaluate(messages, predictions);
  const meanMs = timePerMessage(screen, messages);
  console.log(`\n== ${TITLES[split]}: ${messages.length} messages ==`);
  printScores(evaluation);
  printConfusion(evaluation);
  console.log(`\nsuicide + child_at_risk messages that escalate: ${pct(evaluation.crisisEscalationRate)}`);
  console.log(`accuracy: ${pct(evaluation.accuracy)}`);
  console.log(`mean classification time: ${meanMs.toFixed(4)} ms per message`);
  console.log('\ntargets:');
  // Also in the JSON, so `npm run bench` can show them beside the other benchmarks' targets.
  const targets: { what: string; value: number; min?: number; max?: number; met: boolean }[] = [];
  for (const target of TARGETS) {
    const value = target.at(evaluation);
    const met = target.min !== undefined ? value >= target.min : value <= (target.max as number);
    targets.push({ what: target.what, value, min: target.min, max: target.max, met });
    if (split === 'heldout') allMet &&= met;
    console.log(`  ${met ? 'met ' : 'MISS'}  ${target.what}: ${value.toFixed(3)} (${target.min !== undefined ? `>= ${target.min}` : `<= ${target.max}`})`);
  }
  const timeMet = meanMs <= MAX_MEAN_MS;
  if (split === 'heldout') allMet &&= timeMet;
  console.log(`  ${timeMet ? 'met ' : 'MISS'}  mean time: ${meanMs.toFixed(4)} ms (<= ${MAX_MEAN_MS})`);
  targets.push({ what: 'mean time ms', value: meanMs, max: MAX_MEAN_MS, met: timeMet });
  if (showErrors && split !== 'heldout') printErrors(split, messages, predictions);
  results[split] = { ...evaluation, meanMs, targets };
}

function scoreUnseen(messages: readonly LabelledMessage[]) {
  const screen = (fullScreen ??= createRiskClassifier(data));
  return { messages, predictions: messages.map((m) => screen.screen(m.text)), screen };
}

/** Each fifth of the tune split, screened by a screen trained on everything but that fifth. */
function crossValidateTune() {
  const predictions: RiskAssessment[] = [];
  let screen: RiskScreen | undefined;
  for (let fold = 0; fold < FOLDS; fold++) {
    const training = tune.filter((_, i) => i % FOLDS !== fold);
    screen = createRiskClassifier({ ...data, examples: [...yamlExamples, ...training] });
    tune.forEach((m, i) => {
      if (i % FOLDS === fold) predictions[i] = screen!.screen(m.text);
    });
  }
  return { messages: tune, predictions, screen: screen! };
}

const resultsDir = path.join(REPO, 'bench/results');
await mkdir(resultsDir, { recursive: true });
await writeFile(path.join(resultsDir, 'risk-eval.json'), `${JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2)}\n`);
console.log(`\n${allMet ? 'All targets met on the held-out split.' : 'Some targets are missed on the held-out split.'} (JSON: bench/results/risk-eval.json)`);

function timePerMessage(screen: RiskScreen, messages: readonly LabelledMessage[]): number {
  for (const m of messages) screen.screen(m.text, 'en');
  let count = 0;
  const started = performance.now();
  while (performance.now() - started < MIN_TIMING_MS) {
    for (const m of messages) screen.screen(m.text, 'en');
    count += messages.length;
  }
  return (performance.now() - started) / count;
}

function score(evaluation: Evaluation, category: string) {
  return evaluation.scores.find((s) => s.category === category)!;
}

function printScores(evaluation: Evaluation): void {
  console.log(`\n${'category'.padEnd(15)}${'support'.padStart(8)}${'precision'.padStart(11)}${'recall'.padStart(9)}${'FP rate'.padStart(9)}`);
  for (const s of evaluation.scores) {
    console.log(`${s.category.padEnd(15)}${String(s.support).padStart(8)}${s.precision.toFixed(3).padStart(11)}${s.recall.toFixed(3).padStart(9)}${s.falsePositiveRate.toFixed(3).padStart(9)}`);
  }
}

function printConfusion(evaluation: Evaluation): void {
  const short: Record<string, string> = { suicide: 'suicide', child_at_risk: 'child', human: 'human', distress: 'distress', none: 'none' };
  console.log(`\nconfusion (rows: labelled, columns: predicted)`);
  console.log(`${''.padEnd(15)}${RISK_CATEGORIES.map((c) => (short[c] as string).padStart(9)).join('')}`);
  for (const actual of RISK_CATEGORIES) {
    console.log(`${actual.padEnd(15)}${RISK_CATEGORIES.map((p) => String(evaluation.confusion[actual][p]).padStart(9)).join('')}`);
  }
}

function printErrors(split: string, messages: readonly LabelledMessage[], predictions: readonly { category: string; level: string }[]): void {
  console.log(`\n${split} split mistakes (labelled -> predicted):`);
  messages.forEach((m, i) => {
    const p = predictions[i]!;
    if (p.category !== m.category) console.log(`  ${m.category} -> ${p.category}/${p.level}: ${m.text}`);
  });
}

function pct(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}
