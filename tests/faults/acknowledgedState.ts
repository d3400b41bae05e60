/**
 * What a person's acknowledged turns promise about the store, and the check of a store against
 * it. Nothing typed is stored, so the promise is about structure: consent given, and which step
 * of which module the person was last asked (profile.progress and the dialog stack both say so).
 *
 * The step is recognised from what the bot said: the last message of a turn is the waiting
 * step's prompt (dialogs/scriptedModuleDialog.ts promptStep), matched against the content.
 */
import type { Content, Module, Text } from '../../bot/content/schema.js';
import type { Pseudonymizer } from '../../bot/privacy/pseudonym.js';
import type { WaypointStorage } from '../../bot/storage/waypointStorage.js';
import type { Profile } from '../../dialogs/profile.js';
import type { BotTurn } from './directLinePerson.js';

const CHANNEL_ID = 'directline';
const READ_BATCH = 100;

export interface StepRef {
  readonly moduleId: string;
  readonly stepId: string;
}

/** Recognises module steps from the bot's last message(s) of a turn. */
export class StepIndex {
  private readonly byPrompt = new Map<string, StepRef[]>();

  constructor(private readonly content: Content) {
    const { messages } = content;
    for (const module of content.modules.values()) {
      for (const step of module.steps) {
        const last = 'text' in step && step.text !== undefined ? lastBubble(step.text) : undefined;
        if (last === undefined) continue;
        if ((step.type === 'say' && step.pause) || step.type === 'choice' || step.type === 'scale' || step.type === 'reflect') this.add(last, module, step.id);
        // These end on a prompt every such step shares, said right after the step's own text.
        if (step.type === 'pick') this.add(`${last}\n${messages.pick.instructions}`, module, step.id);
        if (step.type === 'end') this.add(`${last}\n${messages.end.prompt}`, module, step.id);
      }
    }
  }

  /** The steps the turn may have left the person at; undefined when it left them elsewhere (menu, consent, a re-prompt). */
  stepAfter(turn: BotTurn): readonly StepRef[] | undefined {
    const [before, last] = turn.texts.slice(-2);
    if (last === undefined) return undefined;
    return (before !== undefined ? this.byPrompt.get(`${before}\n${last}`) : undefined) ?? this.byPrompt.get(last);
  }

  /** The bot only shows the menu or a module to someone who has agreed. */
  showsConsentGiven(turn: BotTurn): boolean {
    return turn.texts.includes(this.content.messages.menu.prompt) || this.stepAfter(turn) !== undefined;
  }

  /** The turn went wrong: the bot said its calm "something went wrong". */
  isErrorReply(turn: BotTurn): boolean {
    const sorry = new Set(bubbles(this.content.messages.error.somethingWentWrong));
    return turn.texts.some((text) => sorry.has(text));
  }

  private add(prompt: string, module: Module, stepId: string): void {
    const refs = this.byPrompt.get(prompt) ?? [];
    refs.push({ moduleId: module.id, stepId });
    this.byPrompt.set(prompt, refs);
  }
}

/** One person's acknowledged progress, kept by the script as the POSTs are answered. */
export class Acknowledged {
  consent = false;
  /** Where the last acknowledged turn left the person; undefined: not at a module step. */
  at: readonly StepRef[] | undefined;
  turns = 0;
  /** A turn was posted and never answered (the process died under it): its outcome is unknown. */
  inFlight = false;

  constructor(
    readonly userId: string,
    readonly conversationId: string,
  ) {}

  acknowledge(turn: BotTurn, index: StepIndex): void {
    this.turns++;
    if (index.showsConsentGiven(turn)) this.consent = true;
    this.at = index.stepAfter(turn);
  }
}

export interface StoreCheck {
  readonly people: number;
  /** Checked against their last acknowledged step: nothing was in flight for them. */
  readonly exact: number;
  /** Had a turn in flight at the kill, so only what no later turn can undo (consent) is checked. */
  readonly inFlight: number;
  /** Acknowledged consent, checked. */
  readonly consent: number;
  readonly problems: readonly string[];
}

/** Reads every person's stored state and compares it with what their acknowledged turns promise. */
export async function checkStore(
  storage: WaypointStorage,
  pseudonymize: Pseudonymizer,
  content: Content,
  people: readonly Acknowledged[],
): Promise<StoreCheck> {
  const problems: string[] = [];
  let exact = 0;
  let consent = 0;
  for (let from = 0; from < people.length; from += READ_BATCH) {
    const batch = people.slice(from, from + READ_BATCH);
    const keys = batch.map((person) => ({
      user: pseudonymize('user', CHANNEL_ID, person.userId),
      conversation: pseudonymize('conversation', CHANNEL_ID, person.conversationId),
    }));
    const items = await storage.read(keys.flatMap((key) => [key.user, key.conversation]));
    batch.forEach((person, i) => {
      const profile = (items[keys[i]!.user] as { profile?: Profile } | undefined)?.profile;
      const conversation = items[keys[i]!.conversation];
      const who = `${person.userId} (after ${person.turns} acknowledged turns${person.inFlight ? ', one in flight' : ''})`;
      if (person.consent) {
        consent++;
        if (profile?.consent?.version !== content.messages.consent.version) problems.push(`${who}: acknowledged consent is not stored`);
      }
      if (person.inFlight || person.at === undefined) return;
      exact++;
      const waiting = moduleStatesIn(conversation);
      const matches = person.at.some(
        (at) =>
          profile?.lastModule === at.moduleId &&
          profile.progress[at.moduleId]?.stepId === at.stepId &&
          waiting.some((state) => state.moduleId === at.moduleId && state.stepId === at.stepId),
      );
      if (!matches) {
        const stored = `profile at ${profile?.lastModule}/${profile?.lastModule ? profile.progress[profile.lastModule]?.stepId : undefined}, dialog at ${waiting.map((s) => `${s.moduleId}/${s.stepId}`).join(',') || 'no module'}`;
        problems.push(`${who}: acknowledged ${person.at.map((at) => `${at.moduleId}/${at.stepId}`).join(' or ')}, stored ${stored}`);
      }
    });
  }
  return { people: people.length, exact, inFlight: people.filter((p) => p.inFlight).length, consent, problems };
}

/** The module dialog's own state ({ moduleId, stepId }) wherever it sits in the stored dialog stack. */
function moduleStatesIn(value: unknown, found: StepRef[] = []): StepRef[] {
  if (Array.isArray(value)) {
    for (const item of value) moduleStatesIn(item, found);
  } else if (typeof value === 'object' && value !== null) {
    const record = value as Record<string, unknown>;
    if (typeof record.moduleId === 'string' && typeof record.stepId === 'string') found.push({ moduleId: record.moduleId, stepId: record.stepId });
    for (const item of Object.values(record)) moduleStatesIn(item, found);
  }
  return found;
}

function bubbles(text: Text): string[] {
  return Array.isArray(text) ? [...text] : [text];
}

function lastBubble(text: Text): string | undefined {
  return bubbles(text).at(-1);
}
