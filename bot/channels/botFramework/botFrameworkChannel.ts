/**
 * The standard Bot Framework endpoint (`POST /api/messages`) used by Azure Bot Service and the
 * Bot Framework Emulator. Anonymous when no app id is configured, authenticated when one is.
 */
import {
  CloudAdapter,
  ConfigurationBotFrameworkAuthentication,
  ConfigurationServiceClientCredentialFactory,
} from 'botbuilder';
import type { RequestHandler } from 'express';
import type { Config } from '../../config.js';
import { activityProblem } from './activityShape.js';
import { sendError } from '../../httpErrors.js';
import { newErrorId, type Logger } from '../../privacy/logger.js';
import type { TurnRunner } from '../turnRunner.js';

export function createBotFrameworkAdapter(azure: Config['azure']): CloudAdapter {
  const credentials = new ConfigurationServiceClientCredentialFactory({
    MicrosoftAppId: azure.appId,
    MicrosoftAppPassword: azure.appPassword,
    MicrosoftAppType: azure.appType,
    MicrosoftAppTenantId: azure.tenantId,
  });
  return new CloudAdapter(new ConfigurationBotFrameworkAuthentication({}, credentials));
}

/** Express handler for `POST /api/messages`; expects express.json() to have run. */
export function botFrameworkMessages(adapter: CloudAdapter, bot: TurnRunner, log: Logger): RequestHandler {
  return async (req, res) => {
    if (!req.is('application/json')) return sendError(res, 'UNSUPPORTED_MEDIA_TYPE');
    const problem = activityProblem(req.body);
    if (problem) return sendError(res, 'BAD_ACTIVITY', { detail: problem });
    try {
      await adapter.process(req, res, (context) => bot.run(context));
    } catch (error) {
      const errorId = newErrorId();
      log.error({ event: 'botFramework.requestFailed', errorId, err: error });
      sendError(res, 'INTERNAL', { errorId });
    }
  };
}
