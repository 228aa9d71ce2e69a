import { readFileSync } from 'node:fs';

/** One shell command of a README's ```sh block, with what the README says it answers, if it says. */
export interface DocExample {
  readonly file: string;
  /** 1-based line where the command starts. */
  readonly line: number;
  /** As written, continuation lines included, without a trailing `# comment`. */
  readonly command: string;
  /** From a `# 202 {...}` line right after the command. */
  readonly expected?: { readonly status: number; readonly fields: readonly string[] };
}

/**
 * Reads shell text as bash would for quotes and comments: a `#` after whitespace outside quotes starts a
 * comment to the end of its line (an apostrophe in a comment must not open a quote). Returns the text
 * without comments and whether a quote is still open at the end (the command goes on on the next line).
 */
function scan(text: string): { code: string; openQuote: boolean } {
  let quote: string | undefined;
  let code = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
    } else if (ch === '#' && (i === 0 || /\s/.test(text[i - 1]!))) {
      const eol = text.indexOf('\n', i);
      i = (eol < 0 ? text.length : eol) - 1;
      continue;
    }
    code += ch;
  }
  return { code: code.split('\n').map((l) => l.trimEnd()).join('\n'), openQuote: quote !== undefined };
}

/** The JSON keys (`"name":`) of the first balanced `{...}` in a documented answer. */
function documentedFields(text: string): string[] {
  const start = text.indexOf('{');
  if (start < 0) return [];
  let depth = 0;
  let end = start;
  for (; end < text.length; end++) {
    if (text[end] === '{') depth++;
    if (text[end] === '}' && --depth === 0) break;
  }
  return [...new Set([...text.slice(start, end + 1).matchAll(/"([a-z_]+)":/g)].map((m) => m[1]!))];
}

/** Every command of every ```sh block of `file`, in order. */
export function docExamples(file: string): DocExample[] {
  const lines = readFileSync(file, 'utf8').split('\n');
  const examples: DocExample[] = [];
  let inBlock = false;
  let pending: { line: number; text: string } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    if (!inBlock) {
      inBlock = raw.trim() === '```sh';
      continue;
    }
    if (raw.trim() === '```') {
      inBlock = false;
      continue;
    }
    if (pending) {
      pending.text += `\n${raw}`;
    } else {
      const answer = /^#\s*(\d{3})\b(.*)$/.exec(raw.trim());
      if (answer && examples.length > 0) {
        const last = examples[examples.length - 1]!;
        examples[examples.length - 1] = { ...last, expected: { status: Number(answer[1]), fields: documentedFields(answer[2]!) } };
        continue;
      }
      if (raw.trim() === '' || raw.trim().startsWith('#')) continue;
      pending = { line: i + 1, text: raw };
    }
    const { code, openQuote } = scan(pending.text);
    if (openQuote || /\\$/.test(code)) continue;
    examples.push({ file, line: pending.line, command: code.trim() });
    pending = undefined;
  }
  return examples;
}
