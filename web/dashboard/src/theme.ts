/** Light and dark themes: the choice is remembered per browser (not in the URL: a shared link should not force it). */
import { useSyncExternalStore } from "react";

export type Theme = "light" | "dark";
const listeners = new Set<() => void>();

export function currentTheme(): Theme {
  return document.documentElement.dataset.theme === "dark" ? "dark" : "light";
}

export function setTheme(theme: Theme): void {
  document.documentElement.dataset.theme = theme;
  try {
    localStorage.setItem("tally.theme", theme);
  } catch {
    // Not remembered; still applied.
  }
  for (const l of listeners) l();
}

export function useTheme(): Theme {
  return useSyncExternalStore((l) => {
    listeners.add(l);
    return () => listeners.delete(l);
  }, currentTheme);
}
