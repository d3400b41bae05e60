/**
 * A child may be at risk: urge the person to stop and step away now, give the emergency number
 * and prevention contacts, say honestly what a counsellor may have to do, and offer a
 * counsellor first in line.
 */
import type { DialogContext, DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { CHILD_SAFETY_DIALOG } from '../dialogIds.js';
import { turnServices } from '../turnServices.js';
import { ask, say } from '../replies.js';
import { chosenButton } from '../answers.js';
import type { ProfileAccessor } from '../profile.js';
import { SafetyDialog, type SafetyState } from './safetyDialog.js';

const OFFER = 'offer';

export class ChildSafetyDialog extends SafetyDialog {
  constructor(profiles: ProfileAccessor) {
    super(CHILD_SAFETY_DIALOG, profiles);
  }

  protected override async open(dc: DialogContext): Promise<DialogTurnResult> {
    const { childSafety } = turnServices(dc.context).content.messages.safety;
    await say(dc.context, childSafety.opening);
    await say(dc.context, childSafety.confidentiality);
    return this.contactsThen(dc, ['prevention'], OFFER);
  }

  protected override async prompt(context: TurnContext, _state: SafetyState): Promise<void> {
    await ask(context, turnServices(context).content.messages.safety.childSafety.offer, buttons(context));
  }

  protected override async answer(dc: DialogContext): Promise<DialogTurnResult | undefined> {
    const { safety } = turnServices(dc.context).content.messages;
    const code = chosenButton(dc.context, buttons(dc.context));
    if (code !== 'steppedAway') return this.sharedAnswer(dc, code);
    await say(dc.context, safety.childSafety.steppedAwayReply);
    return dc.endDialog();
  }
}

function buttons(context: TurnContext) {
  const { safety } = turnServices(context).content.messages;
  return [
    { code: 'talkNow', label: safety.talkNow },
    { code: 'steppedAway', label: safety.childSafety.steppedAway },
    { code: 'misunderstood', label: safety.misunderstood },
  ];
}
