/**
 * Where a person who asks for a human goes, from the menu, a command or any safety dialog's
 * "talk to a counsellor" (carrying the risk that brought them, for the queue). It says honestly
 * what a counsellor can keep confidential, asks once, and queues them; out of hours, or with
 * nobody on the chat, it gives the other routes instead. It also puts into words what happens
 * after: a wait that timed out, a chat that ended (with a 1–5 rating counted only in aggregate,
 * and the counsellor's suggested module).
 */
import type { DialogContext, DialogReason, DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { HANDOVER_DIALOG, SCRIPTED_MODULE_DIALOG } from './dialogIds.js';
import { turnServices } from './turnServices.js';
import { ask, say } from './replies.js';
import { chosenButton, chosenNumber } from './answers.js';
import { readProfile, type ProfileAccessor } from './profile.js';
import { DONE, SafetyDialog, type SafetyOptions, type SafetyState } from './safety/safetyDialog.js';
import type { HandoverEvent } from '../bot/handover/handoverService.js';
import type { ModuleDialogOptions } from './scriptedModuleDialog.js';
import { COUNTED } from '../bot/metrics/countedEvents.js';

export interface HandoverOptions extends Partial<SafetyOptions> {
  /** Set when the dialog starts to put a handover event into words rather than to ask for a counsellor. */
  readonly event?: HandoverEvent;
}

interface HandoverState extends SafetyState {
  suggestModule?: string;
}

const CONSENT = 'consent';
const STILL_QUEUED = 'stillQueued';
const RATING = 'rating';
const SUGGESTION = 'suggestion';
/** Handed to an external contact centre: the bot says nothing until it reports the chat over. */
const HANDED_OFF = 'handedOff';
const OTHER_ROUTES = ['prevention', 'crisis'] as const;

export class HandoverDialog extends SafetyDialog {
  constructor(profiles: ProfileAccessor) {
    super(HANDOVER_DIALOG, profiles);
  }

  override async beginDialog(dc: DialogContext, options?: HandoverOptions): Promise<DialogTurnResult> {
    // Asking from the menu or by command carries no risk; for the queue, it is a request for a person.
    const risk = options?.risk && options.risk.category !== 'none' ? options.risk : ({ category: 'human', level: 'low' } as const);
    const event = options?.event;
    if (event?.kind === 'ended' || event?.kind === 'timedOut' || event?.kind === 'handoffFailed') {
      const state = this.state(dc);
      state.risk = { category: 'none', level: 'none' };
      return this.afterward(dc, event);
    }
    return super.beginDialog(dc, { risk });
  }

  protected override async open(dc: DialogContext): Promise<DialogTurnResult> {
    const services = turnServices(dc.context);
    const { handover, content } = services;
    const { messages } = content;
    const status = await handover.status();
    if (status.state === 'queued') return this.goTo(dc, STILL_QUEUED);
    if (status.state !== 'none') return dc.endDialog();
    services.count(COUNTED.handoverRequested);
    const availability = await handover.availability();
    if (availability.state === 'closed') {
      services.count(COUNTED.handoverOutOfHours);
      const { nextOpening } = availability;
      if (nextOpening) await say(dc.context, messages.handover.outOfHours, { when: handover.describeOpening(nextOpening) });
      else await say(dc.context, messages.handover.nobodyOnline);
      return this.contactsThen(dc, OTHER_ROUTES, DONE);
    }
    if (availability.state === 'unavailable') {
      await say(dc.context, messages.handover.unavailable);
      return this.contactsThen(dc, OTHER_ROUTES, DONE);
    }
    if (availability.state === 'nobody') {
      services.count(COUNTED.handoverNobodyOnline);
      await say(dc.context, messages.handover.nobodyOnline);
      return this.contactsThen(dc, OTHER_ROUTES, DONE);
    }
    return this.goTo(dc, CONSENT);
  }

  /** Once the contact centre's chat is over (its own dialog has run on top), this one has nothing left to do. */
  override async resumeDialog(dc: DialogContext, reason: DialogReason, result?: unknown): Promise<DialogTurnResult> {
    if (this.state(dc).step === HANDED_OFF) return dc.endDialog();
    return super.resumeDialog(dc, reason, result);
  }

  protected override async prompt(context: TurnContext, state: HandoverState): Promise<void> {
    const { handover, content } = turnServices(context);
    const { messages, modules } = content;
    switch (state.step) {
      case CONSENT:
        return ask(context, messages.handover.consent, consentButtons(context));
      case STILL_QUEUED: {
        const status = await handover.status();
        const values = status.state === 'queued' ? { position: status.position, minutes: status.estimateMinutes } : { position: '?', minutes: '?' };
        return ask(context, messages.handover.stillQueued, queueButtons(context), values);
      }
      case RATING:
        return ask(context, messages.handover.ratingQuestion, ratingButtons(context));
      case SUGGESTION: {
        const title = modules.get(state.suggestModule ?? '')?.title ?? '';
        return ask(context, messages.handover.suggestion, suggestionButtons(context), { title });
      }
    }
  }

  protected override async answer(dc: DialogContext, step: string): Promise<DialogTurnResult | undefined> {
    const { handover, content } = turnServices(dc.context);
    const { messages } = content;
    const state = this.state(dc) as HandoverState;
    switch (step) {
      case CONSENT: {
        const code = chosenButton(dc.context, consentButtons(dc.context));
        if (code === 'notNow') {
          await say(dc.context, messages.handover.notNowReply);
          return dc.endDialog();
        }
        if (code !== 'connectMe') return undefined;
        return this.joinQueue(dc, state);
      }
      case STILL_QUEUED: {
        const code = chosenButton(dc.context, queueButtons(dc.context));
        if (code === 'leaveQueue') {
          await say(dc.context, (await handover.leaveQueue()) ? messages.handover.leftQueue : messages.handover.notQueued);
          return dc.endDialog();
        }
        if (code !== 'keepWaiting') return undefined;
        await say(dc.context, messages.handover.keptWaiting);
        return dc.endDialog();
      }
      case RATING: {
        const skipped = chosenButton(dc.context, [{ code: 'skip', label: messages.handover.skipRating }]) === 'skip';
        const rating = skipped ? undefined : chosenNumber(dc.context, 1, 5);
        if (!skipped && rating === undefined) return undefined;
        if (rating !== undefined) {
          await handover.rate(rating);
          await say(dc.context, messages.handover.rated);
        }
        return this.goTo(dc, state.suggestModule ? SUGGESTION : DONE);
      }
      case SUGGESTION: {
        const code = chosenButton(dc.context, suggestionButtons(dc.context));
        if (code === 'start') {
          const options: ModuleDialogOptions = { moduleId: state.suggestModule!, resume: true };
          return dc.replaceDialog(SCRIPTED_MODULE_DIALOG, options);
        }
        return code === 'notNow' ? dc.endDialog() : undefined;
      }
    }
    return undefined;
  }

  private async joinQueue(dc: DialogContext, state: HandoverState): Promise<DialogTurnResult> {
    const { handover, content } = turnServices(dc.context);
    const { messages } = content;
    const profile = await readProfile(this.profiles, dc.context);
    const status = await handover.request({
      locale: dc.context.activity.locale ?? content.locale,
      channel: dc.context.activity.channelId,
      reason: state.risk,
      modulesCompleted: Object.entries(profile.progress)
        .filter(([, progress]) => progress.completed)
        .map(([id]) => ({ id, title: content.modules.get(id)?.title ?? id })),
      safetyPlan: Object.values(profile.safetyPlan).some((items) => items.length > 0),
    });
    if (status.state === 'handedOff') {
      await say(dc.context, messages.handover.handedOff);
      // Stay on top, silently, so the dialog below does not ask its question over the agent's chat.
      return this.goTo(dc, HANDED_OFF);
    }
    if (status.state === 'queued') await say(dc.context, messages.handover.queued, { position: status.position, minutes: status.estimateMinutes });
    if (status.state === 'unavailable') {
      await say(dc.context, messages.handover.unavailable);
      return this.contactsThen(dc, OTHER_ROUTES, DONE);
    }
    return dc.endDialog();
  }

  /** After the chat or the wait: what happened, then a rating (after a chat) or the other routes. */
  private async afterward(dc: DialogContext, event: HandoverEvent): Promise<DialogTurnResult> {
    const { messages } = turnServices(dc.context).content;
    const state = this.state(dc) as HandoverState;
    switch (event.kind) {
      case 'timedOut':
        await say(dc.context, messages.handover.timedOut);
        return this.contactsThen(dc, OTHER_ROUTES, DONE);
      case 'handoffFailed':
        await say(dc.context, messages.handover.handoffFailed);
        return this.contactsThen(dc, OTHER_ROUTES, DONE);
      case 'ended':
        await say(dc.context, event.by === 'person' ? messages.handover.endedByYou : messages.handover.endedByCounsellor);
        if ('suggestModule' in event && event.suggestModule && turnServices(dc.context).content.modules.has(event.suggestModule)) {
          state.suggestModule = event.suggestModule;
        }
        return this.goTo(dc, RATING);
      default:
        return dc.endDialog();
    }
  }
}

function consentButtons(context: TurnContext) {
  const { handover } = turnServices(context).content.messages;
  return [
    { code: 'connectMe', label: handover.connectMe },
    { code: 'notNow', label: handover.notNow },
  ];
}

function queueButtons(context: TurnContext) {
  const { handover } = turnServices(context).content.messages;
  return [
    { code: 'keepWaiting', label: handover.keepWaiting },
    { code: 'leaveQueue', label: handover.leaveQueue },
  ];
}

function ratingButtons(context: TurnContext) {
  const { handover } = turnServices(context).content.messages;
  return [...['1', '2', '3', '4', '5'].map((n) => ({ code: n, label: n })), { code: 'skip', label: handover.skipRating }];
}

function suggestionButtons(context: TurnContext) {
  const { handover } = turnServices(context).content.messages;
  return [
    { code: 'start', label: handover.startSuggested },
    { code: 'notNow', label: handover.notNow },
  ];
}
