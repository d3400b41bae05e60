/**
 * The shape of everything the bot says. Clinicians edit YAML; this schema is the contract
 * between those files and the dialogs. Objects are strict so a typo such as `nxt:` is an
 * error with a line number, not a silently ignored key.
 */
import { z } from 'zod';

/** Longest single chat bubble. Longer text is hard to read on a phone; split it into a list. */
export const MAX_BUBBLE_CHARS = 700;
/** Longest button label; channels truncate or wrap longer ones badly. */
export const MAX_LABEL_CHARS = 60;

const id = z
  .string()
  .regex(/^[a-z][a-zA-Z0-9-]*$/, 'must start with a lower-case letter and use only letters, digits and "-"');

const bubble = z.string().trim().min(1, 'must not be empty').max(MAX_BUBBLE_CHARS, `must be at most ${MAX_BUBBLE_CHARS} characters (split it into a list of shorter messages)`);

/** One message, or a list of messages sent one after another as separate chat bubbles. */
export const textSchema = z.union([bubble, z.array(bubble).min(1, 'must list at least one message')]);

const label = z.string().trim().min(1, 'must not be empty').max(MAX_LABEL_CHARS, `must be at most ${MAX_LABEL_CHARS} characters`);
/** Words a person may type instead of pressing a button. */
const synonyms = z.array(z.string().trim().min(1)).optional();

const sourceSchema = z.strictObject({
  title: z.string().min(1),
  publisher: z.string().min(1),
  /** Which facts of the module come from this source (content is written in our own words). */
  usedFor: z.string().min(1),
});

const optionSchema = z.strictObject({
  code: id,
  label,
  synonyms,
  /** Step to go to when this option is chosen; defaults to the step's `next`. */
  next: id.optional(),
});

const next = id.optional();

const sayStep = z.strictObject({
  id,
  type: z.literal('say'),
  text: textSchema,
  /** Wait for the person (a "Continue" button) before going on, so a long explanation arrives in pieces. */
  pause: z.boolean().default(false),
  next,
});

const choiceStep = z.strictObject({
  id,
  type: z.literal('choice'),
  text: textSchema,
  options: z.array(optionSchema).min(2, 'a choice needs at least two options').max(8, 'at most 8 options fit on a phone'),
  /**
   * false: the answer only decides a branch in the same turn and is never stored. Use it for
   * sensitive disclosures ("are you in contact with such groups?").
   */
  remember: z.boolean().default(true),
  next,
});

const scaleStep = z
  .strictObject({
    id,
    type: z.literal('scale'),
    text: textSchema,
    min: z.number().int().min(0),
    max: z.number().int().max(10),
    minLabel: label.optional(),
    maxLabel: label.optional(),
    next,
  })
  .refine((s) => s.min < s.max, { message: 'min must be less than max', path: ['max'] });

/** A free-text question. The answer is screened for risk, acknowledged and never stored. */
const reflectStep = z.strictObject({
  id,
  type: z.literal('reflect'),
  text: textSchema,
  /** Said after the answer; defaults to messages.reflect.acknowledgements. */
  ack: textSchema.optional(),
  next,
});

const branchCase = z
  .strictObject({
    /** A choice code of the `on` step. */
    equals: id.optional(),
    /** Inclusive bounds on a scale answer of the `on` step. */
    atLeast: z.number().int().optional(),
    atMost: z.number().int().optional(),
    next: id,
  })
  .refine((c) => c.equals !== undefined || c.atLeast !== undefined || c.atMost !== undefined, {
    message: 'a case needs equals, atLeast or atMost',
  });

const branchStep = z.strictObject({
  id,
  type: z.literal('branch'),
  /** An earlier choice or scale step whose stored answer decides the way. */
  on: id,
  cases: z.array(branchCase).min(1),
  otherwise: id,
});

/** Choose several items from a safety-plan list; the codes are saved in the person's plan. */
const pickStep = z.strictObject({
  id,
  type: z.literal('pick'),
  text: textSchema,
  /** A section id of safetyPlan.yaml. */
  list: id,
  next,
});

/** Shows the person's saved safety plan. */
const planStep = z.strictObject({ id, type: z.literal('plan'), text: textSchema.optional(), next });

const endStep = z.strictObject({
  id,
  type: z.literal('end'),
  text: textSchema,
  /** Modules offered as the next step, besides the menu and a counsellor. */
  suggest: z.array(id).max(3).default([]),
});

export const stepSchema = z.discriminatedUnion('type', [
  sayStep,
  choiceStep,
  scaleStep,
  reflectStep,
  branchStep,
  pickStep,
  planStep,
  endStep,
]);

export const moduleSchema = z.strictObject({
  /** Must equal the file name without `.yaml`. */
  id,
  /** Raise when steps change shape: people part-way through restart the module with a note. */
  version: z.number().int().min(1),
  title: label,
  /** One line shown in the menu. */
  summary: z.string().trim().min(1).max(160),
  sources: z.array(sourceSchema).min(1, 'every module lists where its facts come from'),
  steps: z.array(stepSchema).min(1),
});

const planSectionSchema = z.strictObject({
  id,
  title: label,
  items: z
    .array(z.strictObject({ code: id, label, synonyms }))
    .min(2)
    .max(12, 'at most 12 items: longer lists are hard to use on a phone'),
});

export const safetyPlanSchema = z.strictObject({
  sections: z.array(planSectionSchema).min(1),
});

const commandWords = z.array(z.string().trim().min(1)).min(1);

/**
 * Every fixed sentence of the bot. Placeholders in braces, e.g. `{title}`, are filled in by the
 * dialogs; the loader checks that each message uses only the placeholders it is given.
 */
export const messagesSchema = z.strictObject({
  /** Language name as shown to people choosing a language. */
  languageName: z.string().min(1),
  welcome: textSchema,
  consent: z.strictObject({
    /** Raise when the consent text changes in substance: everyone is asked again. */
    version: z.number().int().min(1),
    text: textSchema,
    question: bubble,
    agree: label,
    decline: label,
    declined: textSchema,
  }),
  menu: z.strictObject({
    prompt: bubble,
    /** Module ids in the order the menu lists them. */
    modules: z.array(id).min(1),
    myPlan: label,
    talkToPerson: label,
    help: label,
    resumePrompt: bubble,
    resume: label,
    startOver: label,
    chooseAnother: label,
    notUnderstood: bubble,
  }),
  help: textSchema,
  stop: textSchema,
  deleteData: z.strictObject({
    confirmPrompt: textSchema,
    confirm: label,
    cancel: label,
    done: textSchema,
    cancelled: bubble,
  }),
  /** Live chat with a counsellor: asking, waiting, talking, and after. */
  handover: z.strictObject({
    /** What a counsellor can and cannot keep confidential; said before the person joins the queue. */
    consent: textSchema,
    connectMe: label,
    notNow: label,
    notNowReply: textSchema,
    queued: textSchema,
    stillQueued: bubble,
    leaveQueue: label,
    keepWaiting: label,
    leftQueue: textSchema,
    keptWaiting: bubble,
    notQueued: bubble,
    position: bubble,
    connected: textSchema,
    /** How a counsellor's message appears in the chat. */
    counsellorSays: bubble,
    requeued: textSchema,
    endedByCounsellor: bubble,
    endedByYou: bubble,
    ratingQuestion: bubble,
    skipRating: label,
    rated: bubble,
    suggestion: bubble,
    startSuggested: label,
    timedOut: textSchema,
    outOfHours: textSchema,
    nobodyOnline: textSchema,
    /** Live chat cannot be reached right now (an outage between servers); other routes follow. */
    unavailable: textSchema,
    /** In a live chat, the person's message could not be passed on (the same outage). */
    relayInterrupted: textSchema,
    handedOff: textSchema,
    handoffFailed: textSchema,
  }),
  module: z.strictObject({
    updated: bubble,
    continue: label,
  }),
  choice: z.strictObject({ notUnderstood: bubble }),
  scale: z.strictObject({ notUnderstood: bubble }),
  reflect: z.strictObject({
    acknowledgements: z.array(bubble).min(1),
    skip: label,
  }),
  pick: z.strictObject({
    instructions: bubble,
    added: bubble,
    removed: bubble,
    done: label,
    saved: bubble,
    nothingChosen: bubble,
  }),
  plan: z.strictObject({
    heading: bubble,
    empty: textSchema,
    sectionEmpty: bubble,
  }),
  end: z.strictObject({
    prompt: bubble,
    menu: label,
    human: label,
  }),
  /** How contacts from resources/helplines.yaml are put into words. */
  helplines: z.strictObject({
    countryQuestion: bubble,
    emergency: bubble,
    emergencyUnknown: bubble,
    line: bubble,
    phone: label,
    open: label,
  }),
  /** Said when the risk screen interrupts a dialog; see bot/risk/riskPolicy.ts for which and when. */
  safety: z.strictObject({
    crisis: z.strictObject({ opening: textSchema, offer: bubble }),
    childSafety: z.strictObject({ opening: textSchema, confidentiality: textSchema, offer: bubble, steppedAway: label, steppedAwayReply: textSchema }),
    followUp: z.strictObject({
      opening: bubble,
      thoughts: bubble,
      plan: bubble,
      means: bubble,
      soon: bubble,
      yes: label,
      no: label,
      notSure: label,
      noThoughts: textSchema,
      thoughtsWithoutPlan: textSchema,
    }),
    grounding: z.strictObject({ exercise: textSchema, offer: bubble, urgesModule: id }),
    talkNow: label,
    safeNow: label,
    carryOn: label,
    urges: label,
    misunderstood: label,
    misunderstoodReply: textSchema,
    safeNowReply: textSchema,
  }),
  media: z.strictObject({ refused: textSchema }),
  /** Words only the Telegram channel uses. */
  telegram: z.strictObject({
    /**
     * Shown in Telegram's command menu (/start, /menu…) on the person's screen, where others may
     * see it: keep them neutral.
     */
    commands: z.strictObject({ start: label, menu: label, help: label, human: label, forget: label, exit: label }),
    /** Said when someone edits a message they sent: the bot only reads new messages. */
    editedMessage: textSchema,
    /** After "delete my data": which messages of the chat were deleted, and what could not be. */
    forget: z.strictObject({
      deleted: textSchema,
      /** Nothing recent was known to delete (e.g. after a restart: the list lives in memory only). */
      nothingDeleted: textSchema,
      limits: textSchema,
    }),
  }),
  error: z.strictObject({ somethingWentWrong: textSchema }),
  /** Said while the shared store (Redis) cannot be reached; the crisis contacts follow `unavailable`. */
  storageOutage: z.strictObject({
    /** Nothing could be loaded, so the bot cannot carry on where the person was. */
    unavailable: textSchema,
    /** The answer was given, but the progress it made could not be saved. */
    notSaved: textSchema,
  }),
  commands: z.strictObject({
    menu: commandWords,
    help: commandWords,
    stop: commandWords,
    deleteData: commandWords,
    human: commandWords,
    plan: commandWords,
    endChat: commandWords,
    leaveQueue: commandWords,
  }),
});

export type Text = z.infer<typeof textSchema>;
export type Step = z.infer<typeof stepSchema>;
export type StepType = Step['type'];
export type Module = z.infer<typeof moduleSchema>;
export type SafetyPlanLists = z.infer<typeof safetyPlanSchema>;
export type Messages = z.infer<typeof messagesSchema>;
export type CommandName = keyof Messages['commands'];

/** Placeholders each message may use. Anything else in braces is a content error. */
export const MESSAGE_PLACEHOLDERS: Readonly<Record<string, readonly string[]>> = {
  'menu.resumePrompt': ['title'],
  'module.updated': ['title'],
  'pick.added': ['item'],
  'pick.removed': ['item'],
  'scale.notUnderstood': ['min', 'max'],
  'helplines.emergency': ['number'],
  'helplines.line': ['name', 'contact', 'hours'],
  'helplines.phone': ['phone'],
  'handover.queued': ['position', 'minutes'],
  'handover.stillQueued': ['position', 'minutes'],
  'handover.position': ['position', 'minutes'],
  'handover.requeued': ['position', 'minutes'],
  'handover.connected': ['name'],
  'handover.counsellorSays': ['name', 'text'],
  'handover.suggestion': ['title'],
  'handover.outOfHours': ['when'],
};

/** One locale's validated, cross-checked and frozen content. */
export interface Content {
  readonly locale: string;
  readonly messages: Messages;
  /** Modules by id, in menu order. */
  readonly modules: ReadonlyMap<string, Module>;
  readonly safetyPlan: SafetyPlanLists;
}

/** All locales; `forLocale` falls back to the default locale for any tag it does not have. */
export interface ContentLibrary {
  readonly defaultLocale: string;
  readonly locales: ReadonlyMap<string, Content>;
  forLocale(tag: string | undefined): Content;
}
