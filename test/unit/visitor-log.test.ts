/**
 * core/session/visitor-log.ts: a session actor's visitors persisted as a few log rows. Whatever
 * sequence of commits and snapshots wrote the log, reading it back gives the visitors as they were
 * after the last commit; rows of older generations never leak back in.
 */
import { describe, expect, it } from "vitest";
import { EMPTY_VISITOR } from "../../core/session/session.ts";
import {
  deltaRow,
  type LogHead,
  type LogRow,
  MAX_CHUNK_CHARS,
  MAX_DELTAS,
  needsSnapshot,
  readLog,
  type StoredVisitor,
  snapshotRows,
} from "../../core/session/visitor-log.ts";
import { prng } from "../../dev/prng.ts";

const visitor = (n: number, last = 1_000 + n): StoredVisitor => ({
  state: { ...EMPTY_VISITOR, previous_session_id: `s${n}`, recent: [n, n + 1] },
  last_event_at: last,
});

/** A log as SQLite keeps it: one row per slot, the latest write winning. */
class Slots {
  readonly rows = new Map<string, LogRow>();
  head: LogHead = { gen: 0, seq: 0, deltas: 0 };
  written = 0;
  commit(all: ReadonlyMap<string, StoredVisitor>, changes: Map<string, StoredVisitor | null>): void {
    const next = needsSnapshot(this.head) ? snapshotRows(all, this.head) : deltaRow(this.head, changes);
    const rows = "rows" in next ? next.rows : [next.row];
    for (const row of rows) this.rows.set(row.slot, row);
    this.written += rows.length;
    this.head = next.head;
  }
}

describe("the visitor log", () => {
  it("reads back what every commit wrote, across generations, with forgotten visitors gone", () => {
    const rnd = prng(7);
    const truth = new Map<string, StoredVisitor>();
    const slots = new Slots();
    for (let commit = 0; commit < 3 * MAX_DELTAS + 5; commit++) {
      const changes = new Map<string, StoredVisitor | null>();
      for (let k = 0; k < 5; k++) {
        const id = `c${Math.floor(rnd() * 300)}`;
        if (rnd() < 0.1) {
          if (truth.delete(id)) changes.set(id, null);
        } else {
          const v = visitor(Math.floor(rnd() * 1e6), commit);
          truth.set(id, v);
          changes.set(id, v);
        }
      }
      slots.commit(truth, changes);
      const back = readLog([...slots.rows.values()]);
      expect(back.visitors).toEqual(truth);
      expect(back.head).toEqual(slots.head);
    }
    // One row per commit, plus a snapshot's chunk(s) once a generation is full.
    expect(slots.written).toBe(3 * MAX_DELTAS + 5);
    // Slots are reused: at most MAX_DELTAS delta rows and the snapshot's chunks, whatever the commit count.
    expect(slots.rows.size).toBeLessThanOrEqual(MAX_DELTAS + 1);
  });

  it("starts empty, and an empty snapshot still marks its generation", () => {
    expect(readLog([])).toEqual({ visitors: new Map(), head: { gen: 0, seq: 0, deltas: 0 } });
    const empty = snapshotRows(new Map(), { gen: 3, seq: 9, deltas: MAX_DELTAS });
    expect(empty.rows).toHaveLength(1);
    expect(readLog(empty.rows)).toEqual({ visitors: new Map(), head: { gen: 4, seq: 10, deltas: 0 } });
  });

  it("ignores deltas of an older generation left in slots the new one has not reused", () => {
    const old = deltaRow({ gen: 1, seq: 5, deltas: 3 }, [["gone", visitor(1)]]).row;
    const snapshot = snapshotRows(new Map([["kept", visitor(2)]]), { gen: 1, seq: 6, deltas: MAX_DELTAS }).rows;
    expect([...readLog([old, ...snapshot]).visitors.keys()]).toEqual(["kept"]);
  });

  it("splits a large snapshot into chunks under the row limit", () => {
    const many = new Map(Array.from({ length: 30_000 }, (_, i) => [`client-${i}`, visitor(i)] as const));
    const { rows } = snapshotRows(many, { gen: 0, seq: 0, deltas: MAX_DELTAS });
    expect(rows.length).toBeGreaterThan(1);
    for (const row of rows) expect(row.body.length).toBeLessThanOrEqual(MAX_CHUNK_CHARS);
    expect(readLog(rows).visitors).toEqual(many);
  });
});
