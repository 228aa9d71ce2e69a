import type { AvroSchema } from './avro-fields.ts';

/**
 * Avro requires each named type (record, enum, fixed) to be defined once per schema document and
 * referred to by full name afterwards. Our schemas are composed from shared parts (a DeviceInfo in
 * the batch and again in the profile), so this pass keeps the first definition and turns every later
 * one into a name reference. Two different definitions under one name are a bug and throw.
 */
export function dedupeNamedTypes<T extends AvroSchema>(schema: T): T {
  const seen = new Map<string, string>();
  const walk = (node: unknown, namespace: string | undefined): unknown => {
    if (Array.isArray(node)) return node.map((n) => walk(n, namespace));
    if (!node || typeof node !== 'object') return node;
    const obj = node as Record<string, unknown>;
    if ((obj.type === 'record' || obj.type === 'enum' || obj.type === 'fixed') && typeof obj.name === 'string') {
      const ns = typeof obj.namespace === 'string' ? obj.namespace : namespace;
      const fullName = obj.name.includes('.') || !ns ? obj.name : `${ns}.${obj.name}`;
      const text = JSON.stringify(obj);
      const earlier = seen.get(fullName);
      if (earlier !== undefined) {
        if (earlier !== text) throw new Error(`named type ${fullName} is defined twice, differently`);
        return fullName;
      }
      seen.set(fullName, text);
      if (obj.type !== 'record') return obj;
      const fields = (obj.fields as Record<string, unknown>[]).map((f) => ({ ...f, type: walk(f.type, ns) }));
      return { ...obj, fields };
    }
    if (obj.type === 'array') return { ...obj, items: walk(obj.items, namespace) };
    if (obj.type === 'map') return { ...obj, values: walk(obj.values, namespace) };
    return obj;
  };
  return walk(schema, undefined) as T;
}
