/**
 * The daily salt, fetched from the RegistryDO once per isolate per day: it keys cookieless visitor
 * ids, and the hashes by which abuse limits know an address (platform/throttle.ts) without keeping it.
 */
import { saltDay } from "../core/enrich/privacy.ts";
import { registryStub } from "./properties.ts";

let cached: { day: string; salt: Promise<string> } | undefined;

/** Today's salt (UTC), the same in every isolate; deleted by the registry after 48 h. */
export function dailySalt(env: Env, now = Date.now()): Promise<string> {
  const day = saltDay(now);
  if (cached?.day !== day) {
    const salt = registryStub(env).salt(day);
    cached = { day, salt };
    salt.catch(() => {
      if (cached?.salt === salt) cached = undefined;
    });
  }
  return cached.salt;
}
