/**
 * Interprets one self-help module from resources/: says, asks and branches step by step.
 * Progress is kept by step id, so a clinician can insert a step without breaking anyone who is
 * part-way through; a new module version restarts it with a short note.
 */
import { Dialog, type DialogContext, type DialogInstance, type DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import type { Module, Step } from '../bot/content/schema.js';
import { PromptingDialog } from './promptingDialog.js';
import { HANDOVER_DIALOG, MENU_DIALOG, SCRIPTED_MODULE_DIALOG } from './dialogIds.js';
import { turnServices } from './turnServices.js';
import { ask, say, type Button } from './replies.js';
import { chosenButton, chosenNumber } from './answers.js';
import { readProfile, type Profile, type ProfileAccessor } from './profile.js';
import { renderSafetyPlan } from './safetyPlanView.js';
import type { MenuDialogOptions } from './menuDialog.js';
import { COUNTED, moduleCompleted, moduleStarted } from '../bot/metrics/countedEvents.js';

export interface ModuleDialogOptions {
  readonly moduleId: string;
  /** Continue at the saved step when there is one for this module version. */
  readonly resume: boolean;
}

interface ModuleState {
  moduleId: string;
  version: number;
  /** The step waiting for the person's answer. */
  stepId: string;
  /** Items ticked so far in a `pick` step (codes only). */
  picked?: string[];
}

type Waiting = Extract<Step, { type: 'choice' | 'scale' | 'reflect' | 'pick' | 'end' }> | PausingSay;
type PausingSay = Extract<Step, { type: 'say' }> & { pause: true };

const CONTINUE = 'continue';
const END_MENU = 'end-menu';
const END_HUMAN = 'end-human';
const PICK_DONE = 'pick-done';
const SKIP = 'skip';
/** More steps than any module has: stops a looping script from spinning inside one turn. */
const MAX_STEPS_PER_TURN = 100;

export class ScriptedModuleDialog extends PromptingDialog<ModuleDialogOptions> {
  constructor(private readonly profiles: ProfileAccessor) {
    super(SCRIPTED_MODULE_DIALOG);
  }

  override async beginDialog(dc: DialogContext, options?: ModuleDialogOptions): Promise<DialogTurnResult> {
    const module = options && turnServices(dc.context).content.modules.get(options.moduleId);
    if (!module) return dc.replaceDialog(MENU_DIALOG);
    const profile = await readProfile(this.profiles, dc.context);
    const saved = profile.progress[module.id];
    let startId = module.steps[0]!.id;
    if (options.resume && saved && !saved.completed) {
      if (saved.version === module.version && stepById(module, saved.stepId)) startId = saved.stepId;
      else await this.announceUpdate(dc.context, module);
    }
    if (startId === module.steps[0]!.id) {
      profile.answers[module.id] = {};
      turnServices(dc.context).count(moduleStarted(module.id));
    }
    profile.lastModule = module.id;
    const state = dc.activeDialog!.state as ModuleState;
    Object.assign(state, { moduleId: module.id, version: module.version, stepId: startId });
    return this.runFrom(dc, module, state, startId);
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = dc.activeDialog!.state as ModuleState;
    const module = turnServices(dc.context).content.modules.get(state.moduleId);
    if (!module) return dc.replaceDialog(MENU_DIALOG);
    const step = stepById(module, state.stepId);
    if (module.version !== state.version || !step || !isWaiting(step)) {
      // Content changed under a person mid-module: start it again rather than guess.
      await this.announceUpdate(dc.context, module);
      return dc.replaceDialog(SCRIPTED_MODULE_DIALOG, { moduleId: module.id, resume: false });
    }
    return this.answerStep(dc, module, state, step);
  }


  override async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    const state = instance.state as ModuleState;
    const module = turnServices(context).content.modules.get(state.moduleId);
    const step = module && stepById(module, state.stepId);
    if (module && step && isWaiting(step)) await this.promptStep(context, module, state, step);
  }

  /** Runs steps that need no answer until one does, then asks it and waits. */
  private async runFrom(dc: DialogContext, module: Module, state: ModuleState, firstId: string): Promise<DialogTurnResult> {
    const profile = await readProfile(this.profiles, dc.context);
    let stepId: string | undefined = firstId;
    for (let count = 0; stepId !== undefined && count < MAX_STEPS_PER_TURN; count += 1) {
      const step = stepById(module, stepId);
      if (!step) break;
      if (isWaiting(step)) {
        state.stepId = step.id;
        state.picked = step.type === 'pick' ? [...(profile.safetyPlan[step.list] ?? [])] : undefined;
        profile.progress[module.id] = { version: module.version, stepId: step.id, completed: step.type === 'end' };
        if (step.type === 'end') turnServices(dc.context).count(moduleCompleted(module.id));
        await this.promptStep(dc.context, module, state, step);
        return Dialog.EndOfTurn;
      }
      stepId = await this.passStep(dc.context, module, profile, step);
    }
    // The content check makes every path reach an end step; this is the net under it.
    return dc.replaceDialog(MENU_DIALOG, { offerResume: false } satisfies MenuDialogOptions);
  }

  /** Steps that speak or decide without waiting; returns the id of the step after. */
  private async passStep(context: TurnContext, module: Module, profile: Profile, step: Step): Promise<string | undefined> {
    const { content } = turnServices(context);
    switch (step.type) {
      case 'say':
        await say(context, step.text);
        return nextOf(module, step);
      case 'plan':
        if (step.text) await say(context, step.text);
        await say(context, renderSafetyPlan(content, profile));
        return nextOf(module, step);
      case 'branch': {
        const answer = forgettableAnswers(context).get(step.on) ?? profile.answers[module.id]?.[step.on];
        const match = step.cases.find(
          (c) =>
            (c.equals === undefined || c.equals === answer) &&
            (c.atLeast === undefined || (typeof answer === 'number' && answer >= c.atLeast)) &&
            (c.atMost === undefined || (typeof answer === 'number' && answer <= c.atMost)),
        );
        return match?.next ?? step.otherwise;
      }
      default:
        return undefined;
    }
  }

  private async promptStep(context: TurnContext, module: Module, state: ModuleState, step: Waiting): Promise<void> {
    const { messages } = turnServices(context).content;
    switch (step.type) {
      case 'say':
        return ask(context, step.text, [{ code: CONTINUE, label: messages.module.continue }]);
      case 'choice':
        return ask(context, step.text, step.options);
      case 'scale':
        return ask(context, step.text, scaleButtons(step));
      case 'reflect':
        return ask(context, step.text, [{ code: SKIP, label: messages.reflect.skip }]);
      case 'pick':
        await say(context, step.text);
        return ask(context, messages.pick.instructions, this.pickButtons(context, step, state));
      case 'end':
        await say(context, step.text);
        return ask(context, messages.end.prompt, this.endButtons(context, step));
    }
  }

  private async answerStep(dc: DialogContext, module: Module, state: ModuleState, step: Waiting): Promise<DialogTurnResult> {
    const { context } = dc;
    const { messages } = turnServices(context).content;
    const profile = await readProfile(this.profiles, context);
    const answers = (profile.answers[module.id] ??= {});
    switch (step.type) {
      case 'say':
        // Any answer moves on: a pause only paces the reading, it asks nothing.
        chosenButton(context, [{ code: CONTINUE, label: messages.module.continue }]);
        return this.runFrom(dc, module, state, nextOf(module, step) ?? step.id);
      case 'choice': {
        const code = chosenButton(context, step.options);
        if (code === undefined) return this.askAgain(context, module, state, step, messages.choice.notUnderstood);
        if (step.remember) answers[step.id] = code;
        else forgettableAnswers(context).set(step.id, code);
        const option = step.options.find((o) => o.code === code);
        return this.runFrom(dc, module, state, option?.next ?? nextOf(module, step) ?? step.id);
      }
      case 'scale': {
        const value = chosenNumber(context, step.min, step.max) ?? scaleFromLabel(context, step);
        if (value === undefined) {
          return this.askAgain(context, module, state, step, messages.scale.notUnderstood, { min: step.min, max: step.max });
        }
        answers[step.id] = value;
        return this.runFrom(dc, module, state, nextOf(module, step) ?? step.id);
      }
      case 'reflect': {
        // The answer was screened for risk before this dialog ran; it is acknowledged, never kept.
        const skipped = chosenButton(context, [{ code: SKIP, label: messages.reflect.skip }]) === SKIP;
        if (!skipped) await say(context, step.ack ?? pickAcknowledgement(messages.reflect.acknowledgements, step.id));
        return this.runFrom(dc, module, state, nextOf(module, step) ?? step.id);
      }
      case 'pick':
        return this.answerPick(dc, module, state, step, profile);
      case 'end':
        return this.answerEnd(dc, module, state, step);
    }
  }

  private async answerPick(
    dc: DialogContext,
    module: Module,
    state: ModuleState,
    step: Extract<Step, { type: 'pick' }>,
    profile: Profile,
  ): Promise<DialogTurnResult> {
    const { context } = dc;
    const { content } = turnServices(context);
    const items = content.safetyPlan.sections.find((s) => s.id === step.list)?.items ?? [];
    const picked = (state.picked ??= []);
    const code = chosenButton(context, [
      ...items.map((item) => ({ code: item.code, label: item.label, synonyms: item.synonyms })),
      { code: PICK_DONE, label: content.messages.pick.done },
    ]);
    if (code === PICK_DONE) {
      const hadPlan = hasSafetyPlan(profile);
      profile.safetyPlan[step.list] = [...picked];
      if (!hadPlan && hasSafetyPlan(profile)) turnServices(context).count(COUNTED.safetyPlanCreated);
      await say(context, picked.length > 0 ? content.messages.pick.saved : content.messages.pick.nothingChosen);
      return this.runFrom(dc, module, state, nextOf(module, step) ?? step.id);
    }
    const item = items.find((i) => i.code === code);
    if (!item) return this.askAgain(context, module, state, step, content.messages.choice.notUnderstood);
    const wasPicked = picked.includes(item.code);
    state.picked = wasPicked ? picked.filter((c) => c !== item.code) : [...picked, item.code];
    const note = wasPicked ? content.messages.pick.removed : content.messages.pick.added;
    await ask(context, note, this.pickButtons(context, step, state), { item: item.label });
    return Dialog.EndOfTurn;
  }

  private async answerEnd(
    dc: DialogContext,
    module: Module,
    state: ModuleState,
    step: Extract<Step, { type: 'end' }>,
  ): Promise<DialogTurnResult> {
    const code = chosenButton(dc.context, this.endButtons(dc.context, step));
    if (code === END_MENU) return dc.replaceDialog(MENU_DIALOG, { offerResume: false } satisfies MenuDialogOptions);
    if (code === END_HUMAN) return dc.beginDialog(HANDOVER_DIALOG);
    if (code !== undefined) {
      return dc.replaceDialog(SCRIPTED_MODULE_DIALOG, { moduleId: code, resume: false } satisfies ModuleDialogOptions);
    }
    return this.askAgain(dc.context, module, state, step, turnServices(dc.context).content.messages.choice.notUnderstood);
  }

  private async askAgain(
    context: TurnContext,
    module: Module,
    state: ModuleState,
    step: Waiting,
    notice: string,
    values?: Record<string, number>,
  ): Promise<DialogTurnResult> {
    await say(context, notice, values);
    await this.promptStep(context, module, state, step);
    return Dialog.EndOfTurn;
  }

  private async announceUpdate(context: TurnContext, module: Module): Promise<void> {
    await say(context, turnServices(context).content.messages.module.updated, { title: module.title });
  }

  private pickButtons(context: TurnContext, step: Extract<Step, { type: 'pick' }>, state: ModuleState): Button[] {
    const { content } = turnServices(context);
    const items = content.safetyPlan.sections.find((s) => s.id === step.list)?.items ?? [];
    const picked = state.picked ?? [];
    return [
      ...items.map((item) => ({ code: item.code, label: picked.includes(item.code) ? `✓ ${item.label}` : item.label })),
      { code: PICK_DONE, label: content.messages.pick.done },
    ];
  }

  private endButtons(context: TurnContext, step: Extract<Step, { type: 'end' }>): Button[] {
    const { content } = turnServices(context);
    const suggested = step.suggest.flatMap((id) => {
      const module = content.modules.get(id);
      return module ? [{ code: module.id, label: module.title }] : [];
    });
    return [
      ...suggested,
      { code: END_MENU, label: content.messages.end.menu },
      { code: END_HUMAN, label: content.messages.end.human },
    ];
  }
}

const FORGETTABLE_ANSWERS = Symbol('waypoint.forgettableAnswers');

/** Answers to `remember: false` choices: held in this turn's memory only, for the branch that follows. */
function forgettableAnswers(context: TurnContext): Map<string, string> {
  let answers = context.turnState.get(FORGETTABLE_ANSWERS) as Map<string, string> | undefined;
  if (!answers) context.turnState.set(FORGETTABLE_ANSWERS, (answers = new Map()));
  return answers;
}

function hasSafetyPlan(profile: Profile): boolean {
  return Object.values(profile.safetyPlan).some((items) => items.length > 0);
}

function stepById(module: Module, id: string): Step | undefined {
  return module.steps.find((step) => step.id === id);
}

/** A step's explicit `next`, else the step that follows it in the file. */
function nextOf(module: Module, step: Step): string | undefined {
  if ('next' in step && step.next) return step.next;
  const index = module.steps.indexOf(step);
  return module.steps[index + 1]?.id;
}

function isWaiting(step: Step): step is Waiting {
  return (step.type === 'say' && step.pause) || step.type === 'choice' || step.type === 'scale' || step.type === 'reflect' || step.type === 'pick' || step.type === 'end';
}

function scaleButtons(step: Extract<Step, { type: 'scale' }>): Button[] {
  const buttons: Button[] = [];
  for (let value = step.min; value <= step.max; value += 1) buttons.push({ code: String(value), label: String(value) });
  return buttons;
}

/** "not at all" typed for the scale's lower label counts as its minimum, and likewise the maximum. */
function scaleFromLabel(context: TurnContext, step: Extract<Step, { type: 'scale' }>): number | undefined {
  const labelled: Button[] = [];
  if (step.minLabel) labelled.push({ code: 'min', label: step.minLabel });
  if (step.maxLabel) labelled.push({ code: 'max', label: step.maxLabel });
  const code = labelled.length > 0 ? chosenButton(context, labelled) : undefined;
  if (code === 'min') return step.min;
  if (code === 'max') return step.max;
  return undefined;
}

/** A stable choice among acknowledgements, so the same question always gets the same reply. */
function pickAcknowledgement(acknowledgements: readonly string[], stepId: string): string {
  let hash = 0;
  for (const char of stepId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return acknowledgements[hash % acknowledgements.length]!;
}
