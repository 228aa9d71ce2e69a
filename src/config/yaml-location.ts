import { isMap, isScalar, type Document, type LineCounter, type Node } from 'yaml';

/** A path inside a parsed document, as zod reports it: map keys and sequence indexes. */
export type DocumentPath = readonly (string | number)[];

/** `['integrations', 1, 'filters', 'mode']` → `integrations[1].filters.mode`, the form error messages use. */
export function formatDocumentPath(path: DocumentPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

/**
 * The 1-based line and column a path points at. A path to a missing key points at the closest existing
 * ancestor (the map the key should be in), so "required" problems still name a line near the fix.
 * With `key`, points at that key of the map at `path` (used for unknown keys, whose value is irrelevant).
 */
export function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: DocumentPath,
  key?: string,
): { line: number; column: number } | undefined {
  let parts = [...path];
  for (;;) {
    const node = parts.length === 0 ? doc.contents : doc.getIn(parts, true);
    if (isNodeWithRange(node)) {
      const offset = key === undefined ? node.range[0] : (keyOffset(node, key) ?? node.range[0]);
      const pos = lineCounter.linePos(offset);
      return { line: pos.line, column: pos.col };
    }
    if (parts.length === 0) return undefined;
    parts = parts.slice(0, -1);
    key = undefined;
  }
}

function keyOffset(node: Node, key: string): number | undefined {
  if (!isMap(node)) return undefined;
  for (const pair of node.items) {
    if (isScalar(pair.key) && pair.key.value === key && pair.key.range) return pair.key.range[0];
  }
  return undefined;
}

function isNodeWithRange(value: unknown): value is Node & { range: [number, number, number] } {
  return (
    typeof value === 'object' &&
    value !== null &&
    'range' in value &&
    Array.isArray((value as { range?: unknown }).range)
  );
}
