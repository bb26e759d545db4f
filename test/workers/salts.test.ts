/**
 * Cookieless salts are deleted on schedule: the RegistryDO's alarm removes each day's salt 48 h after
 * the day starts, whether or not traffic asks for a new one, and re-arms itself while salts remain.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { saltDay } from "../../core/enrich/privacy.ts";
import { saltExpiry } from "../../durable-objects/registry-do.ts";

const DAY = 86_400_000;
const registry = env.REGISTRY_DO.getByName("global");
const today = saltDay(Date.now());
const daysAgo = (n: number) => saltDay(Date.now() - n * DAY);

const stored = () =>
  runInDurableObject(registry, async (_instance, state) => ({
    days: [...(await state.storage.list({ prefix: "salt:" })).keys()].map((k) => k.slice(5)),
    alarm: await state.storage.getAlarm(),
  }));

describe("daily salts", () => {
  it("keeps one salt per day and arms the alarm for the earliest salt's expiry", async () => {
    const first = await registry.salt(today);
    expect(await registry.salt(today)).toBe(first);
    expect(first).toMatch(/^[0-9a-f]{64}$/);
    expect(await stored()).toEqual({ days: [today], alarm: saltExpiry(today) });
    await registry.salt(daysAgo(1));
    expect(await stored()).toEqual({ days: [daysAgo(1), today], alarm: saltExpiry(daysAgo(1)) });
    expect(saltExpiry(daysAgo(1))).toBeGreaterThan(Date.now());
  });

  it("deletes salts older than 48 h on the alarm, not when traffic asks for a salt, and re-arms", async () => {
    // Salts made two and three days ago, when traffic last came on those days.
    await runInDurableObject(registry, async (_instance, state) => {
      await state.storage.put({ [`salt:${daysAgo(3)}`]: "a".repeat(64), [`salt:${daysAgo(2)}`]: "b".repeat(64) });
    });
    const current = await registry.salt(today);
    await registry.salt(daysAgo(1));
    expect((await stored()).days).toEqual([daysAgo(3), daysAgo(2), daysAgo(1), today]);

    expect(await runDurableObjectAlarm(registry)).toBe(true);
    expect(await stored()).toEqual({ days: [daysAgo(1), today], alarm: saltExpiry(daysAgo(1)) });
    expect(await registry.salt(today)).toBe(current);
  });

  it("arms the alarm for salts stored before the alarm existed when the next salt is made", async () => {
    // Yesterday's salt with no alarm (as stored before alarms); today's salt is then made by traffic.
    await runInDurableObject(registry, async (_instance, state) => {
      await state.storage.deleteAlarm();
      await state.storage.delete(`salt:${today}`);
    });
    await registry.salt(today);
    expect(await stored()).toEqual({ days: [daysAgo(1), today], alarm: saltExpiry(daysAgo(1)) });
  });

  it("leaves no alarm once every salt is gone", async () => {
    await runInDurableObject(registry, async (_instance, state) => {
      await state.storage.delete([`salt:${today}`, `salt:${daysAgo(1)}`]);
      await state.storage.put(`salt:${daysAgo(4)}`, "c".repeat(64));
    });
    expect(await runDurableObjectAlarm(registry)).toBe(true);
    expect(await stored()).toEqual({ days: [], alarm: null });
  });
});
