/**
 * Before anything is stored, the person learns what Waypoint is and is not, that nothing they
 * type is kept, and the honest limit of confidentiality; then they agree or leave.
 */
import { Dialog, type DialogContext, type DialogInstance, type DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { PromptingDialog } from './promptingDialog.js';
import { CONSENT_DIALOG } from './dialogIds.js';
import { turnServices } from './turnServices.js';
import { ask, say, type Button } from './replies.js';
import { chosenButton } from './answers.js';
import { readProfile, type ProfileAccessor } from './profile.js';
import { endConversationForNow } from './conversationEnd.js';
import { COUNTED } from '../bot/metrics/countedEvents.js';

const AGREE = 'agree';
const DECLINE = 'decline';

export class ConsentDialog extends PromptingDialog {
  constructor(private readonly profiles: ProfileAccessor) {
    super(CONSENT_DIALOG);
  }

  override async beginDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const { messages } = turnServices(dc.context).content;
    await say(dc.context, messages.welcome);
    await say(dc.context, messages.consent.text);
    await this.questionStep(dc.context);
    return Dialog.EndOfTurn;
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const { messages } = turnServices(dc.context).content;
    const answer = chosenButton(dc.context, this.buttons(dc.context));
    if (answer === AGREE) {
      const profile = await readProfile(this.profiles, dc.context);
      profile.consent = { version: messages.consent.version };
      turnServices(dc.context).count(COUNTED.consentGiven);
      return dc.endDialog();
    }
    if (answer === DECLINE) {
      await say(dc.context, messages.consent.declined);
      endConversationForNow(dc.context);
      return dc.endDialog();
    }
    await say(dc.context, messages.choice.notUnderstood);
    await this.questionStep(dc.context);
    return Dialog.EndOfTurn;
  }

  override async repromptDialog(context: TurnContext, _instance: DialogInstance): Promise<void> {
    await this.questionStep(context);
  }

  private async questionStep(context: TurnContext): Promise<void> {
    await ask(context, turnServices(context).content.messages.consent.question, this.buttons(context));
  }

  private buttons(context: TurnContext): Button[] {
    const { consent } = turnServices(context).content.messages;
    return [
      { code: AGREE, label: consent.agree },
      { code: DECLINE, label: consent.decline },
    ];
  }
}

/** True when the person agreed to the consent text now in force. */
export async function hasCurrentConsent(profiles: ProfileAccessor, context: TurnContext): Promise<boolean> {
  const profile = await readProfile(profiles, context);
  return profile.consent?.version === turnServices(context).content.messages.consent.version;
}
