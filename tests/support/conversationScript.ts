/**
 * The format of a conversation script (tests/conversations/*.yaml): what the person does, step
 * by step, and what the bot must say back. Scripts name content by key (`menu.prompt`, a module
 * step, an option code), never by its wording, so clinicians can reword text without breaking
 * a test, while a change in the flow still fails one. Objects are strict: a typo such as
 * `expct:` fails with the file and step index instead of being ignored.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

const id = z.string().regex(/^[a-z][a-zA-Z0-9-]*$/, 'must be an id such as "relationships" or "count-online"');

/** A label written as `consent.agree` is that key of messages.yaml: dotted, so "Yes" stays a literal label. */
export const MESSAGE_KEY = /^[a-z][a-zA-Z0-9-]*(\.[a-z][a-zA-Z0-9-]*)+$/;
/** `welcome`, `menu.prompt`: a key into messages.yaml, dotted below the top level. */
const messageKey = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9-]*(\.[a-z][a-zA-Z0-9-]*)*$/, 'must be a key into messages.yaml, such as "help" or "menu.prompt"');

/**
 * A button label or a piece of text, named the way content names it:
 * - a string shaped like a messages key (`end.menu`) is that message; any other string is literal;
 * - `{ title: urges }` is a module's title, `{ option: relationships.count-online.none }` a choice
 *   option's label, `{ item: feeling-lonely }` a safety-plan item's label.
 */
export const labelRefSchema = z.union([
  z.string().min(1),
  z.strictObject({ title: id }),
  z.strictObject({
    option: z.string().regex(/^[a-z][a-zA-Z0-9-]*\.[a-z][a-zA-Z0-9-]*\.[a-z][a-zA-Z0-9-]*$/, 'must be "module.step.code"'),
  }),
  z.strictObject({ item: id }),
]);
export type LabelRef = z.infer<typeof labelRefSchema>;

/** Like a label, but a plain string is always literal text (for `contains`). */
const textRefSchema = z.union([z.string().min(1), labelRefSchema.options[1], labelRefSchema.options[2], labelRefSchema.options[3]]);
export type TextRef = z.infer<typeof textRefSchema>;

const oneOrMore = <T extends z.ZodType>(schema: T) => z.union([schema, z.array(schema).min(1)]);

export const expectationSchema = z
  .strictObject({
    /** Every bubble of these messages is in the reply, in order ({placeholders} match anything). */
    message: oneOrMore(messageKey).optional(),
    /** None of these messages' bubbles is in the reply. */
    notMessage: oneOrMore(messageKey).optional(),
    /** The reply's text contains each of these (literal strings, titles, option or item labels). */
    contains: oneOrMore(textRefSchema).optional(),
    notContains: oneOrMore(textRefSchema).optional(),
    /** The module whose steps `step`, `steps` and `notSteps` name. */
    module: id.optional(),
    /**
     * These steps are said, in this order and back to back (only a `plan` step's rendered plan
     * may come between). A waiting step (choice, scale, reflect, pick, end, paused say) must be
     * the one asked, with exactly its buttons.
     */
    step: id.optional(),
    steps: z.array(id).min(1).optional(),
    /** With `module`: none of these steps is said (e.g. "continue" does not start from the top again). */
    notSteps: z.array(id).min(1).optional(),
    /** The buttons offered, exactly and in order. */
    buttons: z.array(labelRefSchema).optional(),
    buttonsInclude: z.array(labelRefSchema).min(1).optional(),
    buttonsExclude: z.array(labelRefSchema).min(1).optional(),
    noButtons: z.literal(true).optional(),
    /** The safety-plan items shown ticked (✓) on the pick buttons: exactly these codes. */
    ticked: z.array(id).optional(),
    /** true: a free-text answer was acknowledged (a messages.reflect acknowledgement or the step's own ack); false: it was not. */
    acknowledged: z.boolean().optional(),
    /** The bot sent nothing at all. */
    silent: z.literal(true).optional(),
    /** The stored records as compact JSON (`"count-online":"none"`): these strings must (not) appear in them. */
    stored: z.array(z.string().min(1)).min(1).optional(),
    notStored: z.array(z.string().min(1)).min(1).optional(),
  })
  .refine((e) => Object.keys(e).length > 0, 'an expect needs at least one check')
  .refine((e) => (e.step === undefined && e.steps === undefined && e.notSteps === undefined) === (e.module === undefined), {
    message: 'module goes with step, steps or notSteps, and they go with module',
    path: ['module'],
  })
  .refine((e) => e.step === undefined || e.steps === undefined, { message: 'use step or steps, not both', path: ['steps'] });
export type Expectation = z.infer<typeof expectationSchema>;

const mediaKind = z.enum(['image', 'file', 'audio', 'sticker']);
export type MediaKind = z.infer<typeof mediaKind>;

const userInputSchema = z.union([
  /** Typed text (or the exact label of a button, which is what pressing one sends). */
  z.string().min(1),
  /** Presses the Nth button (1-based) of the bot's last reply, or the offered button with that label. */
  z.strictObject({ press: z.union([z.number().int().min(1), labelRefSchema]) }),
  /** Sends a file, optionally with a caption. */
  z.strictObject({ attachment: mediaKind, text: z.string().min(1).optional() }),
]);
export type UserInput = z.infer<typeof userInputSchema>;

/** Changes one value in a copy of the content (the bot sees it after the next `restart`). */
const contentEditSchema = z.strictObject({
  /** Relative to the locale folder, e.g. `modules/urges.yaml`. */
  file: z.string().regex(/^[a-zA-Z0-9/_-]+\.yaml$/, 'must be a YAML file inside the locale folder, e.g. modules/urges.yaml'),
  /** Keys and list indexes down to the value, e.g. [version] or [steps, 0, pause]. */
  path: z.array(z.union([z.string().min(1), z.number().int().min(0)])).min(1),
  value: z.unknown(),
});
export type ContentEdit = z.infer<typeof contentEditSchema>;

export const scriptStepSchema = z
  .strictObject({
    /** The person opens the chat (a conversationUpdate announcing them). */
    join: z.literal(true).optional(),
    user: userInputSchema.optional(),
    expect: expectationSchema.optional(),
    /** The server restarts on the same data; the chat goes on where it was. */
    restart: z.literal(true).optional(),
    /** The same person opens a new conversation (a returning person); add `join` if the channel announces it. */
    newConversation: z.literal(true).optional(),
    /** Goes back to a conversation opened earlier: 1 is the first, each newConversation the next. */
    backToConversation: z.number().int().min(1).optional(),
    /** Edits the content copy the runtime reads; takes effect at the next `restart`. */
    editContent: oneOrMore(contentEditSchema).optional(),
  })
  .refine((s) => Object.values(s).filter((v) => v !== undefined).length === 1, {
    message: 'each step does exactly one thing: join, user, expect, restart, newConversation, backToConversation or editContent',
  });
export type ScriptStep = z.infer<typeof scriptStepSchema>;

export const conversationScriptSchema = z.strictObject({
  /** Shown as the test's name: say what behaviour the conversation shows. */
  name: z.string().min(1),
  /** Settings for this conversation's runtime (see bot/config.ts). */
  env: z.record(z.string(), z.string()).optional(),
  /** The locale the person's channel reports. */
  locale: z.string().min(2).optional(),
  steps: z.array(scriptStepSchema).min(1),
});
export type ConversationScript = z.infer<typeof conversationScriptSchema>;

export interface LoadedScript {
  /** Relative to the repository, for messages. */
  readonly file: string;
  readonly script: ConversationScript;
}

export class ConversationScriptError extends Error {
  override readonly name = 'ConversationScriptError';
}

/** Reads and validates one script; throws a ConversationScriptError naming the file and every problem. */
export async function loadConversationScript(absolutePath: string, repoRoot: string): Promise<LoadedScript> {
  const file = path.relative(repoRoot, absolutePath);
  let input: unknown;
  try {
    input = parse(await readFile(absolutePath, 'utf8'));
  } catch (error) {
    throw new ConversationScriptError(`${file}: not valid YAML: ${(error as Error).message}`);
  }
  const result = conversationScriptSchema.safeParse(input);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `  ${formatPath(issue.path)}: ${issue.message}`);
    throw new ConversationScriptError(`${file}: not a valid conversation script:\n${problems.join('\n')}`);
  }
  return { file, script: result.data };
}

function formatPath(keys: readonly PropertyKey[]): string {
  if (keys.length === 0) return '(the whole file)';
  return keys.map((key, i) => (typeof key === 'number' ? `[${key}]` : `${i === 0 ? '' : '.'}${String(key)}`)).join('');
}

/** Every module step a script expects to see, as `module.step`: how the suite checks it walks every step. */
export function stepsExpected(script: ConversationScript): string[] {
  return script.steps.flatMap(({ expect }) => {
    if (!expect?.module) return [];
    const ids = expect.steps ?? (expect.step ? [expect.step] : []);
    return ids.map((stepId) => `${expect.module}.${stepId}`);
  });
}
