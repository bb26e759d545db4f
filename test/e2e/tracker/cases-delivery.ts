/**
 * The tracker in Chromium, how events travel: a burst in batches of 20, the script only under
 * its documented integrity hash, and a lost or refused batch resent with the same event_ids, stored once.
 * Cases only: tracker.test.ts runs them on the run harness.ts starts.
 */
import { expect, vi } from "vitest";
import { arrived, type Case, ch, clientIdOf, fixtures, open, settle, stack, types } from "./harness.ts";
import { type EventRow, eventsUnder } from "./support.ts";

export const deliveryCases: Record<string, Case> = {
  "07_batching": [
    "sends a burst of 25 events as 20 + 5 in two requests, every event once",
    async () => {
      const { page, collects } = await open();
      await page.goto(`${fixtures.origin}/07_batching/`);
      const clientId = await clientIdOf(page);
      await arrived("/07_batching/", (r) => expect(r.filter((e) => e.client_id === clientId)).toHaveLength(1));
      await page.click("#burst");
      const rows = await arrived("/07_batching/", (r) =>
        expect(types(r, "burst").filter((e) => e.client_id === clientId)).toHaveLength(25),
      );
      const bursts = collects.filter((body) => body.some((e) => (e as { event_type: string }).event_type === "burst"));
      expect(bursts.map((body) => body.length)).toEqual([20, 5]);
      const sentIds = bursts.flat().map((e) => (e as { event_id: string }).event_id);
      const storedIds = types(rows, "burst")
        .filter((e) => e.client_id === clientId)
        .map((e) => e.event_id);
      expect(new Set(storedIds).size).toBe(25);
      expect(storedIds.sort()).toEqual(sentIds.sort());
      expect(
        types(rows, "burst")
          .map((r) => r.custom_metrics.i ?? -1)
          .sort((a, b) => a - b),
      ).toEqual(Array.from({ length: 25 }, (_, i) => i));
    },
  ],

  "11_sri": [
    "loads from the pinned URL under the documented integrity hash, and not at all under a wrong one",
    async () => {
      const pinned = await open();
      await pinned.page.goto(`${fixtures.origin}/11_sri/`);
      const rows = await arrived("/11_sri/", (r) => expect(r).toHaveLength(1));
      expect(rows[0]).toMatchObject({ event_type: "pageview", page_path: "/11_sri/" });
      const tampered = await open();
      await tampered.page.goto(`${fixtures.origin}/11_sri/tampered.html`);
      await settle(tampered.page);
      expect(await tampered.page.evaluate(() => "tally" in window)).toBe(false);
      expect(tampered.requests).toEqual([]);
    },
  ],

  "12_retry": [
    "resends a batch whose answer was lost, or that got a 503, with the same event_ids, stored once",
    async () => {
      for (const failure of ["answer lost", "503"] as const) {
        const { context, page, collects } = await open();
        let intercepted = 0;
        await context.route(`${stack.url}/collect`, async (route) => {
          if (intercepted++ > 0) return route.continue();
          if (failure === "503") return route.fulfill({ status: 503, body: "{}" });
          // The Worker accepts the events, but the page never hears it.
          expect((await route.fetch()).status()).toBe(202);
          return route.abort("connectionreset");
        });
        await page.goto(`${fixtures.origin}/12_retry/?${failure === "503" ? "b" : "a"}`);
        await vi.waitFor(() => expect(collects, failure).toHaveLength(2), { timeout: 10_000 });
        expect(collects[1], failure).toEqual(collects[0]);
        const clientId = await clientIdOf(page);
        const mine = (rows: EventRow[]) => rows.filter((r) => r.client_id === clientId);
        await arrived("/12_retry/", (rows) => expect(mine(rows)).toHaveLength(1));
        await settle(page, 2_500);
        const rows = mine(await eventsUnder(ch, "/12_retry/"));
        expect(
          rows.map((r) => r.event_id),
          failure,
        ).toEqual([(collects[0]?.[0] as { event_id?: string } | undefined)?.event_id]);
      }
    },
  ],
};
