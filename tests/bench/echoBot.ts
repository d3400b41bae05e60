/**
 * The baseline of tests/bench/directLineLoad.ts: the smallest Bot Framework bot there is, with
 * no state, storage or screening. Served by the same Direct Line service code as Waypoint, so
 * what separates the two is the cost of Waypoint's own turn, not of the service.
 */
import { ActivityHandler, MessageFactory } from 'botbuilder';

export class EchoBot extends ActivityHandler {
  constructor() {
    super();
    this.onMembersAdded(async (context, next) => {
      for (const member of context.activity.membersAdded ?? []) {
        if (member.id !== context.activity.recipient.id) await context.sendActivity(MessageFactory.text('hi'));
      }
      await next();
    });
    this.onMessage(async (context, next) => {
      await context.sendActivity(MessageFactory.text(`echo: ${context.activity.text ?? ''}`));
      await next();
    });
  }
}
