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
import { matchChoice } from '../bot/language/matchChoice.js';
import {
  CONSENT_DIALOG,
  DELETE_DATA_DIALOG,
  HANDOVER_DIALOG,
  MENU_DIALOG,
  ROOT_DIALOG,
  SCRIPTED_MODULE_DIALOG,
} from './dialogIds.js';
import { turnServices } from './turnServices.js';
import { say } from './replies.js';
import { readProfile, type ProfileAccessor } from './profile.js';
import { ConsentDialog, hasCurrentConsent } from './consentDialog.js';
import { MenuDialog, type MenuDialogOptions } from './menuDialog.js';
import { ScriptedModuleDialog } from './scriptedModuleDialog.js';
import { HandoverDialog } from './handoverDialog.js';
import { DeleteDataDialog } from './deleteDataDialog.js';
import { conversationEndedThisTurn, endConversationForNow } from './conversationEnd.js';
import { renderSafetyPlan } from './safetyPlanView.js';

/** Telegram-style commands name the same interruptions as the words in messages.yaml. */
const SLASH_COMMANDS: Readonly<Record<string, CommandName>> = {
  '/start': 'menu',
  '/menu': 'menu',
  '/help': 'help',
  '/exit': 'stop',
  '/stop': 'stop',
  '/forget': 'deleteData',
  '/human': 'human',
  '/plan': 'plan',
};

export class RootDialog extends ComponentDialog {
  constructor(private readonly profiles: ProfileAccessor) {
    super(ROOT_DIALOG);
    this.addDialog(new ConsentDialog(profiles));
    this.addDialog(new MenuDialog(profiles));
    this.addDialog(new ScriptedModuleDialog(profiles));
    this.addDialog(new HandoverDialog());
    this.addDialog(new DeleteDataDialog());
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
    if (services.risk.escalate) return innerDc.beginDialog(HANDOVER_DIALOG);

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
        return innerDc.beginDialog(HANDOVER_DIALOG);
    }
  }

  private async repromptActive(innerDc: DialogContext): Promise<DialogTurnResult> {
    if (!innerDc.activeDialog) return { status: DialogTurnStatus.empty };
    await innerDc.repromptDialog();
    return { status: DialogTurnStatus.waiting };
  }

  private command(innerDc: DialogContext): CommandName | undefined {
    const { freeText, content } = turnServices(innerDc.context);
    if (!freeText) return undefined;
    const typed = freeText.reveal().trim().toLowerCase();
    const slash = SLASH_COMMANDS[typed.split(/[\s@]/)[0] ?? ''];
    if (slash) return slash;
    const commands = content.messages.commands;
    const candidates = (Object.keys(commands) as CommandName[]).map((name) => ({ code: name, phrases: commands[name] }));
    return matchChoice(typed, candidates) as CommandName | undefined;
  }
}
