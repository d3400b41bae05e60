/**
 * Where a person who asks for a human goes. Until live handover is switched on it gives the
 * helpline routes and returns the person to whatever they were doing.
 */
import { Dialog, type DialogContext, type DialogTurnResult } from 'botbuilder-dialogs';
import { HANDOVER_DIALOG } from './dialogIds.js';
import { turnServices } from './turnServices.js';
import { say } from './replies.js';

export class HandoverDialog extends Dialog {
  constructor() {
    super(HANDOVER_DIALOG);
  }

  override async beginDialog(dc: DialogContext): Promise<DialogTurnResult> {
    await say(dc.context, turnServices(dc.context).content.messages.human.unavailable);
    return dc.endDialog();
  }
}
