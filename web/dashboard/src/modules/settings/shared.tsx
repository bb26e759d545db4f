/**
 * What the Settings sections share: the property's API paths, the caller's capabilities, a secret or
 * URL shown once with a Copy button, one error line per action, and times in words.
 */
import { type ReactNode, useCallback, useState } from "react";
import type { Capability } from "../../../../../core/team/roles.ts";
import { explain } from "../../api.ts";
import { useDash } from "../../context.ts";

/** `/api/v1/properties/<id>/<rest>` for the current property. */
export function usePropertyPath(): (rest?: string) => string {
  const { property } = useDash();
  return useCallback(
    (rest = "") => `/api/v1/properties/${encodeURIComponent(property)}${rest ? `/${rest}` : ""}`,
    [property],
  );
}

/** What the caller may do here (`GET …/access`, kept in the shell's context). */
export function useCapabilities(): ReadonlySet<Capability> {
  return useDash().capabilities;
}

/** A secret or a URL answered once: shown now, with Copy, and never again. */
export function ShownOnce({ label, value, testId }: { label: ReactNode; value: string; testId: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <div className="shown-once" role="status" data-testid={testId}>
      <span>{label}</span>
      <code data-testid={`${testId}-value`}>{value}</code>
      <button
        type="button"
        onClick={() =>
          void navigator.clipboard?.writeText(value).then(
            () => setCopied(true),
            () => setCopied(false),
          )
        }
      >
        {copied ? "Copied" : "Copy"}
      </button>
    </div>
  );
}

/** Runs one write at a time and keeps its error in words; `run` answers whether it succeeded. */
export function useAction(): {
  busy: boolean;
  error: string | undefined;
  run: (work: () => Promise<unknown>) => Promise<boolean>;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const run = useCallback(async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await work();
      return true;
    } catch (e) {
      const { title, detail } = explain(e);
      setError(detail ? `${title} ${detail}` : title);
      return false;
    } finally {
      setBusy(false);
    }
  }, []);
  return { busy, error, run };
}

export function ActionError({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p className="field-error" role="alert">
      {error}
    </p>
  );
}

/** The API's instants are milliseconds; an older answer in seconds still reads right. */
const millis = (t: number) => (t < 1e12 ? t * 1000 : t);

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto", style: "short" });
const STEPS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["second", 60],
  ["minute", 60],
  ["hour", 24],
  ["day", 30],
  ["month", 12],
  ["year", Number.POSITIVE_INFINITY],
];

/** "2 hr. ago", "in 3 days". */
export function ago(t: number, now = Date.now()): string {
  let value = (millis(t) - now) / 1000;
  for (const [unit, size] of STEPS) {
    if (Math.abs(value) < size) return relative.format(Math.round(value), unit);
    value /= size;
  }
  return relative.format(Math.round(value), "year");
}

/** A full date and time, for a title or a table cell. */
export function when(t: number): string {
  return new Date(millis(t)).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short" });
}

export const iso = (t: number) => new Date(millis(t)).toISOString();

export function TimeAgo({ at }: { at: number }) {
  return (
    <time dateTime={iso(at)} title={when(at)}>
      {ago(at)}
    </time>
  );
}
