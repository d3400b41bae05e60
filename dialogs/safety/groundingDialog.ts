/**
 * Strong distress or urges without an acute plan: a short grounding exercise, then a choice of
 * a counsellor, the urges module, or carrying on where the person was.
 */
import type { DialogContext, DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import { CONSENT_DIALOG, GROUNDING_DIALOG, SCRIPTED_MODULE_DIALOG } from '../dialogIds.js';
import { turnServices } from '../turnServices.js';
import { ask, say } from '../replies.js';
import { chosenButton } from '../answers.js';
import type { ProfileAccessor } from '../profile.js';
import { hasCurrentConsent } from '../consentDialog.js';
import type { ModuleDialogOptions } from '../scriptedModuleDialog.js';
import { SafetyDialog, type SafetyState } from './safetyDialog.js';

const OFFER = 'offer';

export class GroundingDialog extends SafetyDialog {
  constructor(profiles: ProfileAccessor) {
    super(GROUNDING_DIALOG, profiles);
  }

  protected override async open(dc: DialogContext): Promise<DialogTurnResult> {
    await say(dc.context, turnServices(dc.context).content.messages.safety.grounding.exercise);
    return this.goTo(dc, OFFER);
  }

  protected override async prompt(context: TurnContext, _state: SafetyState): Promise<void> {
    await ask(context, turnServices(context).content.messages.safety.grounding.offer, buttons(context));
  }

  protected override async answer(dc: DialogContext): Promise<DialogTurnResult | undefined> {
    const code = chosenButton(dc.context, buttons(dc.context));
    if (code !== 'urges') return this.sharedAnswer(dc, code);
    const moduleId = turnServices(dc.context).content.messages.safety.grounding.urgesModule;
    // The module replaces whatever was going on; without consent nothing may be stored, so consent comes first.
    const consented = await hasCurrentConsent(this.profiles, dc.context);
    await dc.cancelAllDialogs();
    if (!consented) return dc.beginDialog(CONSENT_DIALOG);
    return dc.beginDialog(SCRIPTED_MODULE_DIALOG, { moduleId, resume: false } satisfies ModuleDialogOptions);
  }
}

function buttons(context: TurnContext) {
  const { safety } = turnServices(context).content.messages;
  return [
    { code: 'talkNow', label: safety.talkNow },
    { code: 'urges', label: safety.urges },
    { code: 'carryOn', label: safety.carryOn },
  ];
}
