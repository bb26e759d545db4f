/**
 * Saved reports and segments, kept on the server for the whole team (`…/saved?kind=`), with who
 * owns each and who changed it last. A change bumps one version every list's question includes, so
 * the filter bar's segments and the custom reports' list agree. Reports saved by an older dashboard
 * in this browser's localStorage can be moved to the team once.
 */
import { useCallback, useSyncExternalStore } from "react";
import type { SavedItem } from "../../../../../core/team/schemas.ts";
import { api } from "../../api.ts";
import { useDash } from "../../context.ts";
import { type Loaded, useApi } from "../../use-api.ts";
import type { ReportDraft } from "./report.ts";

export type { SavedItem };
export type SavedKind = SavedItem["kind"];

let version = 0;
const listeners = new Set<() => void>();
const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => listeners.delete(l);
};
function changed(): void {
  version += 1;
  for (const l of listeners) l();
}

export interface SavedItems {
  loaded: Loaded<{ items: SavedItem[] }>;
  create: (name: string, definition: Record<string, unknown>) => Promise<SavedItem>;
  update: (item: SavedItem, definition: Record<string, unknown>) => Promise<SavedItem>;
  remove: (item: SavedItem) => Promise<void>;
}

/** The property's saved items of one kind, with creating, replacing a definition, and deleting. */
export function useSavedItems(kind: SavedKind): SavedItems {
  const { property, token } = useDash();
  const base = `/api/v1/properties/${encodeURIComponent(property)}/saved`;
  const v = useSyncExternalStore(subscribe, () => version);
  const loaded = useApi(`saved:${base}:${kind}:${v}`, (signal) =>
    api<{ items: SavedItem[] }>(token, `${base}?kind=${kind}`, { signal }),
  );
  const create = useCallback(
    async (name: string, definition: Record<string, unknown>) => {
      const { item } = await api<{ item: SavedItem }>(token, base, { body: { kind, name, definition } });
      changed();
      return item;
    },
    [token, base, kind],
  );
  const update = useCallback(
    async (item: SavedItem, definition: Record<string, unknown>) => {
      const answer = await api<{ item: SavedItem }>(token, `${base}/${encodeURIComponent(item.id)}`, {
        method: "PUT",
        body: { kind: item.kind, name: item.name, definition },
      });
      changed();
      return answer.item;
    },
    [token, base],
  );
  const remove = useCallback(
    async (item: SavedItem) => {
      await api(token, `${base}/${encodeURIComponent(item.id)}`, { method: "DELETE" });
      changed();
    },
    [token, base],
  );
  return { loaded, create, update, remove };
}

// ─── Reports an older dashboard kept in this browser ──────────────────────────────────────────────

interface LocalReport {
  name: string;
  report: ReportDraft;
}

const localKey = (property: string) => `tally.reports.${property}`;

export function localReports(property: string): LocalReport[] {
  try {
    const list: unknown = JSON.parse(localStorage.getItem(localKey(property)) ?? "[]");
    return Array.isArray(list) ? (list as LocalReport[]).filter((r) => r && typeof r.name === "string") : [];
  } catch {
    return [];
  }
}

/** Saves each local report for the team, then forgets the ones moved (a failure keeps the rest here). */
export async function moveLocalReports(property: string, create: SavedItems["create"]): Promise<number> {
  const left = [...localReports(property)];
  let moved = 0;
  try {
    while (left.length > 0) {
      const next = left[0] as LocalReport;
      await create(next.name, { ...next.report });
      left.shift();
      moved += 1;
    }
  } finally {
    try {
      if (left.length) localStorage.setItem(localKey(property), JSON.stringify(left));
      else localStorage.removeItem(localKey(property));
    } catch {
      // Storage refused: the reports stay listed here and may be moved twice; the team copy wins.
    }
  }
  return moved;
}
