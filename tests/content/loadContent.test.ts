import { afterAll, describe, expect, it } from '@jest/globals';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ContentError, type ContentProblem } from '../../bot/content/contentError.js';
import { loadContent } from '../../bot/content/loadContent.js';
import { brokenLibrary, lineOf, moduleYaml, removeBrokenLibraries, replace, VALID_LIBRARY, type FileChange } from './fixtureLibrary.js';

afterAll(removeBrokenLibraries);

async function problemsIn(root: string, options?: { defaultLocale?: string }): Promise<readonly ContentProblem[]> {
  try {
    await loadContent(root, options);
  } catch (error) {
    if (error instanceof ContentError) return error.problems;
    throw error;
  }
  throw new Error('expected loadContent to throw a ContentError');
}

/** Breaks one file of the valid library; `line(snippet)` finds a line in the broken file. */
async function breakFile(file: string, change: FileChange) {
  const root = await brokenLibrary({ [file]: change });
  const text = change === null ? '' : await readFile(path.join(root, file), 'utf8');
  return { root, problems: await problemsIn(root), line: (snippet: string) => lineOf(text, snippet) };
}

const BREATHING = 'en/modules/breathing.yaml';
const GROUNDING = 'en/modules/grounding.yaml';
const EN_MESSAGES = 'en/messages.yaml';

describe('loading a valid library', () => {
  it('loads every locale folder with its messages, safety plan and modules', async () => {
    const library = await loadContent(VALID_LIBRARY);

    expect([...library.locales.keys()]).toEqual(['de', 'en']);
    expect(library.defaultLocale).toBe('en');
    const de = library.locales.get('de');
    expect(de?.messages.languageName).toBe('Deutsch');
    expect(de?.safetyPlan.sections.map((s) => s.id)).toEqual(['warnzeichen']);
    expect([...(de?.modules.keys() ?? [])]).toEqual(['atmung']);
  });

  it('lists modules in menu order, not file order', async () => {
    const en = (await loadContent(VALID_LIBRARY)).forLocale('en');

    expect([...en.modules.keys()]).toEqual(['grounding', 'breathing']);
  });

  it('fills in schema defaults such as an empty suggest list', async () => {
    const grounding = (await loadContent(VALID_LIBRARY)).forLocale('en').modules.get('grounding');

    expect(grounding?.steps.at(-1)).toEqual({ id: 'closing', type: 'end', text: 'Good. You can come back to this any time.', suggest: [] });
  });

  it('returns content that nobody can change at run time', async () => {
    const library = await loadContent(VALID_LIBRARY);
    const en = library.forLocale('en');
    const step = en.modules.get('breathing')?.steps[0];

    expect(Object.isFrozen(library)).toBe(true);
    expect(Object.isFrozen(en)).toBe(true);
    expect(Object.isFrozen(en.messages.menu.modules)).toBe(true);
    expect(Object.isFrozen(en.safetyPlan.sections[0]?.items[0])).toBe(true);
    expect(Object.isFrozen(step)).toBe(true);
    expect(() => (en.modules as Map<string, unknown>).delete('breathing')).toThrow(TypeError);
    expect(() => (library.locales as Map<string, unknown>).set('fr', en)).toThrow(TypeError);
    expect(en.modules.size).toBe(2);
  });

  it('matches a locale by exact tag, then by language, then falls back to the default', async () => {
    const library = await loadContent(VALID_LIBRARY);

    expect(library.forLocale('de').locale).toBe('de');
    expect(library.forLocale('de-AT').locale).toBe('de');
    expect(library.forLocale('DE_at').locale).toBe('de');
    expect(library.forLocale('en-GB').locale).toBe('en');
    expect(library.forLocale('pt-BR').locale).toBe('en');
    expect(library.forLocale('').locale).toBe('en');
    expect(library.forLocale(undefined).locale).toBe('en');
  });

  it('falls back to the default locale given in the options', async () => {
    const library = await loadContent(VALID_LIBRARY, { defaultLocale: 'de' });

    expect(library.defaultLocale).toBe('de');
    expect(library.forLocale('fr-CA').locale).toBe('de');
  });
});

describe('reporting YAML and schema problems', () => {
  it('reports a key written twice as a YAML error with its line', async () => {
    const { problems, line } = await breakFile(EN_MESSAGES, replace('welcome: Hello.', 'welcome: Hello.\nwelcome: Hi.'));

    expect(problems).toEqual([
      { code: 'CONTENT_YAML_SYNTAX', file: EN_MESSAGES, path: '', line: line('welcome: Hi.'), message: 'Map keys must be unique' },
    ]);
  });

  it('reports a tab used as indentation with its line', async () => {
    const { problems, line } = await breakFile('de/safetyPlan.yaml', replace('    title: Meine', '\ttitle: Meine'));

    expect(problems).toEqual([
      { code: 'CONTENT_YAML_SYNTAX', file: 'de/safetyPlan.yaml', path: '', line: line('\ttitle'), message: 'Tabs are not allowed as indentation' },
    ]);
  });

  it('reports a misspelt key with file, path and line', async () => {
    const { problems, line } = await breakFile(BREATHING, replace('        next: goodbye', '        nxt: goodbye'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_SCHEMA',
        file: BREATHING,
        path: 'steps[1].options[1].nxt',
        line: line('nxt: goodbye'),
        message: 'unknown key "nxt" (check the spelling)',
      },
    ]);
  });

  it('reports a missing key at the line of its parent', async () => {
    const { problems, line } = await breakFile(EN_MESSAGES, replace('  agree: Yes, go on\n', ''));

    expect(problems).toEqual([{ code: 'CONTENT_SCHEMA', file: EN_MESSAGES, path: 'consent.agree', line: line('consent:'), message: 'is required' }]);
  });

  it('reports an unknown step type and the allowed ones', async () => {
    const { problems, line } = await breakFile(GROUNDING, replace('type: say', 'type: sai'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_SCHEMA',
        file: GROUNDING,
        path: 'steps[0].type',
        line: line('type: sai'),
        message: 'unknown type "sai" (one of: say, choice, scale, reflect, branch, pick, plan, end)',
      },
    ]);
  });

  it('reports a message that is too long inside a list of messages', async () => {
    const long = 'word '.repeat(150).trim();
    const { problems, line } = await breakFile(BREATHING, replace("Let's try it together.", long));

    expect(problems).toEqual([
      {
        code: 'CONTENT_SCHEMA',
        file: BREATHING,
        path: 'steps[0].text[1]',
        line: line(long),
        message: 'must be at most 700 characters (split it into a list of shorter messages)',
      },
    ]);
  });

  it('reports text of the wrong kind and an empty value in words a clinician understands', async () => {
    const { problems, line } = await breakFile(GROUNDING, (text) =>
      replace('text: How was that?', 'text: 5')(replace('text: Slow breathing might help too.', 'text:  # TODO')(text)),
    );

    expect(problems).toEqual([
      { code: 'CONTENT_SCHEMA', file: GROUNDING, path: 'steps[1].text', line: line('text: 5'), message: 'expected text or a list, found 5' },
      { code: 'CONTENT_SCHEMA', file: GROUNDING, path: 'steps[3].text', line: line('text:  # TODO'), message: 'is empty: expected text or a list' },
    ]);
  });

  it('reports a missing file', async () => {
    const { problems } = await breakFile('de/safetyPlan.yaml', null);

    expect(problems).toEqual([{ code: 'CONTENT_FILE_MISSING', file: 'de/safetyPlan.yaml', path: '', message: 'file is missing' }]);
  });
});

describe('cross-checking a module', () => {
  it('reports a module id that differs from its file name', async () => {
    const { problems, line } = await breakFile(GROUNDING, replace('id: grounding', 'id: grounded'));

    expect(problems).toEqual([
      { code: 'CONTENT_ID_MISMATCH', file: GROUNDING, path: 'id', line: line('id: grounded'), message: 'id "grounded" must equal the file name "grounding"' },
    ]);
  });

  it('reports an unknown next step with file and line', async () => {
    const { problems, line } = await breakFile(BREATHING, replace('next: goodbye', 'next: goodbey'));

    expect(problems).toEqual([
      { code: 'CONTENT_UNKNOWN_STEP', file: BREATHING, path: 'steps[1].options[1].next', line: line('next: goodbey'), message: 'unknown step "goodbey"' },
    ]);
  });

  it('reports unknown steps named by a branch', async () => {
    const { problems, line } = await breakFile(GROUNDING, (text) => replace('otherwise: tryBreathing', 'otherwise: tryBreath')(replace('on: feel', 'on: feeling')(text)));

    expect(problems).toEqual([
      { code: 'CONTENT_UNKNOWN_STEP', file: GROUNDING, path: 'steps[2].on', line: line('on: feeling'), message: 'unknown step "feeling"' },
      { code: 'CONTENT_UNKNOWN_STEP', file: GROUNDING, path: 'steps[2].otherwise', line: line('otherwise: tryBreath'), message: 'unknown step "tryBreath"' },
      // Nothing leads there any more.
      {
        code: 'CONTENT_UNREACHABLE_STEP',
        file: GROUNDING,
        path: 'steps[3]',
        line: line('id: tryBreathing'),
        message: 'step "tryBreathing" cannot be reached from the first step "senses"',
      },
    ]);
  });

  it('reports two steps with the same id', async () => {
    const text = moduleYaml(
      'breathing',
      `  - id: intro
    type: say
    text: One.
  - id: intro
    type: end
    text: Two.
`,
    );
    const { problems } = await breakFile(BREATHING, text);

    expect(problems).toEqual([
      // The second `- id: intro`, one line above the only `type: end`.
      { code: 'CONTENT_DUPLICATE_STEP', file: BREATHING, path: 'steps[1].id', line: lineOf(text, 'type: end') - 1, message: 'step id "intro" is already used above' },
    ]);
  });

  it('reports a step that no path reaches', async () => {
    const { problems, line } = await breakFile(
      BREATHING,
      moduleYaml(
        'breathing',
        `  - id: intro
    type: say
    text: One.
    next: bye
  - id: forgotten
    type: say
    text: Nobody sees this.
  - id: bye
    type: end
    text: Bye.
`,
      ),
    );

    expect(problems).toEqual([
      {
        code: 'CONTENT_UNREACHABLE_STEP',
        file: BREATHING,
        path: 'steps[1]',
        line: line('id: forgotten'),
        message: 'step "forgotten" cannot be reached from the first step "intro"',
      },
    ]);
  });

  it('reports a last step that would fall off the end of the script', async () => {
    // Turning the final end step into a say step leaves the conversation nowhere to go.
    const { problems, line } = await breakFile(GROUNDING, replace('  - id: closing\n    type: end', '  - id: closing\n    type: say'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_NO_END',
        file: GROUNDING,
        path: 'steps[4]',
        line: line('id: closing'),
        message: 'the last step must be an end step or have a next: the conversation would stop without an ending',
      },
    ]);
  });

  it('reports a script in which no end step can be reached', async () => {
    const { problems, line } = await breakFile(
      BREATHING,
      moduleYaml(
        'breathing',
        `  - id: ping
    type: say
    text: Ping.
  - id: pong
    type: say
    text: Pong.
    next: ping
`,
      ),
    );

    expect(problems).toEqual([
      { code: 'CONTENT_NO_END', file: BREATHING, path: 'steps', line: line('steps:'), message: 'no end step can be reached from the first step "ping"' },
    ]);
  });

  it('reports steps that loop forever even when another path ends', async () => {
    const { problems, line } = await breakFile(
      BREATHING,
      moduleYaml(
        'breathing',
        `  - id: ask
    type: choice
    text: Go on?
    options:
      - code: stop
        label: Stop
        next: bye
      - code: go
        label: Go on
  - id: round
    type: say
    text: Round
  - id: andRound
    type: say
    text: and round.
    next: round
  - id: bye
    type: end
    text: Bye.
`,
      ),
    );

    expect(problems).toEqual([
      {
        code: 'CONTENT_NO_END',
        file: BREATHING,
        path: 'steps[1]',
        line: line('id: round'),
        message: 'steps "round", "andRound" loop forever: no way leads from them to an end step',
      },
    ]);
  });

  it('reports a branch on a code the choice does not offer', async () => {
    const { problems, line } = await breakFile(GROUNDING, replace('equals: better', 'equals: beter'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_BAD_BRANCH',
        file: GROUNDING,
        path: 'steps[2].cases[0].equals',
        line: line('equals: beter'),
        message: '"beter" is not an option code of "feel" (codes: better, same)',
      },
    ]);
  });

  it('reports branches that do not fit the step they depend on', async () => {
    const { problems, line } = await breakFile(
      BREATHING,
      moduleYaml(
        'breathing',
        `  - id: intro
    type: say
    text: Hello.
  - id: onSay
    type: branch
    on: intro
    cases: [{ equals: x, next: mood }]
    otherwise: onLater
  - id: onLater
    type: branch
    on: mood
    cases: [{ atLeast: 1, next: mood }]
    otherwise: mood
  - id: mood
    type: scale
    text: How is your mood?
    min: 0
    max: 10
  - id: answer
    type: choice
    text: Really?
    options: [{ code: yes, label: Yes }, { code: maybe, label: Maybe }]
  - id: onChoice
    type: branch
    on: answer
    cases: [{ atLeast: 3, next: bye }]
    otherwise: onScale
  - id: onScale
    type: branch
    on: mood
    cases:
      - equals: high
        next: bye
      - atLeast: 11
        next: bye
    otherwise: bye
  - id: bye
    type: end
    text: Bye.
`,
      ),
    );
    const at = (stepPath: string, snippet: string, message: string) => ({ code: 'CONTENT_BAD_BRANCH', file: BREATHING, path: stepPath, line: line(snippet), message });

    expect(problems).toEqual([
      at('steps[1].on', 'on: intro', '"intro" is a say step; a branch needs a choice or scale step'),
      at('steps[2].on', 'on: mood', '"mood" must come before this branch'),
      at('steps[5].cases[0].atLeast', 'atLeast: 3', '"answer" is a choice step: use equals with an option code'),
      at('steps[6].cases[0].equals', 'equals: high', '"mood" is a scale step: use atLeast or atMost'),
      at('steps[6].cases[1]', 'atLeast: 11', 'can never match: "mood" goes from 0 to 10'),
    ]);
  });

  it('reports a branch that a path reaches without the question it depends on', async () => {
    const { problems, line } = await breakFile(
      BREATHING,
      moduleYaml(
        'breathing',
        `  - id: ask
    type: choice
    text: Shall we rate your mood?
    options:
      - code: rate
        label: Yes
      - code: skip
        label: Skip it
        next: check
  - id: mood
    type: scale
    text: How is your mood?
    min: 0
    max: 10
  - id: check
    type: branch
    on: mood
    cases: [{ atLeast: 5, next: bye }]
    otherwise: bye
  - id: bye
    type: end
    text: Bye.
`,
      ),
    );

    expect(problems).toEqual([
      {
        code: 'CONTENT_BAD_BRANCH',
        file: BREATHING,
        path: 'steps[2].on',
        line: line('on: mood'),
        message: 'a path reaches this branch without passing "mood", so there may be no answer',
      },
    ]);
  });

  it('reports a branch on a forgotten answer when the bot waits for the person in between', async () => {
    const { problems, line } = await breakFile(
      BREATHING,
      moduleYaml(
        'breathing',
        `  - id: contact
    type: choice
    text: Are you in contact with such groups?
    remember: false
    options: [{ code: yes, label: Yes }, { code: no, label: No }]
  - id: thanks
    type: say
    text: Thank you for telling me.
    pause: true
  - id: reply
    type: branch
    on: contact
    cases: [{ equals: yes, next: bye }]
    otherwise: bye
  - id: bye
    type: end
    text: Bye.
`,
      ),
    );

    expect(problems).toEqual([
      {
        code: 'CONTENT_BAD_BRANCH',
        file: BREATHING,
        path: 'steps[2].on',
        line: line('on: contact'),
        message: '"contact" has remember: false, so its answer is gone once the bot waits for the person again: no waiting step may come between them',
      },
    ]);
  });

  it('reports two options of a choice with the same code', async () => {
    const { problems, line } = await breakFile(GROUNDING, replace('code: same', 'code: better'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_DUPLICATE_CODE',
        file: GROUNDING,
        path: 'steps[1].options[1].code',
        line: line('label: About the same') - 1,
        message: 'option code "better" is already used above',
      },
    ]);
  });

  it('reports a pick step whose list is not in safetyPlan.yaml', async () => {
    const { problems, line } = await breakFile(BREATHING, replace('list: copingSteps', 'list: copingStep'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_UNKNOWN_LIST',
        file: BREATHING,
        path: 'steps[7].list',
        line: line('list: copingStep'),
        message: 'unknown list "copingStep" (en/safetyPlan.yaml has: warningSigns, copingSteps)',
      },
    ]);
  });

  it('reports an end step that suggests a module this locale does not have', async () => {
    const { problems, line } = await breakFile(BREATHING, replace('suggest: [grounding]', 'suggest: [grounding, atmung]'));

    expect(problems).toEqual([
      { code: 'CONTENT_UNKNOWN_MODULE', file: BREATHING, path: 'steps[9].suggest[1]', line: line('suggest: [grounding, atmung]'), message: 'unknown module "atmung"' },
    ]);
  });
});

describe('cross-checking files of a locale', () => {
  it('reports a menu entry without a module file', async () => {
    const { problems, line } = await breakFile(EN_MESSAGES, replace('    - breathing', '    - breathing\n    - urges'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_UNKNOWN_MODULE',
        file: EN_MESSAGES,
        path: 'menu.modules[2]',
        line: line('- urges'),
        message: 'unknown module "urges" (there is no en/modules/urges.yaml)',
      },
    ]);
  });

  it('reports a module listed twice in the menu', async () => {
    const { problems, line } = await breakFile(EN_MESSAGES, replace('    - breathing', '    - breathing\n    - grounding'));

    expect(problems).toEqual([
      {
        code: 'CONTENT_DUPLICATE_MODULE',
        file: EN_MESSAGES,
        path: 'menu.modules[2]',
        line: line('- breathing') + 1,
        message: 'module "grounding" is already used above',
      },
    ]);
  });

  it('reports a module file that the menu does not list', async () => {
    const root = await brokenLibrary({ 'de/modules/extra.yaml': moduleYaml('extra', '  - id: bye\n    type: end\n    text: Tschüss.\n') });
    const messages = await readFile(path.join(root, 'de/messages.yaml'), 'utf8');

    expect(await problemsIn(root)).toEqual([
      {
        code: 'CONTENT_UNLISTED_MODULE',
        file: 'de/messages.yaml',
        path: 'menu.modules',
        line: lineOf(messages, '  modules:'),
        message: 'module "extra" is not listed, so no one could open it',
      },
    ]);
  });

  it('reports duplicate list ids and item codes in the safety plan', async () => {
    const file = 'en/safetyPlan.yaml';
    const again = '  - id: warningSigns\n    title: Again\n    items: [{ code: a, label: A }, { code: b, label: B }]\n';
    const { problems, line } = await breakFile(file, (text) => replace('code: tired', 'code: lonely')(text) + again);

    expect(problems).toEqual([
      { code: 'CONTENT_DUPLICATE_CODE', file, path: 'sections[0].items[1].code', line: line('label: Being very tired') - 1, message: 'item code "lonely" is already used above' },
      { code: 'CONTENT_DUPLICATE_SECTION', file, path: 'sections[2].id', line: line('title: Again') - 1, message: 'list id "warningSigns" is already used above' },
    ]);
  });

  it('reports placeholders the bot does not fill in', async () => {
    const { problems, line } = await breakFile(EN_MESSAGES, (text) =>
      [
        replace('welcome: Hello.', 'welcome: Hello {name}.'),
        replace('continue "{title}"', 'continue "{titel}"'),
        replace('- Thank you for thinking about that.', '- Thank you, {name}.'),
      ].reduce((t, change) => change(t), text),
    );

    expect(problems).toEqual([
      { code: 'CONTENT_PLACEHOLDER', file: EN_MESSAGES, path: 'welcome', line: line('welcome:'), message: '{name} is not filled in by the bot: this message has no placeholders' },
      {
        code: 'CONTENT_PLACEHOLDER',
        file: EN_MESSAGES,
        path: 'menu.resumePrompt',
        line: line('resumePrompt:'),
        message: '{titel} is not filled in by the bot: only {title} can be used here',
      },
      {
        code: 'CONTENT_PLACEHOLDER',
        file: EN_MESSAGES,
        path: 'reflect.acknowledgements[0]',
        line: line('Thank you, {name}'),
        message: '{name} is not filled in by the bot: this message has no placeholders',
      },
    ]);
  });
});

describe('reporting problems of the library as a whole', () => {
  it('reports a missing default locale folder', async () => {
    const root = await brokenLibrary({ en: null });

    expect(await problemsIn(root)).toEqual([
      { code: 'CONTENT_NO_LOCALE', file: 'en', path: '', message: `there is no folder for the default locale "en" in ${root}` },
    ]);
  });

  it('reports a folder that is not named like a locale', async () => {
    const root = await brokenLibrary({ 'old_drafts/notes.txt': 'old' });

    expect(await problemsIn(root)).toEqual([
      { code: 'CONTENT_BAD_LOCALE', file: 'old_drafts', path: '', message: 'folder name is not a language tag such as en, de or pt-BR' },
    ]);
  });

  it('reports every problem of every file at once, sorted by file and line', async () => {
    const root = await brokenLibrary({
      [BREATHING]: replace('next: notice', 'next: notise'),
      [GROUNDING]: replace('equals: better', 'equals: beter'),
      'de/messages.yaml': replace('  agree: Ja, weiter\n', ''),
      'de/modules/atmung.yaml': replace('    text: Gut gemacht.', '    txt: Gut gemacht.'),
      'en/safetyPlan.yaml': replace('code: walk', 'code: callFriend'),
    });

    const codes = (await problemsIn(root)).map((p) => `${p.file}:${p.line} ${p.path} ${p.code}`);

    expect(codes).toEqual([
      'de/messages.yaml:3 consent.agree CONTENT_SCHEMA',
      'de/modules/atmung.yaml:25 steps[3].text CONTENT_SCHEMA',
      'de/modules/atmung.yaml:27 steps[3].txt CONTENT_SCHEMA',
      'en/modules/breathing.yaml:41 steps[4].next CONTENT_UNKNOWN_STEP',
      'en/modules/grounding.yaml:25 steps[2].cases[0].equals CONTENT_BAD_BRANCH',
      'en/safetyPlan.yaml:15 sections[1].items[1].code CONTENT_DUPLICATE_CODE',
    ]);
  });

  it('puts one problem per line in the error message, with file, line, path and code', async () => {
    const root = await brokenLibrary({ [BREATHING]: replace('next: goodbye', 'next: clsoing'), 'de/safetyPlan.yaml': null });

    const error = await loadContent(root).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ContentError);
    expect((error as ContentError).message.split('\n')).toEqual([
      'de/safetyPlan.yaml: file is missing (CONTENT_FILE_MISSING)',
      'en/modules/breathing.yaml:23 steps[1].options[1].next: unknown step "clsoing" (CONTENT_UNKNOWN_STEP)',
    ]);
  });
});
