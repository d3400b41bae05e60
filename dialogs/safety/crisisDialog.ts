/**
 * Suicide risk with a plan, means or a time: a short caring message and the crisis line and
 * emergency number for the person's country at once, then a counsellor now.
 */
import type { DialogContext, DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { CRISIS_DIALOG } from '../dialogIds.js';
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
    const code = chosenButton(dc.context, buttons(dc.context));
    if (code !== 'safeNow') return this.sharedAnswer(dc, code);
    await say(dc.context, safety.safeNowReply);
    return dc.endDialog();
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
