/**
 * The one dialog the bot runs. It routes to consent, the menu and the modules, and catches the
 * words that must work from anywhere (menu, help, stop, delete my data, talk to a person, my
 * plan) before the active dialog sees the message, so no script can swallow them.
 */
import {
  ComponentDialog,
  DialogTurnStatus,
  type DialogContext,
  type DialogTurnResult,
} from 'botbuilder-dialogs';
import type { CommandName } from '../bot/content/schema.js';
import { commandIn } from '../bot/language/commands.js';
import {
  CHILD_SAFETY_DIALOG,
  CONSENT_DIALOG,
  CRISIS_DIALOG,
  DELETE_DATA_DIALOG,
  FOLLOW_UP_DIALOG,
  GROUNDING_DIALOG,
  HANDOVER_DIALOG,
  MENU_DIALOG,
  ROOT_DIALOG,
  SCRIPTED_MODULE_DIALOG,
} from './dialogIds.js';
import { safetyResponseFor, type SafetyResponse } from '../bot/risk/riskPolicy.js';
import { CrisisDialog } from './safety/crisisDialog.js';
import { ChildSafetyDialog } from './safety/childSafetyDialog.js';
import { FollowUpDialog } from './safety/followUpDialog.js';
import { GroundingDialog } from './safety/groundingDialog.js';
import type { SafetyState } from './safety/safetyDialog.js';
import { turnServices } from './turnServices.js';
import { say } from './replies.js';
import { readProfile, type ProfileAccessor } from './profile.js';
import { ConsentDialog, hasCurrentConsent } from './consentDialog.js';
import { MenuDialog, type MenuDialogOptions } from './menuDialog.js';
import { ScriptedModuleDialog } from './scriptedModuleDialog.js';
import { HandoverDialog, type HandoverOptions } from './handoverDialog.js';
import type { HandoverEvent } from '../bot/handover/handoverService.js';
import { DeleteDataDialog } from './deleteDataDialog.js';
import { conversationEndedThisTurn, endConversationForNow } from './conversationEnd.js';
import { renderSafetyPlan } from './safetyPlanView.js';

const SAFETY_DIALOGS: Readonly<Record<SafetyResponse, string>> = {
  crisis: CRISIS_DIALOG,
  childSafety: CHILD_SAFETY_DIALOG,
  followUp: FOLLOW_UP_DIALOG,
  grounding: GROUNDING_DIALOG,
  handover: HANDOVER_DIALOG,
};

/**
 * How urgent each safety dialog is. A new escalation replaces an open safety dialog only if it
 * is at least as urgent and different; otherwise the open one takes the message as an answer.
 */
const URGENCY: Readonly<Record<string, number>> = {
  [CHILD_SAFETY_DIALOG]: 3,
  [CRISIS_DIALOG]: 3,
  [FOLLOW_UP_DIALOG]: 2,
  [GROUNDING_DIALOG]: 1,
};

export class RootDialog extends ComponentDialog {
  constructor(private readonly profiles: ProfileAccessor) {
    super(ROOT_DIALOG);
    this.addDialog(new ConsentDialog(profiles));
    this.addDialog(new MenuDialog(profiles));
    this.addDialog(new ScriptedModuleDialog(profiles));
    this.addDialog(new HandoverDialog(profiles));
    this.addDialog(new DeleteDataDialog());
    this.addDialog(new CrisisDialog(profiles));
    this.addDialog(new ChildSafetyDialog(profiles));
    this.addDialog(new FollowUpDialog(profiles));
    this.addDialog(new GroundingDialog(profiles));
  }

  protected override async onBeginDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    const result = (await this.interruption(innerDc)) ?? (await this.startStep(innerDc));
    return this.keepGoing(innerDc, result);
  }

  protected override async onContinueDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    const result =
      (await this.interruption(innerDc)) ?? (await this.consentLapsed(innerDc)) ?? (await innerDc.continueDialog());
    return this.keepGoing(innerDc, result);
  }

  /**
   * Nothing is stored without the consent now in force: when its version was raised, or the
   * person's data was deleted from another conversation, someone part-way through the menu or
   * a module is asked for consent again before their answer is taken.
   */
  private async consentLapsed(innerDc: DialogContext): Promise<DialogTurnResult | undefined> {
    const active = innerDc.activeDialog?.id;
    if (active !== MENU_DIALOG && active !== SCRIPTED_MODULE_DIALOG) return undefined;
    if (await hasCurrentConsent(this.profiles, innerDc.context)) return undefined;
    await innerDc.cancelAllDialogs();
    return innerDc.beginDialog(CONSENT_DIALOG);
  }

  /** Consent first (again, if its text changed in substance), then the menu. */
  private async startStep(innerDc: DialogContext, menuOptions?: MenuDialogOptions): Promise<DialogTurnResult> {
    if (!(await hasCurrentConsent(this.profiles, innerDc.context))) return innerDc.beginDialog(CONSENT_DIALOG);
    return innerDc.beginDialog(MENU_DIALOG, menuOptions);
  }

  /** A finished child hands the person back to the menu; only stop, decline and delete end the chat. */
  private async keepGoing(innerDc: DialogContext, result: DialogTurnResult): Promise<DialogTurnResult> {
    if (result.status === DialogTurnStatus.waiting) return result;
    if (conversationEndedThisTurn(innerDc.context)) return { status: DialogTurnStatus.complete };
    return this.startStep(innerDc);
  }

  /** Handles an interruption if the message is one; undefined lets the active dialog have it. */
  private async interruption(innerDc: DialogContext): Promise<DialogTurnResult | undefined> {
    const { context } = innerDc;
    const services = turnServices(context);
    if (services.handoverEvent) return this.handoverNews(innerDc, services.handoverEvent);
    const safety = safetyResponseFor(services.risk);
    if (safety) {
      const result = await this.safetyInterruption(innerDc, SAFETY_DIALOGS[safety]);
      if (result) return result;
    }

    const command = this.command(innerDc);
    if (!command) return undefined;
    services.freeText?.markAsChoice();
    const { messages } = services.content;
    switch (command) {
      case 'menu':
        await innerDc.cancelAllDialogs();
        return this.startStep(innerDc, { offerResume: false });
      case 'help':
        await say(context, messages.help);
        return this.repromptActive(innerDc);
      case 'plan': {
        const profile = await readProfile(this.profiles, context);
        await say(context, renderSafetyPlan(services.content, profile));
        return this.repromptActive(innerDc);
      }
      case 'stop':
        await innerDc.cancelAllDialogs();
        await say(context, messages.stop);
        endConversationForNow(context);
        return { status: DialogTurnStatus.complete };
      case 'deleteData':
        return innerDc.beginDialog(DELETE_DATA_DIALOG);
      case 'human':
        return this.safetyInterruption(innerDc, HANDOVER_DIALOG);
      case 'leaveQueue':
      case 'endChat':
        // "end chat" reaches the dialogs only when no chat is live: the person wants out of the queue.
        await say(context, (await services.handover.leaveQueue()) ? messages.handover.leftQueue : messages.handover.notQueued);
        return this.repromptActive(innerDc);
    }
  }

  /**
   * News about the person's handover. Progress while waiting or chatting is said and changes
   * nothing; an ended chat or wait opens the handover dialog on top of whatever they were doing.
   */
  private async handoverNews(innerDc: DialogContext, event: HandoverEvent): Promise<DialogTurnResult> {
    const { messages } = turnServices(innerDc.context).content;
    switch (event.kind) {
      case 'position':
        await say(innerDc.context, messages.handover.position, { position: event.position, minutes: event.estimateMinutes });
        break;
      case 'requeued':
        await say(innerDc.context, messages.handover.requeued, { position: event.position, minutes: event.estimateMinutes });
        break;
      case 'connected':
        await say(innerDc.context, messages.handover.connected, { name: event.counsellorName });
        break;
      default: {
        const options: HandoverOptions = { event };
        return innerDc.beginDialog(HANDOVER_DIALOG, options);
      }
    }
    return { status: DialogTurnStatus.waiting };
  }

  /**
   * Starts a safety dialog on top of whatever the person was doing, so they return to it
   * afterwards. An open safety dialog is replaced only by a different one at least as urgent;
   * a counsellor request always goes through, carrying the open dialog's risk for the queue.
   */
  private async safetyInterruption(innerDc: DialogContext, target: string): Promise<DialogTurnResult | undefined> {
    const { risk } = turnServices(innerDc.context);
    const active = innerDc.activeDialog;
    const openSafety = active && URGENCY[active.id] !== undefined ? (active.state as SafetyState) : undefined;
    if (!openSafety) return innerDc.beginDialog(target, { risk });
    if (target === HANDOVER_DIALOG) {
      return innerDc.replaceDialog(target, { risk: risk.category === 'human' || risk.category === 'none' ? openSafety.risk : risk });
    }
    if (target === active!.id || (URGENCY[target] ?? 0) < (URGENCY[active!.id] ?? 0)) return undefined;
    return innerDc.replaceDialog(target, { risk });
  }

  private async repromptActive(innerDc: DialogContext): Promise<DialogTurnResult> {
    if (!innerDc.activeDialog) return { status: DialogTurnStatus.empty };
    await innerDc.repromptDialog();
    return { status: DialogTurnStatus.waiting };
  }

  private command(innerDc: DialogContext): CommandName | undefined {
    const { freeText, content } = turnServices(innerDc.context);
    return freeText ? commandIn(content, freeText.reveal()) : undefined;
  }

}
