/**
 * Turns a chat message into clauses of plain words, the way help-seekers actually write:
 * lower case, no apostrophes ("dont"), chat shorthand ("rn", "kms", "14yo"). Lexicon phrases go
 * through the same function, so a clinician writes "don't want to live" and it matches "dont
 * wanna live". Clause breaks matter because a negation ends at "but" or a full stop.
 */

/** Shorthand and contractions, after apostrophes are dropped. */
const EXPANSIONS: Readonly<Record<string, string>> = {
  dont: 'do not', cant: 'can not', cannot: 'can not', wont: 'will not', wouldnt: 'would not',
  couldnt: 'could not', shouldnt: 'should not', didnt: 'did not', doesnt: 'does not', isnt: 'is not',
  arent: 'are not', wasnt: 'was not', werent: 'were not', havent: 'have not', hasnt: 'has not',
  hadnt: 'had not', aint: 'am not', mustnt: 'must not', neednt: 'need not',
  im: 'i am', ive: 'i have', id: 'i would', youre: 'you are', theyre: 'they are', hes: 'he is',
  shes: 'she is', thats: 'that is', theres: 'there is', whats: 'what is', its: 'it is', lets: 'let us',
  wanna: 'want to', gonna: 'going to', gotta: 'got to', hafta: 'have to', tryna: 'trying to', kinda: 'kind of',
  u: 'you', ur: 'your', r: 'are', ya: 'you', rn: 'right now', atm: 'at the moment', asap: 'as soon as possible',
  tn: 'tonight', tmrw: 'tomorrow', tmr: 'tomorrow', tomoz: 'tomorrow', '2nite': 'tonight', '2night': 'tonight', '2day': 'today',
  kms: 'kill myself', kys: 'kill yourself', sh: 'self harm', od: 'overdose',
  idk: 'i do not know', idc: 'i do not care', dunno: 'do not know', tbh: 'to be honest', ngl: 'honestly',
  bc: 'because', cuz: 'because', coz: 'because', cos: 'because', bcos: 'because', tho: 'though',
  pls: 'please', plz: 'please', ppl: 'people', smth: 'something', sb: 'somebody',
  yo: 'year old', yos: 'year olds', yr: 'year', yrs: 'years', yro: 'year old', yrold: 'year old',
  w: 'with', wit: 'with', abt: 'about', bout: 'about', gf: 'girlfriend', bf: 'boyfriend',
  convo: 'conversation', pic: 'picture', pics: 'pictures', pix: 'pictures', vid: 'video', vids: 'videos',
};

/** Words written apart that are one word in the lexicon ("kill my self"). */
const JOINS: Readonly<Record<string, string>> = {
  'my self': 'myself', 'him self': 'himself', 'her self': 'herself', 'your self': 'yourself', 'any more': 'anymore',
  'some one': 'someone', 'no one': 'noone', 'every one': 'everyone', 'to night': 'tonight', 'to day': 'today',
  'y o': 'year old',
};

const CLAUSE_BREAK = /[.!?;:,\n\r()…"]+|\s-\s|\b(?:but|although|though|however|whereas)\b/u;
const WORD = /[\p{L}\p{N}]+/gu;
/** "14yo", "13y/o" and "12-year-old" become "14 year old". */
const AGE = /\b(\d{1,2})\s*(?:-\s*)?(?:y\/?o|yrs?\s*old|years?\s*old|year\s*-\s*old|yo)\b/gu;

/** Clauses of normalised words; empty clauses are dropped. */
export function clausesOf(text: string): string[][] {
  const flat = text
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[’'`´]/g, '')
    .replace(AGE, '$1 year old')
    // "soooo" and "pleeease": three or more of one letter are never English.
    .replace(/(\p{L})\1{2,}/gu, '$1$1');
  const clauses: string[][] = [];
  for (const part of flat.split(CLAUSE_BREAK)) {
    if (part === undefined) continue;
    const words = wordsOf(part);
    if (words.length > 0) clauses.push(words);
  }
  return clauses;
}

/** One phrase of the lexicon as words, normalised exactly like a message. */
export function phraseWords(phrase: string): string[] {
  return clausesOf(phrase).flat();
}

function wordsOf(part: string): string[] {
  const raw = part.match(WORD) ?? [];
  const expanded: string[] = [];
  for (const word of raw) {
    const expansion = EXPANSIONS[word];
    if (expansion) expanded.push(...expansion.split(' '));
    else expanded.push(word);
  }
  const joined: string[] = [];
  for (let i = 0; i < expanded.length; i++) {
    const current = expanded[i] as string;
    const next = expanded[i + 1];
    const join = next === undefined ? undefined : JOINS[`${current} ${next}`];
    if (join) {
      joined.push(...join.split(' '));
      i++;
    } else {
      joined.push(current);
    }
  }
  return joined;
}
