/** "Delete my data": one confirmation, then everything stored about the person is erased at once. */
import { Dialog, type DialogContext, type DialogInstance, type DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { PromptingDialog } from './promptingDialog.js';
import { DELETE_DATA_DIALOG } from './dialogIds.js';
import { turnServices } from './turnServices.js';
import { ask, say, type Button } from './replies.js';
import { chosenButton } from './answers.js';
import { endConversationForNow } from './conversationEnd.js';

const CONFIRM = 'confirm';
const CANCEL = 'cancel';

export class DeleteDataDialog extends PromptingDialog {
  constructor() {
    super(DELETE_DATA_DIALOG);
  }

  override async beginDialog(dc: DialogContext): Promise<DialogTurnResult> {
    await this.confirmStep(dc.context);
    return Dialog.EndOfTurn;
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const services = turnServices(dc.context);
    const { deleteData } = services.content.messages;
    const answer = chosenButton(dc.context, this.buttons(dc.context));
    if (answer === CONFIRM) {
      await services.eraseMyData();
      await say(dc.context, deleteData.done);
      endConversationForNow(dc.context);
      return dc.cancelAllDialogs();
    }
    if (answer === CANCEL) {
      await say(dc.context, deleteData.cancelled);
      return dc.endDialog();
    }
    await say(dc.context, services.content.messages.choice.notUnderstood);
    await this.confirmStep(dc.context);
    return Dialog.EndOfTurn;
  }

  override async repromptDialog(context: TurnContext, _instance: DialogInstance): Promise<void> {
    await this.confirmStep(context);
  }

  private async confirmStep(context: TurnContext): Promise<void> {
    await ask(context, turnServices(context).content.messages.deleteData.confirmPrompt, this.buttons(context));
  }

  private buttons(context: TurnContext): Button[] {
    const { deleteData } = turnServices(context).content.messages;
    return [
      { code: CONFIRM, label: deleteData.confirm },
      { code: CANCEL, label: deleteData.cancel },
    ];
  }
}
