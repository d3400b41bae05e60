/**
 * A strict reader of the Prometheus text format (0.0.4), so a test can say "this is what a
 * scraper would read": every line must be a comment, HELP, TYPE or a sample; a line it cannot
 * read fails the test instead of being skipped.
 */

export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface Exposition {
  readonly samples: readonly Sample[];
  /** Metric family name -> counter, gauge, histogram, summary or untyped. */
  readonly types: ReadonlyMap<string, string>;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FAMILY_SUFFIXES = ['_bucket', '_sum', '_count'];

export function parsePrometheusText(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  text.split('\n').forEach((line, index) => {
    const where = `line ${index + 1}: ${JSON.stringify(line)}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const [, keyword, name, rest] = /^#\s+(HELP|TYPE)\s+(\S+)\s*(.*)$/.exec(line) ?? [];
      if (!keyword) return; // a plain comment
      if (!NAME.test(name!)) throw new Error(`bad metric name in ${where}`);
      if (keyword === 'TYPE') {
        if (!TYPES.has(rest!)) throw new Error(`unknown type in ${where}`);
        if (types.has(name!)) throw new Error(`second TYPE for ${name} in ${where}`);
        types.set(name!, rest!);
      }
      return;
    }
    samples.push(parseSample(line, where));
  });
  for (const { name } of samples) {
    const family = types.has(name) ? name : FAMILY_SUFFIXES.map((suffix) => (name.endsWith(suffix) ? name.slice(0, -suffix.length) : '')).find((f) => types.has(f));
    if (!family) throw new Error(`sample ${name} has no TYPE line`);
  }
  return { samples, types };
}

function parseSample(line: string, where: string): Sample {
  const nameMatch = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
  if (!nameMatch) throw new Error(`no metric name in ${where}`);
  const name = nameMatch[0];
  let rest = line.slice(name.length);
  const labels: Record<string, string> = {};
  if (rest.startsWith('{')) {
    let i = 1;
    for (;;) {
      if (rest[i] === '}') break;
      const eq = rest.indexOf('=', i);
      const labelName = rest.slice(i, eq);
      if (eq < 0 || !LABEL_NAME.test(labelName) || rest[eq + 1] !== '"') throw new Error(`bad label in ${where}`);
      let value = '';
      let j = eq + 2;
      for (;;) {
        const c = rest[j];
        if (c === undefined) throw new Error(`unterminated label value in ${where}`);
        if (c === '"') break;
        if (c === '\\') {
          const escaped = rest[j + 1];
          if (escaped === 'n') value += '\n';
          else if (escaped === '\\' || escaped === '"') value += escaped;
          else throw new Error(`bad escape in ${where}`);
          j += 2;
        } else {
          value += c;
          j += 1;
        }
      }
      if (labelName in labels) throw new Error(`label ${labelName} twice in ${where}`);
      labels[labelName] = value;
      i = j + 1;
      if (rest[i] === ',') i += 1;
      else if (rest[i] !== '}') throw new Error(`expected , or } in ${where}`);
    }
    rest = rest.slice(i + 1);
  }
  const [, valueText] = /^ +(\S+)(?: +-?\d+)?$/.exec(rest) ?? [];
  if (valueText === undefined) throw new Error(`no value in ${where}`);
  // Prometheus reads values with Go's ParseFloat, which takes NaN and Inf in any case (prom-client writes "Nan").
  const special = valueText.toLowerCase();
  const value = special === '+inf' ? Infinity : special === '-inf' ? -Infinity : special === 'nan' ? NaN : Number(valueText);
  if (Number.isNaN(value) && special !== 'nan') throw new Error(`bad value in ${where}`);
  return { name, labels, value };
}

/** The value of the one sample with exactly these labels (0 when there is none yet). */
export function valueOf(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const found = exposition.samples.filter((s) => s.name === name && JSON.stringify(Object.entries(s.labels).sort()) === wanted);
  if (found.length > 1) throw new Error(`${found.length} samples of ${name} with ${wanted}`);
  return found[0]?.value ?? 0;
}
