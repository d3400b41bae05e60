/**
 * Reads `<root>/<locale>/messages.yaml`, `safetyPlan.yaml` and `modules/<id>.yaml` for every
 * locale folder, validates each file against schema.ts, cross-checks what the schema cannot see
 * (step references, reachability, menu, lists, placeholders) and returns frozen content.
 * Every problem of every file is reported in one ContentError, with file, key path and line.
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { ContentError, type ContentFile, type ContentPath, type ContentProblem } from './contentError.js';
import { readYaml } from './yamlFile.js';
import {
  MESSAGE_PLACEHOLDERS,
  messagesSchema,
  moduleSchema,
  safetyPlanSchema,
  type Content,
  type ContentLibrary,
  type Messages,
  type Module,
  type SafetyPlanLists,
  type Step,
} from './schema.js';

const DEFAULT_LOCALE = 'en';
const YAML_EXTENSION = '.yaml';
const MODULES_FOLDER = 'modules';
/** BCP-47-ish: a language, then optional region or script subtags (`en`, `pt-BR`, `zh-Hant`). */
const LOCALE_FOLDER = /^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/;
const PLACEHOLDER = /\{([^{}]*)\}/g;

/**
 * Loads every locale under `rootDir`. Throws a ContentError listing every problem found, so a
 * broken file stops the bot at start-up (and `npm run content:check` in CI) instead of mid-chat.
 */
export async function loadContent(rootDir: string, options: { defaultLocale?: string } = {}): Promise<ContentLibrary> {
  const defaultLocale = options.defaultLocale ?? DEFAULT_LOCALE;
  const problems: ContentProblem[] = [];
  const locales = await listLocales(rootDir, problems);
  if (!locales.includes(defaultLocale)) {
    problems.push({
      code: 'CONTENT_NO_LOCALE',
      file: defaultLocale,
      path: '',
      message: `there is no folder for the default locale "${defaultLocale}" in ${rootDir}`,
    });
  }
  const loaded = await Promise.all(locales.map((locale) => loadLocale(rootDir, locale)));
  problems.push(...loaded.flatMap((l) => l.problems));
  if (problems.length > 0) throw new ContentError(sortProblems(problems));
  return buildLibrary(loaded.flatMap((l) => (l.content ? [l.content] : [])), defaultLocale);
}

async function listLocales(rootDir: string, problems: ContentProblem[]): Promise<string[]> {
  const entries = await readdir(rootDir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const locales: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (LOCALE_FOLDER.test(entry.name)) {
      locales.push(entry.name);
    } else {
      problems.push({
        code: 'CONTENT_BAD_LOCALE',
        file: entry.name,
        path: '',
        message: 'folder name is not a language tag such as en, de or pt-BR',
      });
    }
  }
  return locales.sort();
}

/** Everything one locale's cross-checks need to know about the other files of that locale. */
interface LocaleFacts {
  readonly locale: string;
  /** Ids of all module files, valid or not, so one broken module does not make every reference to it an error too. */
  readonly moduleIds: ReadonlySet<string>;
  /** Undefined when safetyPlan.yaml is missing or broken: list references are then not checked. */
  readonly listIds: ReadonlySet<string> | undefined;
}

/** `content` is set only when the locale has no problems. */
async function loadLocale(rootDir: string, locale: string): Promise<{ content?: Content; problems: ContentProblem[] }> {
  const problems: ContentProblem[] = [];
  const [messages, safetyPlan, moduleNames] = await Promise.all([
    readYaml(rootDir, `${locale}/messages.yaml`, messagesSchema, problems),
    readYaml(rootDir, `${locale}/safetyPlan.yaml`, safetyPlanSchema, problems),
    listModuleFiles(rootDir, locale, problems),
  ]);
  const modules = await Promise.all(
    moduleNames.map((name) => readYaml(rootDir, `${locale}/${MODULES_FOLDER}/${name}${YAML_EXTENSION}`, moduleSchema, problems)),
  );

  const facts: LocaleFacts = {
    locale,
    moduleIds: new Set(moduleNames),
    listIds: safetyPlan?.data && new Set(safetyPlan.data.sections.map((s) => s.id)),
  };
  if (safetyPlan?.data) checkSafetyPlan(safetyPlan.source, safetyPlan.data);
  if (messages?.data) checkMenu(messages.source, messages.data, facts);
  // Placeholders are plain strings, so they are checked even when another key is broken.
  if (messages?.input !== undefined) checkPlaceholders(messages.source, messages.input, []);
  modules.forEach((parsed, i) => {
    if (parsed?.data) checkModule(parsed.source, parsed.data, moduleNames[i] ?? '', facts);
  });

  if (problems.length > 0 || !messages?.data || !safetyPlan?.data) return { problems };
  const byId = new Map(modules.flatMap((m) => (m?.data ? [[m.data.id, m.data] as const] : [])));
  // The menu lists exactly the module files (checked above), so this is every module, in menu order.
  const ordered = messages.data.menu.modules.map((id) => [id, byId.get(id) as Module] as const);
  const content = deepFreeze({ locale, messages: messages.data, modules: new FrozenMap(ordered), safetyPlan: safetyPlan.data });
  return { content, problems };
}

async function listModuleFiles(rootDir: string, locale: string, problems: ContentProblem[]): Promise<string[]> {
  const folder = `${locale}/${MODULES_FOLDER}`;
  try {
    const entries = await readdir(path.join(rootDir, folder), { withFileTypes: true });
    return entries
      .filter((e) => e.isFile() && e.name.endsWith(YAML_EXTENSION))
      .map((e) => e.name.slice(0, -YAML_EXTENSION.length))
      .sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    problems.push({ code: 'CONTENT_FILE_MISSING', file: folder, path: '', message: 'folder is missing (one YAML file per module)' });
    return [];
  }
}

function checkModule(source: ContentFile, module: Module, fileId: string, facts: LocaleFacts): void {
  if (module.id !== fileId) {
    source.report('CONTENT_ID_MISMATCH', ['id'], `id "${module.id}" must equal the file name "${fileId}"`);
  }
  const indexById = new Map<string, number>();
  module.steps.forEach((step, i) => {
    if (!indexById.has(step.id)) indexById.set(step.id, i);
    else source.report('CONTENT_DUPLICATE_STEP', ['steps', i, 'id'], `step id "${step.id}" is already used above`);
  });
  module.steps.forEach((step, i) => {
    for (const ref of stepReferences(step, i)) {
      if (!indexById.has(ref.id)) source.report('CONTENT_UNKNOWN_STEP', ref.path, `unknown step "${ref.id}"`);
    }
  });
  const graph: StepGraph = {
    steps: module.steps,
    indexById,
    edges: module.steps.map((step, i) => successors(module.steps, step, i, indexById)),
  };
  module.steps.forEach((step, i) => checkStep(source, graph, step, i, facts));
  checkFlow(source, graph);
}

/** A module's steps as a graph: who leads where, by index. */
interface StepGraph {
  readonly steps: readonly Step[];
  readonly indexById: ReadonlyMap<string, number>;
  /** Per step, the indexes it can lead to, or FALLS_OFF / UNKNOWN. */
  readonly edges: readonly (readonly number[])[];
}

/** Every step id a step names, with where it names it. */
function stepReferences(step: Step, i: number): { path: ContentPath; id: string }[] {
  const at = (...keys: PropertyKey[]): ContentPath => ['steps', i, ...keys];
  const refs: { path: ContentPath; id: string }[] = [];
  if (step.type === 'branch') {
    step.cases.forEach((c, k) => refs.push({ path: at('cases', k, 'next'), id: c.next }));
    refs.push({ path: at('otherwise'), id: step.otherwise });
    return refs;
  }
  if (step.type === 'end') return refs;
  if (step.next !== undefined) refs.push({ path: at('next'), id: step.next });
  if (step.type === 'choice') {
    step.options.forEach((o, k) => {
      if (o.next !== undefined) refs.push({ path: at('options', k, 'next'), id: o.next });
    });
  }
  return refs;
}

function checkStep(source: ContentFile, graph: StepGraph, step: Step, i: number, facts: LocaleFacts): void {
  if (step.type === 'choice') {
    const codes = step.options.map((o) => o.code);
    reportDuplicates(source, codes, (k) => ['steps', i, 'options', k, 'code'], 'CONTENT_DUPLICATE_CODE', 'option code');
  } else if (step.type === 'branch') {
    checkBranch(source, graph, step, i);
  } else if (step.type === 'pick' && facts.listIds && !facts.listIds.has(step.list)) {
    source.report(
      'CONTENT_UNKNOWN_LIST',
      ['steps', i, 'list'],
      `unknown list "${step.list}" (${facts.locale}/safetyPlan.yaml has: ${[...facts.listIds].join(', ')})`,
    );
  } else if (step.type === 'end') {
    step.suggest.forEach((id, k) => {
      if (!facts.moduleIds.has(id)) source.report('CONTENT_UNKNOWN_MODULE', ['steps', i, 'suggest', k], `unknown module "${id}"`);
    });
  }
}

function checkBranch(source: ContentFile, graph: StepGraph, branch: Extract<Step, { type: 'branch' }>, i: number): void {
  const { steps } = graph;
  const onIndex = graph.indexById.get(branch.on);
  if (onIndex === undefined) {
    source.report('CONTENT_UNKNOWN_STEP', ['steps', i, 'on'], `unknown step "${branch.on}"`);
    return;
  }
  const on = steps[onIndex] as Step;
  // Only an earlier step can have been answered; the dialog would otherwise branch on nothing.
  if (onIndex >= i) {
    source.report('CONTENT_BAD_BRANCH', ['steps', i, 'on'], `"${on.id}" must come before this branch`);
    return;
  }
  if (on.type !== 'choice' && on.type !== 'scale') {
    source.report('CONTENT_BAD_BRANCH', ['steps', i, 'on'], `"${on.id}" is a ${on.type} step; a branch needs a choice or scale step`);
    return;
  }
  // Earlier in the list is not enough: a `next` may jump over the question to the branch.
  if (onIndex !== 0 && reachableFrom(graph.edges, 0, onIndex).has(i)) {
    source.report('CONTENT_BAD_BRANCH', ['steps', i, 'on'], `a path reaches this branch without passing "${on.id}", so there may be no answer`);
  } else if (on.type === 'choice' && !on.remember && isAnsweredInAnotherTurn(graph, onIndex, i)) {
    source.report(
      'CONTENT_BAD_BRANCH',
      ['steps', i, 'on'],
      `"${on.id}" has remember: false, so its answer is gone once the bot waits for the person again: no waiting step may come between them`,
    );
  }
  branch.cases.forEach((c, k) => {
    const at = (key: string): ContentPath => ['steps', i, 'cases', k, key];
    if (on.type === 'choice') {
      if (c.atLeast !== undefined || c.atMost !== undefined) {
        const key = c.atLeast !== undefined ? 'atLeast' : 'atMost';
        source.report('CONTENT_BAD_BRANCH', at(key), `"${on.id}" is a choice step: use equals with an option code`);
      }
      const codes = on.options.map((o) => o.code);
      if (c.equals !== undefined && !codes.includes(c.equals)) {
        source.report('CONTENT_BAD_BRANCH', at('equals'), `"${c.equals}" is not an option code of "${on.id}" (codes: ${codes.join(', ')})`);
      }
      return;
    }
    if (c.equals !== undefined) {
      source.report('CONTENT_BAD_BRANCH', at('equals'), `"${on.id}" is a scale step: use atLeast or atMost`);
    }
    const low = c.atLeast ?? on.min;
    const high = c.atMost ?? on.max;
    if (low > high || low > on.max || high < on.min) {
      source.report('CONTENT_BAD_BRANCH', ['steps', i, 'cases', k], `can never match: "${on.id}" goes from ${on.min} to ${on.max}`);
    }
  });
}

/**
 * An answer to a `remember: false` choice lives only in the turn's memory (see
 * scriptedModuleDialog), so the branch must run before any step that waits for the person.
 */
function isAnsweredInAnotherTurn(graph: StepGraph, choiceIndex: number, branchIndex: number): boolean {
  const waits = [...reachableFrom(graph.edges, choiceIndex)].filter((w) => w !== choiceIndex && waitsForPerson(graph.steps[w] as Step));
  return waits.some((w) => reachableFrom(graph.edges, w, choiceIndex).has(branchIndex));
}

function waitsForPerson(step: Step): boolean {
  return step.type === 'say' ? step.pause : step.type !== 'branch' && step.type !== 'plan';
}

/** Where a step can lead: step indexes, or one of these two dead ends. */
const FALLS_OFF = -1;
/** A next naming an unknown step: reported as such, so it must not also count as a loop. */
const UNKNOWN = -2;

function successors(steps: readonly Step[], step: Step, i: number, indexById: ReadonlyMap<string, number>): number[] {
  const to = (id: string): number[] => [indexById.get(id) ?? UNKNOWN];
  const fallThrough = (next: string | undefined): number[] => {
    if (next !== undefined) return to(next);
    return [i + 1 < steps.length ? i + 1 : FALLS_OFF];
  };
  switch (step.type) {
    case 'end':
      return [];
    case 'branch':
      return [...step.cases.flatMap((c) => to(c.next)), ...to(step.otherwise)];
    case 'choice':
      return step.options.flatMap((o) => fallThrough(o.next ?? step.next));
    default:
      return fallThrough(step.next);
  }
}

/** Reachability from the first step, a way to an end from everywhere, and no falling off the list. */
function checkFlow(source: ContentFile, { steps, indexById, edges }: StepGraph): void {
  const lastIndex = steps.length - 1;
  if (edges[lastIndex]?.includes(FALLS_OFF)) {
    source.report(
      'CONTENT_NO_END',
      ['steps', lastIndex],
      'the last step must be an end step or have a next: the conversation would stop without an ending',
    );
  }

  const reached = reachableFrom(edges, 0);
  const first = steps[0] as Step;
  steps.forEach((step, i) => {
    // A duplicate id is already reported; calling it unreachable too would only add noise.
    if (!reached.has(i) && indexById.get(step.id) === i) {
      source.report('CONTENT_UNREACHABLE_STEP', ['steps', i], `step "${step.id}" cannot be reached from the first step "${first.id}"`);
    }
  });

  // Steps from which an end (or a dead end already reported) can be reached, found backwards.
  const canFinish = new Set<number>();
  let grew = true;
  while (grew) {
    grew = false;
    steps.forEach((step, i) => {
      if (canFinish.has(i)) return;
      const e = edges[i] ?? [];
      if (step.type === 'end' || e.some((n) => n < 0 || canFinish.has(n))) {
        canFinish.add(i);
        grew = true;
      }
    });
  }
  if (![...reached].some((i) => steps[i]?.type === 'end')) {
    source.report('CONTENT_NO_END', ['steps'], `no end step can be reached from the first step "${first.id}"`);
    return;
  }
  const trapped = [...reached].filter((i) => !canFinish.has(i)).sort((a, b) => a - b);
  if (trapped.length > 0) {
    const ids = trapped.map((i) => `"${steps[i]?.id}"`).join(', ');
    source.report('CONTENT_NO_END', ['steps', trapped[0] as number], `steps ${ids} loop forever: no way leads from them to an end step`);
  }
}

/** Indexes reachable from `start`, optionally never passing through `avoid`. */
function reachableFrom(edges: StepGraph['edges'], start: number, avoid?: number): Set<number> {
  const reached = new Set<number>([start]);
  const queue = [start];
  for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
    for (const next of edges[i] ?? []) {
      if (next >= 0 && next !== avoid && !reached.has(next)) {
        reached.add(next);
        queue.push(next);
      }
    }
  }
  return reached;
}

function checkMenu(source: ContentFile, messages: Messages, facts: LocaleFacts): void {
  const listed = messages.menu.modules;
  reportDuplicates(source, listed, (k) => ['menu', 'modules', k], 'CONTENT_DUPLICATE_MODULE', 'module');
  listed.forEach((id, k) => {
    if (!facts.moduleIds.has(id)) {
      const expectedFile = `${facts.locale}/${MODULES_FOLDER}/${id}${YAML_EXTENSION}`;
      source.report('CONTENT_UNKNOWN_MODULE', ['menu', 'modules', k], `unknown module "${id}" (there is no ${expectedFile})`);
    }
  });
  const urges = messages.safety.grounding.urgesModule;
  if (!facts.moduleIds.has(urges)) {
    source.report('CONTENT_UNKNOWN_MODULE', ['safety', 'grounding', 'urgesModule'], `unknown module "${urges}" (there is no ${facts.locale}/${MODULES_FOLDER}/${urges}${YAML_EXTENSION})`);
  }
  for (const id of facts.moduleIds) {
    if (!listed.includes(id)) {
      source.report('CONTENT_UNLISTED_MODULE', ['menu', 'modules'], `module "${id}" is not listed, so no one could open it`);
    }
  }
}

/** Walks every string of messages.yaml; list indexes are part of the path but not of the table key. */
function checkPlaceholders(source: ContentFile, value: unknown, at: PropertyKey[]): void {
  if (typeof value === 'string') {
    const key = at.filter((k) => typeof k === 'string').join('.');
    const allowed = MESSAGE_PLACEHOLDERS[key] ?? [];
    for (const match of value.matchAll(PLACEHOLDER)) {
      const name = match[1] ?? '';
      if (allowed.includes(name)) continue;
      const hint =
        allowed.length > 0 ? `only ${allowed.map((a) => `{${a}}`).join(', ')} can be used here` : 'this message has no placeholders';
      source.report('CONTENT_PLACEHOLDER', at, `{${name}} is not filled in by the bot: ${hint}`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => checkPlaceholders(source, item, [...at, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) checkPlaceholders(source, item, [...at, key]);
  }
}

function checkSafetyPlan(source: ContentFile, plan: SafetyPlanLists): void {
  reportDuplicates(source, plan.sections.map((s) => s.id), (k) => ['sections', k, 'id'], 'CONTENT_DUPLICATE_SECTION', 'list id');
  plan.sections.forEach((section, s) => {
    const codes = section.items.map((item) => item.code);
    reportDuplicates(source, codes, (k) => ['sections', s, 'items', k, 'code'], 'CONTENT_DUPLICATE_CODE', 'item code');
  });
}

function reportDuplicates(
  source: ContentFile,
  values: readonly string[],
  pathOf: (index: number) => ContentPath,
  code: 'CONTENT_DUPLICATE_CODE' | 'CONTENT_DUPLICATE_SECTION' | 'CONTENT_DUPLICATE_MODULE',
  what: string,
): void {
  values.forEach((value, k) => {
    if (values.indexOf(value) < k) source.report(code, pathOf(k), `${what} "${value}" is already used above`);
  });
}

function sortProblems(problems: ContentProblem[]): ContentProblem[] {
  // Stable sort: problems of one line keep the order in which the checks found them.
  return [...problems].sort((a, b) => (a.file === b.file ? (a.line ?? 0) - (b.line ?? 0) : a.file < b.file ? -1 : 1));
}

function buildLibrary(contents: Content[], defaultLocale: string): ContentLibrary {
  const locales = new FrozenMap(contents.map((c) => [c.locale, c] as const));
  const byLowerCase = new Map(contents.map((c) => [c.locale.toLowerCase(), c] as const));
  const fallback = locales.get(defaultLocale) as Content;
  return Object.freeze({
    defaultLocale,
    locales,
    /** Exact tag, then its language (`pt-BR` -> `pt`), then the default. Channels send `en-US`, `pt_br`, `PT`. */
    forLocale(tag: string | undefined): Content {
      const wanted = (tag ?? '').trim().replace(/_/g, '-').toLowerCase();
      return byLowerCase.get(wanted) ?? byLowerCase.get(wanted.split('-')[0] ?? '') ?? fallback;
    },
  });
}

/** A Map that refuses changes after construction: freezing a Map object does not stop `set`. */
class FrozenMap<K, V> extends Map<K, V> {
  constructor(entries: Iterable<readonly [K, V]>) {
    super();
    for (const [key, value] of entries) super.set(key, value);
    Object.freeze(this);
  }
  override set(): this {
    throw new TypeError('content is read-only');
  }
  override delete(): boolean {
    throw new TypeError('content is read-only');
  }
  override clear(): void {
    throw new TypeError('content is read-only');
  }
}

function deepFreeze<T>(value: T): T {
  if (value instanceof Map) {
    for (const item of value.values()) deepFreeze(item);
  } else if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}
