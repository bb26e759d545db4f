/** Saved custom reports: kept in this browser's localStorage, one list per property. */
import { useState } from "react";
import type { ReportDraft } from "./report.ts";

export interface SavedReport {
  name: string;
  report: ReportDraft;
}

const savedKey = (property: string) => `tally.reports.${property}`;

function loadSaved(property: string): SavedReport[] {
  try {
    return JSON.parse(localStorage.getItem(savedKey(property)) ?? "[]");
  } catch {
    return [];
  }
}

/** The property's saved reports, with saving (a name saved again replaces its report) and deleting. */
export function useSavedReports(property: string) {
  const [saved, setSaved] = useState(() => loadSaved(property));
  const store = (next: SavedReport[]) => {
    setSaved(next);
    try {
      localStorage.setItem(savedKey(property), JSON.stringify(next));
    } catch {
      // Kept for this page only.
    }
  };
  return {
    saved,
    save: (name: string, report: ReportDraft) => store([...saved.filter((s) => s.name !== name), { name, report }]),
    remove: (name: string) => store(saved.filter((s) => s.name !== name)),
  };
}
