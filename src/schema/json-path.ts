/** `.name` for identifier-like keys, `["odd key"]` otherwise, as JSONPath writes them. */
export function memberPath(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}
