/**
 * The shape of `resources/risk/<locale>.yaml`: the lexicon, negations, idioms and labelled
 * examples the screen is built from. Clinicians edit the YAML; this schema and the checks in
 * loadRiskData.ts are the contract, reported with file and line like all content.
 */
import { z } from 'zod';

export const RISK_CATEGORIES = ['suicide', 'child_at_risk', 'human', 'distress', 'none'] as const;
export const RISK_LEVELS = ['none', 'low', 'elevated', 'high', 'imminent'] as const;

/** Longest phrase or example: a lexicon phrase is a few words, an example one chat message. */
const MAX_PHRASE_CHARS = 80;
const MAX_EXAMPLE_CHARS = 500;

const phrase = z.string().trim().min(1, 'must not be empty').max(MAX_PHRASE_CHARS, `must be at most ${MAX_PHRASE_CHARS} characters (keep phrases to a few words)`);
const level = z.enum(['low', 'elevated', 'high', 'imminent']);
const entries = z.array(z.strictObject({ phrase, level })).min(1, 'must list at least one phrase');

export const riskDataSchema = z.strictObject({
  locale: z.string().min(2),
  lexicon: z.strictObject({
    suicide: entries,
    child_at_risk: entries,
    human: entries,
    distress: entries,
  }),
  raisers: z.strictObject({
    imminent: z.array(phrase).min(1, 'must list at least one phrase'),
    high: z.array(phrase).min(1, 'must list at least one phrase'),
  }),
  negations: z.array(phrase).min(1, 'must list at least one word'),
  pseudoNegations: z.array(phrase).default([]),
  idioms: z.array(phrase).default([]),
  context: z
    .strictObject({
      distancers: z.array(phrase).default([]),
      otherPeople: z.array(phrase).default([]),
      topicQuestions: z.array(phrase).default([]),
      current: z.array(phrase).default([]),
    })
    .default({ distancers: [], otherPeople: [], topicQuestions: [], current: [] }),
  examples: z
    .array(
      z.strictObject({
        text: z.string().trim().min(1, 'must not be empty').max(MAX_EXAMPLE_CHARS, `must be at most ${MAX_EXAMPLE_CHARS} characters`),
        category: z.enum(RISK_CATEGORIES),
      }),
    )
    .min(1, 'must list at least one example'),
});

export type RiskData = z.output<typeof riskDataSchema> & {
  /** From `<locale>.clusters.tsv` when there is one (wordClusters.ts): each word and its cluster. */
  readonly wordClusters?: readonly (readonly [string, number])[];
};
export type LexiconCategory = keyof RiskData['lexicon'];
