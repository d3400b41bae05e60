/**
 * One turn, in the order DESIGN.md fixes: wrap the text as FreeText, relay to a counsellor if
 * connected, screen for risk, run the dialogs, save state through the privacy guard.
 */
import {
  ActivityHandler,
  ActivityTypes,
  BotState,
  type Activity,
  type StatePropertyAccessor,
  type TurnContext,
} from 'botbuilder';
import { DialogSet, DialogTurnStatus, type DialogState } from 'botbuilder-dialogs';
import type { ContentLibrary, Content } from './content/schema.js';
import type { WaypointStorage } from './storage/waypointStorage.js';
import { FreeText } from './privacy/freeText.js';
import { runInTurnScope } from './privacy/turnScope.js';
import type { Pseudonymizer } from './privacy/pseudonym.js';
import { newErrorId, type Logger } from './privacy/logger.js';
import { NO_RISK, type RiskAssessment, type RiskScreen } from './risk/riskScreen.js';
import type { HandoverRelay } from './handover/handoverRelay.js';
import type { Helplines } from './content/helplines.js';
import { isButtonLabel } from './content/buttonLabels.js';
import { RootDialog } from '../dialogs/rootDialog.js';
import { ROOT_DIALOG } from '../dialogs/dialogIds.js';
import { setTurnServices } from '../dialogs/turnServices.js';
import { say } from '../dialogs/replies.js';
import type { Profile } from '../dialogs/profile.js';

export interface WaypointBotOptions {
  readonly content: ContentLibrary;
  /** Already wrapped in the privacy guard. */
  readonly storage: WaypointStorage;
  readonly pseudonymize: Pseudonymizer;
  readonly risk: RiskScreen;
  readonly helplines: Helplines;
  readonly handover: HandoverRelay;
  readonly log: Logger;
}

export class WaypointBot extends ActivityHandler {
  private readonly conversationState: BotState;
  private readonly userState: BotState;
  private readonly dialogState: StatePropertyAccessor<DialogState>;
  private readonly dialogs: DialogSet;

  constructor(private readonly options: WaypointBotOptions) {
    super();
    const { storage, pseudonymize } = options;
    // Storage keys are HMACs of channel ids: a raw Telegram chat id or Web Chat user id never reaches disk.
    this.conversationState = new BotState(storage, async (context) =>
      pseudonymize('conversation', context.activity.channelId, context.activity.conversation.id),
    );
    this.userState = new BotState(storage, async (context) =>
      pseudonymize('user', context.activity.channelId, context.activity.from.id),
    );
    this.dialogState = this.conversationState.createProperty<DialogState>('dialogState');
    const profiles = this.userState.createProperty<Profile>('profile');
    this.dialogs = new DialogSet(this.dialogState).add(new RootDialog(profiles));

    this.onMessage(async (context, next) => {
      await this.messageTurn(context);
      await next();
    });
    this.onMembersAdded(async (context, next) => {
      const someoneElseJoined = (context.activity.membersAdded ?? []).some((m) => m.id !== context.activity.recipient.id);
      if (someoneElseJoined) await this.runDialogs(context, undefined, NO_RISK, { onlyIfIdle: true });
      await next();
    });
  }

  /** Every turn runs inside a privacy scope that knows this turn's text, and never throws. */
  override async run(context: TurnContext): Promise<void> {
    const freeText = takeFreeText(context.activity);
    context.turnState.set(FREE_TEXT, freeText);
    await runInTurnScope(freeText, async () => {
      const started = performance.now();
      try {
        await super.run(context);
        if (!context.turnState.get(ERASED)) {
          await this.conversationState.saveChanges(context);
          await this.userState.saveChanges(context);
        }
        this.options.log.debug({
          event: 'turn.completed',
          activityType: context.activity.type,
          durationMs: Math.round(performance.now() - started),
        });
      } catch (error) {
        await this.recoverFromError(context, error);
      }
    });
  }

  private async messageTurn(context: TurnContext): Promise<void> {
    const freeText = context.turnState.get(FREE_TEXT) as FreeText | undefined;
    const content = this.contentFor(context);
    if ((context.activity.attachments ?? []).length > 0) {
      // Files are never read, stored or forwarded: someone could send illegal images.
      context.activity.attachments = undefined;
      this.options.log.info({ event: 'media.refused' });
      await say(context, content.messages.media.refused);
      // The refusal says "tap one of the buttons": ask the open question again so there are buttons to tap.
      if (!freeText) return this.runDialogs(context, undefined, NO_RISK, { repromptOnly: true });
    }
    if (await this.options.handover.relayIfConnected(context)) return;
    const risk = freeText && !isButtonLabel(content, freeText.reveal()) ? this.options.risk.screen(freeText.reveal(), context.activity.locale) : NO_RISK;
    if (risk.escalate) this.options.log.info({ event: 'risk.escalate', category: risk.category, level: risk.level });
    await this.runDialogs(context, freeText, risk);
  }

  private async runDialogs(
    context: TurnContext,
    freeText: FreeText | undefined,
    risk: RiskAssessment,
    { onlyIfIdle = false, repromptOnly = false } = {},
  ): Promise<void> {
    setTurnServices(context, {
      content: this.contentFor(context),
      freeText,
      risk,
      helplines: this.options.helplines,
      eraseMyData: async () => {
        await this.userState.delete(context);
        await this.conversationState.delete(context);
        context.turnState.set(ERASED, true);
        this.options.log.info({ event: 'data.erased' });
      },
    });
    const dc = await this.dialogs.createContext(context);
    if (onlyIfIdle && dc.activeDialog) return;
    if (repromptOnly && dc.activeDialog) return dc.repromptDialog();
    const result = await dc.continueDialog();
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(ROOT_DIALOG);
  }

  private contentFor(context: TurnContext): Content {
    return this.options.content.forLocale(context.activity.locale);
  }

  /** The person gets a calm message; the log gets an error id and no words of theirs. */
  private async recoverFromError(context: TurnContext, error: unknown): Promise<void> {
    const errorId = newErrorId();
    this.options.log.error({ event: 'turn.failed', errorId, err: error });
    try {
      // A broken dialog stack must not trap the person: start the conversation afresh next time.
      await this.conversationState.delete(context);
      await say(context, this.contentFor(context).messages.error.somethingWentWrong);
    } catch (secondError) {
      this.options.log.error({ event: 'turn.recoveryFailed', errorId, err: secondError });
    }
  }
}

const FREE_TEXT = Symbol('waypoint.freeText');
const ERASED = Symbol('waypoint.erased');

/**
 * Moves the text out of the activity into a FreeText, so nothing downstream (a log line, a
 * serialised activity, a middleware) can carry the person's words by accident.
 */
function takeFreeText(activity: Activity): FreeText | undefined {
  if (activity.type !== ActivityTypes.Message || typeof activity.text !== 'string' || activity.text.trim() === '') {
    return undefined;
  }
  const freeText = FreeText.of(activity.text);
  activity.text = '';
  return freeText;
}
