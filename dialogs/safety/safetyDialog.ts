/**
 * What every safety response shares: it is pushed on top of whatever the person was doing and
 * hands them back to it when it ends; it knows the risk that started it (category and level,
 * never the words); and it gives contacts for the person's country, asking for the country
 * once. The country is kept in the profile only after consent; before that it lives in this
 * dialog's own state and is gone when the dialog ends.
 */
import { Dialog, type DialogContext, type DialogInstance, type DialogTurnResult } from 'botbuilder-dialogs';
import type { TurnContext } from 'botbuilder';
import type { HelplinePurpose } from '../../bot/content/helplines.js';
import type { RiskAssessment, RiskLevel } from '../../bot/risk/riskScreen.js';
import { higherLevel } from '../../bot/risk/riskPolicy.js';
import { PromptingDialog } from '../promptingDialog.js';
import { HANDOVER_DIALOG } from '../dialogIds.js';
import { turnServices } from '../turnServices.js';
import { ask, say } from '../replies.js';
import { chosenButton, type ChoiceButton } from '../answers.js';
import { readProfile, type ProfileAccessor } from '../profile.js';
import { hasCurrentConsent } from '../consentDialog.js';
import { contactBubbles } from './contacts.js';

export interface SafetyOptions {
  readonly risk: Pick<RiskAssessment, 'category' | 'level'>;
}

export interface SafetyState {
  step: string;
  risk: { category: RiskAssessment['category']; level: RiskLevel };
  /** Set when the country was asked before consent: kept here, not in the profile. */
  country?: string;
  /** What to say and where to go once the country is known. */
  afterCountry?: { purposes: HelplinePurpose[]; next: string };
}

const COUNTRY_STEP = 'country';
/** goTo(DONE) ends the dialog, so a step can finish after the country question too. */
export const DONE = 'done';

export abstract class SafetyDialog extends PromptingDialog<SafetyOptions> {
  constructor(
    id: string,
    protected readonly profiles: ProfileAccessor,
  ) {
    super(id);
  }

  /** Sends what the current step says and asks; the dialog then waits. */
  protected abstract prompt(context: TurnContext, state: SafetyState): Promise<void>;
  /** Handles an answer given at `step`; undefined when it was not understood (the step is asked again). */
  protected abstract answer(dc: DialogContext, step: string): Promise<DialogTurnResult | undefined>;
  /** Runs when the dialog starts, before its first step. */
  protected abstract open(dc: DialogContext): Promise<DialogTurnResult>;

  override async beginDialog(dc: DialogContext, options?: SafetyOptions): Promise<DialogTurnResult> {
    const state = this.state(dc);
    state.risk = { category: options?.risk.category ?? 'none', level: options?.risk.level ?? 'none' };
    return this.open(dc);
  }

  override async continueDialog(dc: DialogContext): Promise<DialogTurnResult> {
    const state = this.state(dc);
    // A second message in the same category while this dialog is open only sharpens the level.
    const { risk } = turnServices(dc.context);
    if (risk.category === state.risk.category) state.risk.level = higherLevel(state.risk.level, risk.level);

    const result = state.step === COUNTRY_STEP ? await this.countryAnswer(dc) : await this.answer(dc, state.step);
    if (result) return result;
    await say(dc.context, turnServices(dc.context).content.messages.choice.notUnderstood);
    await this.repromptDialog(dc.context, dc.activeDialog!);
    return Dialog.EndOfTurn;
  }

  override async repromptDialog(context: TurnContext, instance: DialogInstance): Promise<void> {
    const state = instance.state as SafetyState;
    if (state.step === COUNTRY_STEP) await this.askCountry(context);
    else await this.prompt(context, state);
  }

  protected state(dc: DialogContext): SafetyState {
    return dc.activeDialog!.state as SafetyState;
  }

  /** Goes to `step`: sends its prompt and waits. */
  protected async goTo(dc: DialogContext, step: string): Promise<DialogTurnResult> {
    if (step === DONE) return dc.endDialog();
    const state = this.state(dc);
    state.step = step;
    await this.prompt(dc.context, state);
    return Dialog.EndOfTurn;
  }

  /** Says the contacts for the person's country, asking the country first if it is not known yet. */
  protected async contactsThen(dc: DialogContext, purposes: readonly HelplinePurpose[], next: string): Promise<DialogTurnResult> {
    const country = await this.knownCountry(dc);
    if (country === undefined) {
      const state = this.state(dc);
      state.step = COUNTRY_STEP;
      state.afterCountry = { purposes: [...purposes], next };
      // Until the country is known, the emergency advice must not wait for an answer.
      await say(dc.context, turnServices(dc.context).content.messages.helplines.emergencyUnknown);
      await this.askCountry(dc.context);
      return Dialog.EndOfTurn;
    }
    await this.sayContacts(dc, purposes, country);
    return this.goTo(dc, next);
  }

  protected async sayContacts(dc: DialogContext, purposes: readonly HelplinePurpose[], country?: string, emergencyAlreadySaid = false): Promise<void> {
    const { content, helplines } = turnServices(dc.context);
    const code = country ?? (await this.knownCountry(dc));
    await say(dc.context, contactBubbles(content, helplines.forCountry(code), purposes, emergencyAlreadySaid));
  }

  /**
   * The answers every safety offer shares: a counsellor now (carrying the risk for the queue),
   * "that's not what I meant" (accepted without argument; the contacts were already given), and
   * carrying on. Undefined for any other answer.
   */
  protected async sharedAnswer(dc: DialogContext, code: string | undefined): Promise<DialogTurnResult | undefined> {
    const { safety } = turnServices(dc.context).content.messages;
    switch (code) {
      case 'talkNow':
        return dc.replaceDialog(HANDOVER_DIALOG, { risk: this.state(dc).risk });
      case 'misunderstood':
        await say(dc.context, safety.misunderstoodReply);
        return dc.endDialog();
      case 'carryOn':
        return dc.endDialog();
      default:
        return undefined;
    }
  }

  private async countryAnswer(dc: DialogContext): Promise<DialogTurnResult | undefined> {
    const code = chosenButton(dc.context, this.countryButtons(dc.context));
    if (code === undefined) return undefined;
    const state = this.state(dc);
    if (await hasCurrentConsent(this.profiles, dc.context)) (await readProfile(this.profiles, dc.context)).country = code;
    else state.country = code;
    const { purposes, next } = state.afterCountry ?? { purposes: [], next: DONE };
    state.afterCountry = undefined;
    await this.sayContacts(dc, purposes, code, true);
    return this.goTo(dc, next);
  }

  private async knownCountry(dc: DialogContext): Promise<string | undefined> {
    return this.state(dc).country ?? (await readProfile(this.profiles, dc.context)).country;
  }

  private async askCountry(context: TurnContext): Promise<void> {
    await ask(context, turnServices(context).content.messages.helplines.countryQuestion, this.countryButtons(context));
  }

  private countryButtons(context: TurnContext): ChoiceButton[] {
    const { helplines, content } = turnServices(context);
    return helplines.countries.map((country) => ({
      code: country.code,
      label: country.names[content.locale] ?? (country.names.en as string),
      synonyms: [country.code, ...Object.values(country.names), ...country.synonyms],
    }));
  }
}
