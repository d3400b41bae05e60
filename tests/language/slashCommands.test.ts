import { describe, expect, it } from '@jest/globals';
import { isSlashCommand } from '../../bot/language/commands.js';

describe('slash commands', () => {
  it('knows a whole-message command from the menu, with or without the bot name', () => {
    expect(isSlashCommand('/plan')).toBe(true);
    expect(isSlashCommand(' /PLAN ')).toBe(true);
    expect(isSlashCommand('/plan@waypoint_bot')).toBe(true);
  });

  it('leaves anything else to be screened as the person\'s words', () => {
    expect(isSlashCommand('/plan i have the pills here')).toBe(false);
    expect(isSlashCommand('/bridge')).toBe(false);
    expect(isSlashCommand('plan')).toBe(false);
    expect(isSlashCommand('my plan')).toBe(false);
  });
});
