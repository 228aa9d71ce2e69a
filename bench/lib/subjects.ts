/**
 * Deletes, permanently, the registry subjects whose names start with `prefix` (a run's own: the topics it
 * made register `<topic>-value`). A permanent delete needs the soft delete first (Confluent's API, which
 * Apicurio's ccompat follows). Returns how many went.
 */
export async function deleteSubjectsByPrefix(registryUrl: string, prefix: string): Promise<number> {
  const base = registryUrl.replace(/\/$/, '');
  const all = (await (await fetch(`${base}/subjects`)).json()) as string[];
  const subjects = all.filter((s) => s.startsWith(prefix));
  for (const subject of subjects) {
    const path = `${base}/subjects/${encodeURIComponent(subject)}`;
    await fetch(path, { method: 'DELETE' });
    const permanent = await fetch(`${path}?permanent=true`, { method: 'DELETE' });
    if (!permanent.ok && permanent.status !== 404) throw new Error(`deleting subject ${subject}: ${permanent.status} ${await permanent.text()}`);
  }
  return subjects.length;
}
