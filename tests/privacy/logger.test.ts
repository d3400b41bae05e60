import { describe, expect, it } from '@jest/globals';
import { createLogger, newErrorId } from '../../bot/privacy/logger.js';
import { FreeText } from '../../bot/privacy/freeText.js';

const CANARY = 'CANARY4217';

function captured() {
  const lines: string[] = [];
  const log = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(line) } });
  return { log, output: () => lines.join(''), records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

const REDACTED_FIELDS = [
  'text', 'activity', 'value', 'message', 'body', 'attachments', 'from', 'recipient', 'conversation',
];

describe('createLogger', () => {
  it.each(REDACTED_FIELDS)('drops %s at the top level and nested', (field) => {
    const { log, output, records } = captured();
    log.info({ event: 'test', [field]: `${CANARY} top`, turn: { [field]: `${CANARY} nested`, deeper: { [field]: CANARY } } });
    expect(output()).not.toContain(CANARY);
    expect(records()[0]).toMatchObject({ event: 'test' });
  });

  it('drops a whole activity, a Telegram update and request bodies and credentials', () => {
    const { log, output } = captured();
    const activity = {
      type: 'message',
      text: CANARY,
      from: { id: CANARY, name: CANARY },
      conversation: { id: CANARY },
      channelData: { clientActivityID: 'x', message: { text: CANARY } },
    };
    log.info({ event: 'turn', activity });
    log.info({ event: 'turn', context: { activity } });
    log.info({ event: 'telegram', update: { update_id: 1, message: { text: CANARY, chat: { id: CANARY } } } });
    log.info({ event: 'http', req: { method: 'POST', url: `/api?q=${CANARY}`, body: { text: CANARY }, headers: { authorization: CANARY }, remoteAddress: '203.0.113.9' } });
    log.info({ event: 'http', headers: { authorization: `Bearer ${CANARY}` } });
    expect(output()).not.toContain(CANARY);
    expect(output()).not.toContain('203.0.113.9');
  });

  it('never writes an error message, which may quote its input', () => {
    const { log, output, records } = captured();
    let parseError: Error | undefined;
    try {
      JSON.parse(`{"text": ${CANARY} and more words}`);
    } catch (error) {
      parseError = error as Error;
    }
    expect(parseError?.message).toContain(CANARY.slice(0, 6));

    const errorId = newErrorId();
    log.error({ event: 'turn.failed', errorId, err: parseError }, 'turn failed');
    log.error(parseError);
    log.error({ err: parseError });
    log.error({ event: 'nested', details: { cause: parseError } });
    log.error({ err: Object.assign(new Error(`multi\nline ${CANARY}\n    at ${CANARY}`), { code: 'E_TEST' }) });
    log.error({ err: new Error('wrapped', { cause: parseError }) });

    expect(output()).not.toContain(CANARY.slice(0, 6));
    const [first] = records();
    expect(first).toMatchObject({ errorId, msg: 'turn failed', err: { type: 'SyntaxError' } });
    expect((first?.err as { stack: string }).stack).toMatch(/^SyntaxError\n\s+at /);
    expect(output()).toContain('"code":"E_TEST"');
    expect(errorId).toMatch(/^[0-9a-f]{8}$/);
  });

  it('keeps the message of errors that declare it safe, and their code', () => {
    class ContentError extends Error {
      static readonly safeMessage = true;
      readonly code = 'CONTENT_UNKNOWN_STEP';
      override readonly name = 'ContentError';
    }
    const { log, records } = captured();
    log.error({ err: new ContentError('modules/a.yaml: steps[3].next: unknown step "clsoing"') }, 'content invalid');
    expect(records()[0]?.err).toMatchObject({
      type: 'ContentError',
      code: 'CONTENT_UNKNOWN_STEP',
      message: 'modules/a.yaml: steps[3].next: unknown step "clsoing"',
    });
  });

  it('writes only constant messages: interpolated values and non-error err values are dropped', () => {
    const { log, output } = captured();
    log.info('said %s', CANARY);
    log.info({ event: 'x' }, 'said %s %j', CANARY, { text: CANARY });
    log.warn({ err: `${CANARY} as a string` });
    expect(output()).not.toContain(CANARY);
  });

  it('drops sensitive bindings of child loggers', () => {
    const { log, output, records } = captured();
    log.child({ component: 'bot', activity: { text: CANARY } }).info({ event: 'child' });
    expect(output()).not.toContain(CANARY);
    expect(records()[0]).toMatchObject({ component: 'bot', event: 'child' });
  });

  it('shows FreeText as its placeholder wherever it is logged', () => {
    const { log, output } = captured();
    const freeText = FreeText.of(`${CANARY} typed by a person`);
    log.info({ event: 'x', input: freeText, list: [freeText] }, String(freeText));
    log.info(freeText);
    expect(output()).not.toContain(CANARY);
  });
});
