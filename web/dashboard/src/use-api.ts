/**
 * Loading data for a view: one hook that knows loading, data and error, cancels what a newer
 * question replaced, and remembers answers for a short while so switching tabs back and forth
 * does not spend the property's hourly query allowance.
 */
import { useCallback, useEffect, useState } from "react";

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

const TTL_MS = 20_000;
const memo = new Map<string, { at: number; value: unknown }>();

/** Forgets remembered answers (after a write such as adding a goal). */
export function forgetAnswers(prefix = ""): void {
  for (const key of memo.keys()) if (key.startsWith(prefix)) memo.delete(key);
}

/**
 * Runs `load` whenever `key` changes (null: nothing to load). The key must describe the whole
 * question — it is also what answers are remembered under.
 */
export function useApi<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ key: string | null; data?: T; error?: unknown; loading: boolean }>({
    key: null,
    loading: key !== null,
  });
  const [generation, setGeneration] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `load` is a fresh closure each render; `key` describes it.
  useEffect(() => {
    if (key === null) {
      setState({ key, loading: false });
      return;
    }
    const hit = memo.get(key);
    if (hit && Date.now() - hit.at < TTL_MS) {
      setState({ key, data: hit.value as T, loading: false });
      return;
    }
    const controller = new AbortController();
    setState((s) => ({ key, data: s.key === key ? s.data : undefined, loading: true }));
    load(controller.signal).then(
      (data) => {
        if (controller.signal.aborted) return;
        memo.set(key, { at: Date.now(), value: data });
        setState({ key, data, loading: false });
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        setState({ key, error, loading: false });
      },
    );
    return () => controller.abort();
  }, [key, generation]);
  const reload = useCallback(() => {
    if (key) memo.delete(key);
    setGeneration((g) => g + 1);
  }, [key]);
  const fresh = state.key === key;
  return {
    data: fresh ? state.data : undefined,
    error: fresh ? state.error : undefined,
    loading: !fresh || state.loading,
    reload,
  };
}
