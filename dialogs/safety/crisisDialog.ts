/**
 * Suicide risk with a plan, means or a time: a short caring message and the crisis line and
 * emergency number for the person's country at once, then a counsellor now.
 */
import type { DialogContext, DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { CRISIS_DIALOG, HANDOVER_DIALOG } from '../dialogIds.js';
import { turnServices } from '../turnServices.js';
import { ask, say } from '../replies.js';
import { chosenButton } from '../answers.js';
import type { ProfileAccessor } from '../profile.js';
import { SafetyDialog, type SafetyState } from './safetyDialog.js';

const OFFER = 'offer';

export class CrisisDialog extends SafetyDialog {
  constructor(profiles: ProfileAccessor) {
    super(CRISIS_DIALOG, profiles);
  }

  protected override async open(dc: DialogContext): Promise<DialogTurnResult> {
    await say(dc.context, turnServices(dc.context).content.messages.safety.crisis.opening);
    return this.contactsThen(dc, ['crisis'], OFFER);
  }

  protected override async prompt(context: TurnContext, _state: SafetyState): Promise<void> {
    const { safety } = turnServices(context).content.messages;
    await ask(context, safety.crisis.offer, buttons(context));
  }

  protected override async answer(dc: DialogContext): Promise<DialogTurnResult | undefined> {
    const { safety } = turnServices(dc.context).content.messages;
    switch (chosenButton(dc.context, buttons(dc.context))) {
      case 'talkNow':
        return dc.replaceDialog(HANDOVER_DIALOG, { risk: this.state(dc).risk });
      case 'safeNow':
        await say(dc.context, safety.safeNowReply);
        return dc.endDialog();
      case 'misunderstood':
        // The contacts were given when this dialog opened: accepted without argument, nothing repeated.
        await say(dc.context, safety.misunderstoodReply);
        return dc.endDialog();
      default:
        return undefined;
    }
  }
}

function buttons(context: TurnContext) {
  const { safety } = turnServices(context).content.messages;
  return [
    { code: 'talkNow', label: safety.talkNow },
    { code: 'safeNow', label: safety.safeNow },
    { code: 'misunderstood', label: safety.misunderstood },
  ];
}
