/**
 * Every word the web chat widget shows, from `resources/web/widget/labels.yaml`. Clinicians edit
 * that file, so it is read through the same YAML reader as all content and a mistake stops
 * start-up with file, key and line, rather than showing a person a blank button.
 */
import path from 'node:path';
import { z } from 'zod';
import { ContentError, type ContentProblem } from '../../content/contentError.js';
import { readYaml } from '../../content/yamlFile.js';

/** Short enough for a button or a title bar. */
const label = z.string().trim().min(1).max(60);
/** A sentence or two in the panel or on the demo page. */
const sentence = z.string().trim().min(1).max(300);
const paragraphs = z.array(sentence).min(1).max(6);

const labelsSchema = z.strictObject({
  launcher: z.strictObject({ label }),
  panel: z.strictObject({
    title: label,
    quickExit: label,
    quickExitHint: label,
    close: label,
    frameTitle: label,
  }),
  chat: z.strictObject({
    pageTitle: label,
    connecting: sentence,
    busy: sentence,
    failed: sentence,
    offline: sentence,
    retry: label,
  }),
  demo: z.strictObject({
    pageTitle: label,
    heading: label,
    intro: paragraphs,
    privacyHeading: label,
    privacy: paragraphs,
  }),
});

export type WidgetLabels = Readonly<z.output<typeof labelsSchema>>;

/** Throws ContentError listing every problem of the file, each with its line. */
export async function loadWidgetLabels(file: string): Promise<WidgetLabels> {
  const problems: ContentProblem[] = [];
  const parsed = await readYaml(path.dirname(file), path.basename(file), labelsSchema, problems);
  const data = parsed?.data;
  if (problems.length > 0 || !data) throw new ContentError(problems);
  return deepFreeze(data);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
