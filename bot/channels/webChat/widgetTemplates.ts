/**
 * Puts start-up values (labels, settings) into the widget's static files, escaped for where they
 * go. Labels are edited by clinicians, so nothing from them may ever become markup or script.
 */

/** `{{name}}` in an HTML file; names are letters, digits and dots. */
const HTML_SLOT = /\{\{([A-Za-z0-9.]+)\}\}/g;

/** In a script file: `/*@server-config*\/ null`, which is valid JavaScript before it is filled. */
const SCRIPT_SLOT = '/*@server-config*/ null';

// Braces too, so a label can never turn into a slot of the second fill.
const HTML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '{': '&#123;', '}': '&#125;' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"'{}]/g, (c) => HTML_ESCAPES[c] as string);
}

/**
 * Fills every `{{name}}` with its escaped value (safe in text and in quoted attributes); a list
 * becomes one paragraph per item. Slots listed in `later` are left for a second fill (the
 * per-response nonce). An unknown slot is a mistake in our own files and stops start-up.
 */
export function fillHtml(
  template: string,
  values: Readonly<Record<string, string | readonly string[]>>,
  file: string,
  later: readonly string[] = [],
): string {
  return template.replace(HTML_SLOT, (slot, name: string) => {
    const value = values[name];
    if (typeof value === 'string') return escapeHtml(value);
    if (value !== undefined) return value.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`).join('\n');
    if (later.includes(name)) return slot;
    throw new Error(`${file}: no value for {{${name}}}`);
  });
}

/**
 * Replaces the one config slot of a script with `config` as JSON. `<` and the line separators
 * are escaped so the text stays one inert string literal wherever the script ends up.
 */
export function fillScript(script: string, config: unknown, file: string): string {
  const at = script.indexOf(SCRIPT_SLOT);
  if (at < 0 || script.indexOf(SCRIPT_SLOT, at + 1) >= 0) throw new Error(`${file}: needs exactly one ${SCRIPT_SLOT}`);
  const json = JSON.stringify(config).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return script.slice(0, at) + json + script.slice(at + SCRIPT_SLOT.length);
}
