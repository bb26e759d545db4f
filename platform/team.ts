/** Stubs of the team's actors (durable-objects/team-do.ts, account-do.ts): one per property, one per person. */

/** The property's TeamDO. */
export function teamStub(env: Env, propertyId: string) {
  return env.TEAM_DO.get(env.TEAM_DO.idFromName(propertyId));
}

/** The id of a person's AccountDO (64 hex), which the session cookie carries. */
export function accountId(env: Env, email: string): string {
  return env.ACCOUNT_DO.idFromName(email).toString();
}

/** A person's AccountDO by (normalised) email. */
export function accountStub(env: Env, email: string) {
  return env.ACCOUNT_DO.get(env.ACCOUNT_DO.idFromName(email));
}

/** A person's AccountDO by the id a session cookie carries; undefined when that is not an id of ours. */
export function accountById(env: Env, id: string) {
  try {
    return env.ACCOUNT_DO.get(env.ACCOUNT_DO.idFromString(id));
  } catch {
    return undefined;
  }
}
