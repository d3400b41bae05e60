/**
 * One turn, in the order DESIGN.md fixes: wrap the text as FreeText, screen for risk, relay to
 * a counsellor if connected (with the risk flag), else run the dialogs, save state through the
 * privacy guard. Turns of one conversation run one after another; different conversations
 * never wait for each other.
 */
import {
  ActivityHandler,
  ActivityTypes,
  BotState,
  EventFactory,
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
import type { Handover } from './handover/handover.js';
import type { HandoverEvent } from './handover/handoverService.js';
import { commandIn, isSlashCommand } from './language/commands.js';
import type { Helplines } from './content/helplines.js';
import { isButtonLabel } from './content/buttonLabels.js';
import { DATA_ERASED_EVENT } from './channels/channelEvents.js';
import { isStorageUnavailable } from './storage/storageError.js';
import { replyDuringStorageOutage } from './storageOutageReply.js';
import type { AggregateCounts, CountDimensions } from './metrics/aggregateCounts.js';
import { COUNTED, escalation } from './metrics/countedEvents.js';
import type { TurnReport } from './metrics/operationsMetrics.js';
import { RootDialog } from '../dialogs/rootDialog.js';
import { ROOT_DIALOG } from '../dialogs/dialogIds.js';
import { setTurnServices } from '../dialogs/turnServices.js';
import { fill, say } from '../dialogs/replies.js';
import type { Profile } from '../dialogs/profile.js';

export interface WaypointBotOptions {
  readonly content: ContentLibrary;
  /** Already wrapped in the privacy guard. */
  readonly storage: WaypointStorage;
  readonly pseudonymize: Pseudonymizer;
  readonly risk: RiskScreen;
  readonly helplines: Helplines;
  readonly handover: Handover;
  /** Daily counts without ids or words (bot/metrics/). */
  readonly counts: AggregateCounts;
  readonly log: Logger;
  /** Told of every finished turn (typing excluded), for the operations metrics. */
  readonly onTurnEnded?: (turn: TurnReport) => void;
}

export class WaypointBot extends ActivityHandler {
  private readonly conversationState: BotState;
  private readonly userState: BotState;
  private readonly dialogState: StatePropertyAccessor<DialogState>;
  /** Set on a conversation's first turn, so it is counted as started once. */
  private readonly counted: StatePropertyAccessor<boolean>;
  private readonly dialogs: DialogSet;
  private readonly turnsInFlight = new Map<string, Promise<void>>();

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
    this.counted = this.conversationState.createProperty<boolean>('counted');
    const profiles = this.userState.createProperty<Profile>('profile');
    this.dialogs = new DialogSet(this.dialogState).add(new RootDialog(profiles));

    this.onMessage(async (context, next) => {
      await this.messageTurn(context);
      await next();
    });
    this.onEvent(async (context, next) => {
      if (context.activity.name === 'handoff.status') await this.handoffStatusTurn(context);
      await next();
    });
    this.onEndOfConversation(async (context, next) => {
      this.options.handover.gone(this.personKey(context));
      await next();
    });
    this.onMembersRemoved(async (context, next) => {
      const personLeft = (context.activity.membersRemoved ?? []).some((m) => m.id !== context.activity.recipient.id);
      if (personLeft) this.options.handover.gone(this.personKey(context));
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
    if (context.activity.type === ActivityTypes.Typing) return this.typingTurn(context);
    const freeText = takeFreeText(context.activity);
    context.turnState.set(FREE_TEXT, freeText);
    const arrived = performance.now();
    let failed = false;
    await this.oneAtATime(context, () =>
      runInTurnScope(freeText, async () => {
        const started = performance.now();
        try {
          const event = context.turnState.get(HANDOVER_EVENT) as HandoverEvent | undefined;
          if (event) await this.runDialogs(context, undefined, NO_RISK, { event });
          else await super.run(context);
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
          failed = true;
          if (isStorageUnavailable(error)) await this.storageOutageTurn(context);
          else await this.recoverFromError(context, error);
        }
      }),
    );
    this.options.onTurnEnded?.({
      channelId: context.activity.channelId,
      conversationKey: this.personKey(context),
      durationMs: performance.now() - arrived,
      failed,
    });
  }

  /**
   * Two turns of one conversation at once would read the same state and one would lose its
   * write; a counsellor's news can arrive while the person is typing. So they queue, per
   * conversation, in memory.
   */
  private async oneAtATime(context: TurnContext, turn: () => Promise<void>): Promise<void> {
    const key = `${context.activity.channelId}\u0000${context.activity.conversation?.id}`;
    const previous = this.turnsInFlight.get(key) ?? Promise.resolve();
    const current = previous.then(turn, turn);
    this.turnsInFlight.set(key, current);
    try {
      await current;
    } finally {
      if (this.turnsInFlight.get(key) === current) this.turnsInFlight.delete(key);
    }
  }

  /** The person is typing: only a counsellor in a live chat cares; nothing else happens. */
  private async typingTurn(context: TurnContext): Promise<void> {
    this.options.handover.typing(this.personKey(context));
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
    // A button's label or a slash command from Telegram's menu is a tap, not the person's words.
    const tapped = freeText && (isButtonLabel(content, freeText.reveal()) || isSlashCommand(freeText.reveal()));
    const risk = freeText && !tapped ? this.options.risk.screen(freeText.reveal(), context.activity.locale) : NO_RISK;
    if (risk.escalate) {
      this.options.log.info({ event: 'risk.escalate', category: risk.category, level: risk.level });
      this.count(context, escalation(risk.category, risk.level));
    }
    if (freeText && (await this.liveChatTurn(context, content, freeText, risk))) return;
    await this.runDialogs(context, freeText, risk);
  }

  /**
   * In a live chat, everything goes to the counsellor except the words that end it. True when
   * the turn is handled; "stop" and "delete my data" end the chat and then go on to the dialogs.
   */
  private async liveChatTurn(context: TurnContext, content: Content, freeText: FreeText, risk: RiskAssessment): Promise<boolean> {
    const { handover } = this.options;
    const personKey = this.personKey(context);
    if (!(await handover.isLive(personKey))) return false;
    const command = commandIn(content, freeText.reveal());
    const leaving = command === 'endChat' || command === 'stop' || command === 'deleteData' ? command : undefined;
    if (!leaving) {
      // The words are only held for the moment it takes to pass them on, never kept to retry.
      if ((await handover.relay(personKey, freeText.reveal(), risk)) === 'interrupted') await say(context, content.messages.handover.relayInterrupted);
      return true;
    }
    await handover.endByPerson(context, personKey);
    if (leaving !== 'endChat') return false;
    await this.runDialogs(context, undefined, NO_RISK, { event: { kind: 'ended', by: 'person' } });
    return true;
  }

  /** An external contact centre reports on a hand-off (events mode). */
  private async handoffStatusTurn(context: TurnContext): Promise<void> {
    const state = (context.activity.value as { state?: unknown } | undefined)?.state;
    const event = this.options.handover.handoffStatus(this.personKey(context), state);
    if (event) await this.runDialogs(context, undefined, NO_RISK, { event });
  }

  private async runDialogs(
    context: TurnContext,
    freeText: FreeText | undefined,
    risk: RiskAssessment,
    { onlyIfIdle = false, repromptOnly = false, event }: { onlyIfIdle?: boolean; repromptOnly?: boolean; event?: HandoverEvent } = {},
  ): Promise<void> {
    const content = this.contentFor(context);
    // News from the desk arrives in a conversation that already started; only the person starts one.
    if (!event && !(await this.counted.get(context, false))) {
      await this.counted.set(context, true);
      this.count(context, COUNTED.conversationStarted);
    }
    setTurnServices(context, {
      content,
      freeText,
      risk,
      helplines: this.options.helplines,
      handover: this.options.handover.serviceFor(
        context,
        this.personKey(context),
        // Read now: the turn context is revoked once this turn ends, long before a counsellor writes.
        (name, text) => fill(content.messages.handover.counsellorSays, { name, text }),
        (turn, news) => this.deliverHandoverEvent(turn, news),
      ),
      handoverEvent: event,
      eraseMyData: async () => {
        await this.userState.delete(context);
        await this.conversationState.delete(context);
        context.turnState.set(ERASED, true);
        this.options.log.info({ event: 'data.erased' });
        this.count(context, COUNTED.dataDeleted);
        // The channel may hold a copy of the chat on the person's device; it deletes what it can.
        await context.sendActivity({ type: ActivityTypes.Event, name: DATA_ERASED_EVENT });
      },
      count: (name) => this.count(context, name),
    });
    const dc = await this.dialogs.createContext(context);
    if (onlyIfIdle && dc.activeDialog) return;
    if (repromptOnly && dc.activeDialog) return dc.repromptDialog();
    const result = await dc.continueDialog();
    if (result.status === DialogTurnStatus.empty) await dc.beginDialog(ROOT_DIALOG);
  }

  /**
   * News from the desk (a counsellor joined, the chat ended, the wait timed out) arrives as a
   * turn of its own in the person's conversation, so it queues behind their messages and the
   * dialogs can answer it with their state at hand.
   */
  private async deliverHandoverEvent(context: TurnContext, event: HandoverEvent): Promise<void> {
    context.turnState.set(HANDOVER_EVENT, event);
    const status = HANDOFF_STATUS[event.kind];
    if (status && this.options.handover.mode === 'console') {
      // The same protocol an external contact centre speaks, so observers of the channel see one kind of hand-off.
      await context.sendActivity(EventFactory.createHandoffStatus(context.activity.conversation, status));
    }
    await this.run(context);
  }

  /** Never waits: the counts are tallied in memory and written later (bot/metrics/aggregateCounts.ts). */
  private count(context: TurnContext, event: string): void {
    const where: CountDimensions = { channel: context.activity.channelId, locale: context.activity.locale };
    this.options.counts.increment(event, where);
  }

  /** The conversation's pseudonym: how the desk knows a person without holding their channel id. */
  private personKey(context: TurnContext): string {
    return this.options.pseudonymize('conversation', context.activity.channelId, context.activity.conversation.id);
  }

  private contentFor(context: TurnContext): Content {
    return this.options.content.forLocale(context.activity.locale);
  }

  /**
   * The store is out of reach (Redis down): the state is not broken, so nothing is reset. The
   * connection retries by itself; the person hears what does not work and where to find help.
   */
  private async storageOutageTurn(context: TurnContext): Promise<void> {
    this.options.log.warn({ event: 'turn.storageUnavailable', answered: context.responded });
    try {
      await replyDuringStorageOutage(context, this.contentFor(context), this.options.helplines);
    } catch (error) {
      this.options.log.error({ event: 'turn.recoveryFailed', errorId: newErrorId(), err: error });
    }
  }

  /** The person gets a calm message; the log gets an error id and no words of theirs. */
  private async recoverFromError(context: TurnContext, error: unknown): Promise<void> {
    const errorId = newErrorId();
    this.options.log.error({ event: 'turn.failed', errorId, err: error });
    try {
      // A broken dialog stack must not trap the person: start the conversation afresh next time.
      await this.conversationState.delete(context);
    } catch (secondError) {
      this.options.log.error({ event: 'turn.recoveryFailed', errorId, err: secondError });
    }
    // Said even when the state could not be cleared (storage down): silence is the worst answer.
    try {
      await say(context, this.contentFor(context).messages.error.somethingWentWrong);
    } catch (thirdError) {
      this.options.log.error({ event: 'turn.recoveryFailed', errorId, err: thirdError });
    }
  }
}

const FREE_TEXT = Symbol('waypoint.freeText');
/** Set only by the desk's own proactive turns: an incoming activity can never claim to be one. */
const HANDOVER_EVENT = Symbol('waypoint.handoverEvent');
const HANDOFF_STATUS: Partial<Record<HandoverEvent['kind'], string>> = { connected: 'accepted', ended: 'completed', timedOut: 'failed' };
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
