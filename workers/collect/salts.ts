/** The daily salt of cookieless visitor ids, fetched from the RegistryDO once per isolate per day. */
import { saltDay } from "../../core/enrich/privacy.ts";
import { registryStub } from "../../platform/properties.ts";

let cached: { day: string; salt: Promise<string> } | undefined;

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
