/**
 * The main menu: every module, the safety plan, a person to talk to, help. A returning person
 * whose last module is unfinished is first offered to continue where they left off.
 */
import { Dialog, type DialogContext, type DialogInstance, type DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { PromptingDialog } from './promptingDialog.js';
import { HANDOVER_DIALOG, MENU_DIALOG, SCRIPTED_MODULE_DIALOG } from './dialogIds.js';
import { turnServices } from './turnServices.js';
import { ask, say, type Button } from './replies.js';
import { chosenButton } from './answers.js';
import { readProfile, type ProfileAccessor } from './profile.js';
import { renderSafetyPlan } from './safetyPlanView.js';
import type { ModuleDialogOptions } from './scriptedModuleDialog.js';

export interface MenuDialogOptions {
  /** False when the person just chose "menu" and should not be asked about an old module first. */
  readonly offerResume?: boolean;
}

interface MenuState {
  /** The module offered for resuming, while the resume question is open. */
  resumeModuleId?: string;
}

const RESUME = 'resume';
const START_OVER = 'start-over';
const CHOOSE_ANOTHER = 'choose-another';
const MY_PLAN = 'my-plan';
const TALK_TO_PERSON = 'talk-to-person';
const HELP = 'help';

export class MenuDialog extends PromptingDialog<MenuDialogOptions> {
  constructor(private readonly profiles: ProfileAccessor) {
    super(MENU_DIALOG);
  }

  override async beginDialog(dc: DialogContext, options?: MenuDialogOptions): Promise<DialogTurnResult> {
    const state = this.state(dc.activeDialog);
    const unfinished = options?.offerResume === false ? undefined : await this.unfinishedModule(dc.context);
    if (unfinished) {
      state.resumeModuleId = unfinished;
      await this.resumeStep(dc.context, unfinished);
    } else {
      await this.menuStep(dc.context);
    }
    return Dialog.EndOfTurn;
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = this.state(dc.activeDialog);
    return state.resumeModuleId ? this.onResumeAnswer(dc, state, state.resumeModuleId) : this.onMenuAnswer(dc);
  }


  override async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    const { resumeModuleId } = this.state(instance);
    if (resumeModuleId) await this.resumeStep(context, resumeModuleId);
    else await this.menuStep(context);
  }

  private async onResumeAnswer(dc: DialogContext, state: MenuState, moduleId: string): Promise<DialogTurnResult> {
    const answer = chosenButton(dc.context, this.resumeButtons(dc.context));
    if (answer === RESUME || answer === START_OVER) {
      const options: ModuleDialogOptions = { moduleId, resume: answer === RESUME };
      return dc.replaceDialog(SCRIPTED_MODULE_DIALOG, options);
    }
    if (answer === CHOOSE_ANOTHER) {
      delete state.resumeModuleId;
      await this.menuStep(dc.context);
      return Dialog.EndOfTurn;
    }
    await say(dc.context, turnServices(dc.context).content.messages.choice.notUnderstood);
    await this.resumeStep(dc.context, moduleId);
    return Dialog.EndOfTurn;
  }

  private async onMenuAnswer(dc: DialogContext): Promise<DialogTurnResult> {
    const { content } = turnServices(dc.context);
    const answer = chosenButton(dc.context, this.menuButtons(dc.context));
    if (answer !== undefined && content.modules.has(answer)) {
      const options: ModuleDialogOptions = { moduleId: answer, resume: true };
      return dc.replaceDialog(SCRIPTED_MODULE_DIALOG, options);
    }
    switch (answer) {
      case MY_PLAN:
        await say(dc.context, renderSafetyPlan(content, await readProfile(this.profiles, dc.context)));
        break;
      case TALK_TO_PERSON:
        return dc.beginDialog(HANDOVER_DIALOG);
      case HELP:
        await say(dc.context, content.messages.help);
        break;
      default:
        await say(dc.context, content.messages.menu.notUnderstood);
    }
    await this.menuStep(dc.context);
    return Dialog.EndOfTurn;
  }

  private async menuStep(context: TurnContext): Promise<void> {
    await ask(context, turnServices(context).content.messages.menu.prompt, this.menuButtons(context));
  }

  private async resumeStep(context: TurnContext, moduleId: string): Promise<void> {
    const { content } = turnServices(context);
    const title = content.modules.get(moduleId)?.title ?? moduleId;
    await ask(context, content.messages.menu.resumePrompt, this.resumeButtons(context), { title });
  }

  private menuButtons(context: TurnContext): Button[] {
    const { content } = turnServices(context);
    const { menu } = content.messages;
    return [
      ...[...content.modules.values()].map((m) => ({ code: m.id, label: m.title })),
      { code: MY_PLAN, label: menu.myPlan },
      { code: TALK_TO_PERSON, label: menu.talkToPerson },
      { code: HELP, label: menu.help },
    ];
  }

  private resumeButtons(context: TurnContext): Button[] {
    const { menu } = turnServices(context).content.messages;
    return [
      { code: RESUME, label: menu.resume },
      { code: START_OVER, label: menu.startOver },
      { code: CHOOSE_ANOTHER, label: menu.chooseAnother },
    ];
  }

  private async unfinishedModule(context: TurnContext): Promise<string | undefined> {
    const profile = await readProfile(this.profiles, context);
    const moduleId = profile.lastModule;
    if (!moduleId || !turnServices(context).content.modules.has(moduleId)) return undefined;
    const progress = profile.progress[moduleId];
    return progress && !progress.completed ? moduleId : undefined;
  }

  private state(instance: DialogInstance | undefined): MenuState {
    if (!instance) throw new Error('MenuDialog has no active instance.');
    return instance.state as MenuState;
  }
}
