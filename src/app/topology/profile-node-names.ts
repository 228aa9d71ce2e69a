/**
 * Names of the stores and child nodes the profile sub-topology's processors share (`profile-merge` and
 * `profile-lifecycle` run in the same task on the same stores). Kept apart from both processors so
 * neither imports the other.
 */
export const PROFILES_STORE = 'profiles';
export const ERASURES_STORE = 'erasures';

export const IDENTITY_REPARTITION = 'identity-changes';
/** `Topology.addRepartition(name)` names the sink that writes the repartition topic `<name>-sink`. */
export const IDENTITY_REPARTITION_SINK = `${IDENTITY_REPARTITION}-sink`;

export const ERASURE_REPARTITION = 'erasures';
export const DSR_COMPLETION_SINK = 'dsr-completions';
