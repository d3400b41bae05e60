/**
 * Where a person who asks for a human goes, and where every safety dialog's "talk to a
 * counsellor" leads (with the risk that brought them, for the counsellor's queue). Until live
 * handover is switched on it gives the helpline contacts and hours for the person's country
 * and returns them to whatever they were doing.
 */
import type { DialogContext, DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { HANDOVER_DIALOG } from './dialogIds.js';
import { turnServices } from './turnServices.js';
import { say } from './replies.js';
import type { ProfileAccessor } from './profile.js';
import { DONE, SafetyDialog } from './safety/safetyDialog.js';

export class HandoverDialog extends SafetyDialog {
  constructor(profiles: ProfileAccessor) {
    super(HANDOVER_DIALOG, profiles);
  }

  protected override async open(dc: DialogContext): Promise<DialogTurnResult> {
    await say(dc.context, turnServices(dc.context).content.messages.human.unavailable);
    return this.contactsThen(dc, ['prevention', 'crisis'], DONE);
  }

  /** The only question is the country, which the base class asks. */
  protected override async prompt(_context: TurnContext): Promise<void> {}

  protected override async answer(): Promise<DialogTurnResult | undefined> {
    return undefined;
  }
}
