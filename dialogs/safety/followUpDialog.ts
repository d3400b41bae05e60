/**
 * A suicide signal without a plan, means or time is ambiguous: four yes/no questions (thoughts,
 * plan, means, timing) refine the level. Only the resulting level is kept, in this dialog's
 * state; the answers themselves are not. A plan, means or a time hands over to the crisis
 * dialog; thoughts alone get support, contacts and a counsellor; "no" is accepted as it is,
 * with the contacts shown once.
 */
import type { DialogContext, DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import type { RiskLevel } from '../../bot/risk/riskScreen.js';
import { atLeast, higherLevel } from '../../bot/risk/riskPolicy.js';
import { CRISIS_DIALOG, FOLLOW_UP_DIALOG } from '../dialogIds.js';
import { turnServices } from '../turnServices.js';
import { ask, say } from '../replies.js';
import { chosenButton } from '../answers.js';
import type { ProfileAccessor } from '../profile.js';
import { DONE, SafetyDialog, type SafetyState } from './safetyDialog.js';

type Question = 'thoughts' | 'plan' | 'means' | 'soon';
/** Each question in turn, and the level a "yes" to it means. */
const QUESTIONS: readonly { step: Question; yes: RiskLevel }[] = [
  { step: 'thoughts', yes: 'elevated' },
  { step: 'plan', yes: 'high' },
  { step: 'means', yes: 'high' },
  { step: 'soon', yes: 'imminent' },
];
const OFFER = 'offer';

export class FollowUpDialog extends SafetyDialog {
  constructor(profiles: ProfileAccessor) {
    super(FOLLOW_UP_DIALOG, profiles);
  }

  protected override async open(dc: DialogContext): Promise<DialogTurnResult> {
    await say(dc.context, turnServices(dc.context).content.messages.safety.followUp.opening);
    return this.goTo(dc, 'thoughts');
  }

  protected override async prompt(context: TurnContext, state: SafetyState): Promise<void> {
    const { safety } = turnServices(context).content.messages;
    if (state.step === OFFER) {
      await ask(context, safety.crisis.offer, offerButtons(context));
      return;
    }
    await ask(context, safety.followUp[state.step as Question], yesNoButtons(context));
  }

  protected override async answer(dc: DialogContext, step: string): Promise<DialogTurnResult | undefined> {
    const state = this.state(dc);
    const { safety } = turnServices(dc.context).content.messages;
    if (step === OFFER) {
      return this.sharedAnswer(dc, chosenButton(dc.context, offerButtons(dc.context)));
    }

    const index = QUESTIONS.findIndex((q) => q.step === step);
    const question = QUESTIONS[index];
    const answer = chosenButton(dc.context, yesNoButtons(dc.context));
    if (!question || answer === undefined) return undefined;
    if (question.step === 'thoughts' && answer === 'no') {
      await say(dc.context, safety.followUp.noThoughts);
      return this.contactsThen(dc, ['crisis'], DONE);
    }
    // "Not sure" is taken as yes: a maybe about a plan is a reason to treat it as one.
    if (answer !== 'no') state.risk.level = higherLevel(state.risk.level, question.yes);

    const next = QUESTIONS[index + 1];
    if (next && !(question.step === 'soon' && answer !== 'no')) return this.goTo(dc, next.step);
    if (atLeast(state.risk.level, 'high')) return dc.replaceDialog(CRISIS_DIALOG, { risk: state.risk });
    await say(dc.context, safety.followUp.thoughtsWithoutPlan);
    return this.contactsThen(dc, ['crisis'], OFFER);
  }
}

function yesNoButtons(context: TurnContext) {
  const { followUp } = turnServices(context).content.messages.safety;
  return [
    { code: 'yes', label: followUp.yes },
    { code: 'no', label: followUp.no },
    { code: 'notSure', label: followUp.notSure },
  ];
}

function offerButtons(context: TurnContext) {
  const { safety } = turnServices(context).content.messages;
  return [
    { code: 'talkNow', label: safety.talkNow },
    { code: 'carryOn', label: safety.carryOn },
  ];
}
