import { Dialog, DialogReason, type DialogContext, type DialogInstance, type DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';

/**
 * A dialog that waits on a question. When something is pushed on top of it (help, a
 * counsellor's details, "delete my data" then "cancel") and finishes, the question is asked
 * again instead of the dialog ending, so an interruption never loses the person's place.
 */
export abstract class PromptingDialog<O extends object = object> extends Dialog<O> {
  override async resumeDialog(dc: DialogContext, _reason: DialogReason, _result?: unknown): Promise<DialogTurnResult> {
    await this.repromptDialog(dc.context, dc.activeDialog!);
    return Dialog.EndOfTurn;
  }

  abstract override repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void>;
}
