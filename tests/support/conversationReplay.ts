/**
 * Replays one conversation script through a real Waypoint runtime (tests/support/botHarness.ts)
 * and checks every expectation against the content the bot has loaded. A failure names the
 * script, the step and what the bot actually said, so a broken flow reads like a transcript.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { Activity } from 'botbuilder';
import type { Content, Step, Text } from '../../bot/content/schema.js';
import { buttons, createBotHarness, REPO_ROOT, texts, type BotHarness } from './botHarness.js';
import type { MemoryAdapter } from '../../bot/channels/memory/memoryAdapter.js';
import {
  MESSAGE_KEY,
  type ContentEdit,
  type Expectation,
  type LabelRef,
  type LoadedScript,
  type MediaKind,
  type ScriptStep,
  type TextRef,
  type UserInput,
} from './conversationScript.js';

/** Log events that mean a turn went wrong; a script fails on the first one, whatever it expects. */
const FAILURE_EVENTS = new Set(['turn.failed', 'turn.recoveryFailed', 'privacy.writeRefused']);
const TICK = '✓ ';
const PERSON_ID = 'person-1';

const MEDIA: Record<MediaKind, { contentType: string; name: string }> = {
  image: { contentType: 'image/jpeg', name: 'photo.jpg' },
  file: { contentType: 'application/pdf', name: 'document.pdf' },
  audio: { contentType: 'audio/ogg', name: 'voice.ogg' },
  sticker: { contentType: 'image/webp', name: 'sticker.webp' },
};

/** A step whose expectations were not met: carries the transcript of the turn it checked. */
export class ConversationFailure extends Error {
  override readonly name = 'ConversationFailure';
}

interface Turn {
  readonly input: string;
  readonly replies: Activity[];
}

export async function replayConversation({ file, script }: LoadedScript): Promise<void> {
  const editsContent = script.steps.some((step) => step.editContent !== undefined);
  const contentCopy = editsContent ? await copyContent() : undefined;
  const harness = await createBotHarness({ ...script.env, ...(contentCopy ? { CONTENT_DIR: contentCopy } : {}) });
  try {
    await new Replay(file, script.locale, harness, contentCopy).run(script.steps);
  } finally {
    await harness.close();
    if (contentCopy) await rm(contentCopy, { recursive: true, force: true });
  }
}

async function copyContent(): Promise<string> {
  const copy = await mkdtemp(path.join(os.tmpdir(), 'waypoint-conversation-content-'));
  await cp(path.join(REPO_ROOT, 'resources/content'), copy, { recursive: true });
  return copy;
}

class Replay {
  private person: MemoryAdapter;
  private readonly conversations: MemoryAdapter[] = [];
  private turn: Turn | undefined;
  private logCursor = 0;
  private index = 0;

  constructor(
    private readonly file: string,
    private readonly locale: string | undefined,
    private readonly harness: BotHarness,
    private readonly contentCopy: string | undefined,
  ) {
    this.person = this.openConversation();
    this.conversations.push(this.person);
  }

  async run(steps: readonly ScriptStep[]): Promise<void> {
    for (const [index, step] of steps.entries()) {
      this.index = index;
      await this.runStep(step);
    }
    this.checkLogs();
  }

  private async runStep(step: ScriptStep): Promise<void> {
    if (step.join) {
      await this.exchange('(joins the chat)', () => this.person.join());
    } else if (step.user !== undefined) {
      await this.userTurn(step.user);
    } else if (step.expect) {
      this.check(step.expect);
    } else if (step.restart) {
      await this.harness.restart();
    } else if (step.newConversation) {
      this.person = this.openConversation();
      this.conversations.push(this.person);
      this.turn = undefined;
    } else if (step.backToConversation !== undefined) {
      const n = step.backToConversation;
      this.person = this.conversations[n - 1] ?? this.fail([`there is no conversation ${n}: ${this.conversations.length} opened so far`]);
      this.turn = undefined;
    } else if (step.editContent) {
      const edits = Array.isArray(step.editContent) ? step.editContent : [step.editContent];
      for (const edit of edits) await this.editContent(edit);
    }
  }

  private openConversation(): MemoryAdapter {
    return this.harness.person({ userId: PERSON_ID, ...(this.locale ? { locale: this.locale } : {}) });
  }

  private get content(): Content {
    return this.harness.runtime.content.forLocale(this.locale);
  }

  private async userTurn(input: UserInput): Promise<void> {
    if (typeof input === 'string') {
      await this.exchange(input, () => this.person.say(input));
    } else if ('press' in input) {
      const label = this.pressedLabel(input.press);
      await this.exchange(`[${label}]`, () => this.person.say(label));
    } else {
      const media = MEDIA[input.attachment];
      const activity: Partial<Activity> = {
        type: 'message',
        text: input.text,
        attachments: [{ contentType: media.contentType, contentUrl: `https://example.invalid/${media.name}`, name: media.name }],
      };
      await this.exchange(`(sends ${input.attachment})${input.text ? ` ${input.text}` : ''}`, () => this.person.turn(activity));
    }
  }

  private async exchange(input: string, send: () => Promise<Activity[]>): Promise<void> {
    this.turn = { input, replies: await send() };
    this.checkLogs();
  }

  /** The label of the button to press: by position, or by name if the bot offers it (ticked or not). */
  private pressedLabel(press: number | LabelRef): string {
    const offered = this.turn ? buttons(this.turn.replies) : [];
    if (typeof press === 'number') {
      const label = offered[press - 1];
      if (label === undefined) this.fail([`cannot press button ${press}: ${offered.length} offered`]);
      return label;
    }
    const wanted = this.label(press);
    const label = offered.find((o) => o === wanted || o === TICK + wanted);
    if (label === undefined) this.fail([`cannot press "${wanted}": it is not offered`]);
    return label;
  }

  private checkLogs(): void {
    const lines = this.harness.logLines();
    const failures = lines.slice(this.logCursor).filter((line) => FAILURE_EVENTS.has(String(line.event)));
    this.logCursor = lines.length;
    if (failures.length > 0) {
      this.fail(['the turn logged a failure:', ...failures.map((line) => `  ${JSON.stringify(line)}`)]);
    }
  }

  private async editContent(edit: ContentEdit): Promise<void> {
    if (!this.contentCopy) throw new Error('unreachable: editContent without a content copy');
    const target = path.join(this.contentCopy, this.content.locale, edit.file);
    const doc = parseDocument(await readFile(target, 'utf8').catch(() => this.fail([`no content file ${edit.file}`])));
    const parent = edit.path.slice(0, -1);
    if (parent.length > 0 && !doc.hasIn(parent)) this.fail([`${edit.file} has nothing at ${parent.join('.')}`]);
    doc.setIn(edit.path, edit.value);
    await writeFile(target, String(doc));
  }

  private check(expectation: Expectation): void {
    if (!this.turn) this.fail(['expect needs a turn before it: join, or something the person says']);
    const { replies } = this.turn;
    const said = texts(replies);
    const offered = buttons(replies);
    const problems: string[] = [];

    for (const key of list(expectation.message)) {
      const missing = missingInOrder(said, this.message(key));
      if (missing) problems.push(`expected message ${key}, missing: "${missing}"`);
    }
    for (const key of list(expectation.notMessage)) {
      const found = this.message(key).find((bubble) => said.some(matcher(bubble)));
      if (found) problems.push(`did not expect message ${key}, but it said: "${found}"`);
    }
    const whole = said.join('\n');
    for (const ref of list(expectation.contains)) {
      const text = this.text(ref);
      if (!whole.includes(text)) problems.push(`expected the reply to contain "${text}"`);
    }
    for (const ref of list(expectation.notContains)) {
      const text = this.text(ref);
      if (whole.includes(text)) problems.push(`did not expect the reply to contain "${text}"`);
    }
    if (expectation.module) {
      const stepIds = expectation.steps ?? (expectation.step ? [expectation.step] : []);
      if (stepIds.length > 0) problems.push(...this.checkSteps(said, offered, expectation.module, stepIds));
      for (const stepId of expectation.notSteps ?? []) {
        const first = this.stepBubbles(this.step(expectation.module, stepId))[0]!;
        if (said.some(matcher(first))) problems.push(`did not expect step ${expectation.module}.${stepId}: "${first}"`);
      }
    }
    if (expectation.buttons) {
      const wanted = expectation.buttons.map((ref) => this.label(ref));
      if (JSON.stringify(wanted) !== JSON.stringify(offered)) problems.push(`expected buttons ${showButtons(wanted)}`);
    }
    for (const ref of expectation.buttonsInclude ?? []) {
      const wanted = this.label(ref);
      if (!offered.includes(wanted)) problems.push(`expected a button "${wanted}"`);
    }
    for (const ref of expectation.buttonsExclude ?? []) {
      const unwanted = this.label(ref);
      if (offered.includes(unwanted)) problems.push(`did not expect a button "${unwanted}"`);
    }
    if (expectation.noButtons && offered.length > 0) problems.push('expected no buttons');
    if (expectation.ticked) problems.push(...this.checkTicked(offered, expectation.ticked));
    if (expectation.acknowledged !== undefined) {
      const acks = this.acknowledgements();
      const acknowledged = said.some((text) => acks.has(text));
      if (acknowledged !== expectation.acknowledged) {
        problems.push(expectation.acknowledged ? 'expected the answer to be acknowledged' : 'did not expect an acknowledgement');
      }
    }
    if (expectation.silent && replies.length > 0) problems.push('expected the bot to say nothing');
    if (expectation.stored || expectation.notStored) {
      // Every write of the turn was awaited before the turn returned, so the files are current.
      const stored = storedText(this.harness.dataDir);
      for (const text of expectation.stored ?? []) if (!stored.includes(text)) problems.push(`expected the store to hold "${text}"`);
      for (const text of expectation.notStored ?? []) if (stored.includes(text)) problems.push(`did not expect the store to hold "${text}"`);
    }
    if (problems.length > 0) this.fail(problems);
  }

  private checkSteps(said: string[], offered: string[], moduleId: string, stepIds: readonly string[]): string[] {
    const steps = stepIds.map((stepId) => this.step(moduleId, stepId));
    let cursor = 0;
    let previous: Step | undefined;
    for (const step of steps) {
      const bubbles = this.stepBubbles(step);
      const first = matcher(bubbles[0]!);
      const start = said.findIndex((text, i) => i >= cursor && first(text));
      if (start < 0) return [`expected step ${moduleId}.${step.id}${previous ? ` after ${previous.id}` : ''}: "${bubbles[0]}"`];
      // Back to back, so a step said in between (a branch gone the wrong way) is caught; a plan shows the plan after its text.
      if (previous && previous.type !== 'plan' && start !== cursor) {
        return [`expected step ${moduleId}.${step.id} right after ${previous.id}, but first came: "${said[cursor]}"`];
      }
      for (const [offset, bubble] of bubbles.entries()) {
        if (!matcher(bubble)(said[start + offset] ?? '')) return [`step ${moduleId}.${step.id} is incomplete, missing: "${bubble}"`];
      }
      cursor = start + bubbles.length;
      previous = step;
    }
    const waiting = previous && this.stepButtons(previous);
    if (waiting) {
      const shown = previous?.type === 'pick' ? offered.map(untick) : offered;
      if (JSON.stringify(shown) !== JSON.stringify(waiting)) {
        return [`expected step ${moduleId}.${previous!.id} to offer ${showButtons(waiting)}`];
      }
    }
    return [];
  }

  private step(moduleId: string, stepId: string): Step {
    const module = this.content.modules.get(moduleId) ?? this.fail([`unknown module "${moduleId}"`]);
    return module.steps.find((s) => s.id === stepId) ?? this.fail([`${moduleId} has no step "${stepId}"`]);
  }

  /** What the bot says for a step, including the fixed sentence some steps ask with. */
  private stepBubbles(step: Step): string[] {
    const { messages } = this.content;
    switch (step.type) {
      case 'pick':
        return [...bubblesOf(step.text), messages.pick.instructions];
      case 'end':
        return [...bubblesOf(step.text), messages.end.prompt];
      case 'branch':
        return this.fail([`step "${step.id}" is a branch: it says nothing; name the step it leads to`]);
      case 'plan':
        // Without its own text a plan step opens with the plan's heading (or plan.empty, which this does not expect).
        return step.text ? bubblesOf(step.text) : [messages.plan.heading];
      default:
        return bubblesOf(step.text);
    }
  }

  /** The buttons a waiting step offers (unticked), or undefined for a step that does not wait. */
  private stepButtons(step: Step): string[] | undefined {
    const { messages, modules, safetyPlan } = this.content;
    switch (step.type) {
      case 'say':
        return step.pause ? [messages.module.continue] : undefined;
      case 'choice':
        return step.options.map((o) => o.label);
      case 'scale':
        return Array.from({ length: step.max - step.min + 1 }, (_, i) => String(step.min + i));
      case 'reflect':
        return [messages.reflect.skip];
      case 'pick': {
        const items = safetyPlan.sections.find((s) => s.id === step.list)?.items ?? [];
        return [...items.map((i) => i.label), messages.pick.done];
      }
      case 'end':
        return [...step.suggest.map((id) => modules.get(id)?.title ?? id), messages.end.menu, messages.end.human];
      default:
        return undefined;
    }
  }

  private checkTicked(offered: string[], codes: readonly string[]): string[] {
    const wanted = codes.map((code) => this.label({ item: code })).sort();
    const ticked = offered.filter((label) => label.startsWith(TICK)).map(untick).sort();
    return JSON.stringify(wanted) === JSON.stringify(ticked) ? [] : [`expected ticked items ${showButtons(wanted)}`];
  }

  private acknowledgements(): Set<string> {
    const { messages, modules } = this.content;
    const acks = new Set(messages.reflect.acknowledgements);
    for (const module of modules.values()) {
      for (const step of module.steps) if (step.type === 'reflect' && step.ack) bubblesOf(step.ack).forEach((b) => acks.add(b));
    }
    return acks;
  }

  /** The bubbles of a messages.yaml key. */
  private message(key: string): string[] {
    let value: unknown = this.content.messages;
    for (const part of key.split('.')) {
      value = typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>)[part] : undefined;
    }
    const isText = typeof value === 'string' || (Array.isArray(value) && value.every((v) => typeof v === 'string'));
    if (!isText) this.fail([`messages.yaml has no text at "${key}"`]);
    return bubblesOf(value as Text);
  }

  private label(ref: LabelRef): string {
    if (typeof ref === 'string') {
      if (!MESSAGE_KEY.test(ref)) return ref;
      const bubbles = this.message(ref);
      if (bubbles.length !== 1) this.fail([`"${ref}" is a list of messages, not a label`]);
      return bubbles[0]!;
    }
    return this.text(ref);
  }

  private text(ref: TextRef): string {
    if (typeof ref === 'string') return ref;
    const { modules, safetyPlan } = this.content;
    if ('title' in ref) return modules.get(ref.title)?.title ?? this.fail([`unknown module "${ref.title}"`]);
    if ('item' in ref) {
      const item = safetyPlan.sections.flatMap((s) => s.items).find((i) => i.code === ref.item);
      return item?.label ?? this.fail([`safetyPlan.yaml has no item "${ref.item}"`]);
    }
    const [moduleId, stepId, code] = ref.option.split('.') as [string, string, string];
    const step = modules.get(moduleId)?.steps.find((s) => s.id === stepId);
    if (step?.type !== 'choice') this.fail([`"${moduleId}.${stepId}" is not a choice step`]);
    return step.options.find((o) => o.code === code)?.label ?? this.fail([`${moduleId}.${stepId} has no option "${code}"`]);
  }

  private fail(problems: string[]): never {
    const lines = [`${this.file}, steps[${this.index}]:`, ...problems.map((p) => `  ${p}`), ...this.transcript()];
    throw new ConversationFailure(lines.join('\n'));
  }

  private transcript(): string[] {
    if (!this.turn) return ['  (no turn yet)'];
    const lines = [`  the person: ${this.turn.input}`, '  the bot:'];
    if (this.turn.replies.length === 0) lines.push('    (nothing)');
    for (const reply of this.turn.replies) {
      if (reply.text) lines.push(...reply.text.split('\n').map((line) => `    | ${line}`));
      const offered = (reply.suggestedActions?.actions ?? []).map((a) => String(a.title));
      if (offered.length > 0) lines.push(`    ${showButtons(offered)}`);
    }
    return lines;
  }
}

function list<T>(value: T | T[] | undefined): T[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function bubblesOf(text: Text): string[] {
  return Array.isArray(text) ? [...text] : [text];
}

function untick(label: string): string {
  return label.startsWith(TICK) ? label.slice(TICK.length) : label;
}

function showButtons(labels: readonly string[]): string {
  return labels.map((label) => `[${label}]`).join(' ');
}

/** A bubble equals the template; a {placeholder} stands for any text. */
function matcher(template: string): (text: string) => boolean {
  if (!/\{\w+\}/.test(template)) return (text) => text === template;
  const pattern = template
    .split(/\{\w+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('.+?');
  const regex = new RegExp(`^${pattern}$`, 's');
  return (text) => regex.test(text);
}

/** The first bubble not found after the ones before it, or undefined when all are there in order. */
function missingInOrder(said: readonly string[], bubbles: readonly string[]): string | undefined {
  let cursor = 0;
  for (const bubble of bubbles) {
    const at = said.findIndex((text, i) => i >= cursor && matcher(bubble)(text));
    if (at < 0) return bubble;
    cursor = at + 1;
  }
  return undefined;
}

/** Every record in the store, as compact JSON: what the store would reveal about the person. */
function storedText(dataDir: string): string {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((entry) => {
      const full = path.join(dir, entry);
      if (statSync(full).isDirectory()) return walk(full);
      return entry.endsWith('.json') ? [JSON.stringify(JSON.parse(readFileSync(full, 'utf8')))] : [];
    });
  return walk(path.join(dataDir, 'state')).join('\n');
}
