/**
 * Annotations: the team's notes on a date ("launched pricing page"), from `GET …/annotations`.
 * Every time chart marks them; under the overview's chart they are listed (the accessible form of the
 * markers), and those who may write add and delete them there. A change bumps one version that
 * every chart's question includes, so all of them ask again.
 */
import { type FormEvent, useMemo, useState, useSyncExternalStore } from "react";
import type { Annotation } from "../../../../core/team/schemas.ts";
import { api } from "../api.ts";
import { useDash } from "../context.ts";
import { ActionError, useAction, useCapabilities, usePropertyPath } from "../modules/settings/shared.tsx";
import "../styles/team.css";
import { useApi } from "../use-api.ts";

export type { Annotation };

export interface DateSpan {
  from: string;
  to: string;
}

let version = 0;
const listeners = new Set<() => void>();
function changed(): void {
  version += 1;
  for (const l of listeners) l();
}
const subscribe = (l: () => void) => {
  listeners.add(l);
  return () => listeners.delete(l);
};

const day = (seconds: number) => new Date(seconds * 1000).toISOString().slice(0, 10);

/** A date's position on a wall-clock chart's x axis (its midnight, read as UTC like the buckets). */
export const dateSeconds = (date: string) => Date.parse(`${date}T00:00:00Z`) / 1000;

/** The dates a chart's buckets cover: its last bucket runs one step past its start. */
export function chartSpan(x: readonly number[]): DateSpan | null {
  const first = x[0];
  const last = x.at(-1);
  if (first === undefined || last === undefined) return null;
  const step = x.length > 1 ? last - (x.at(-2) ?? last) : 86_400;
  return { from: day(first), to: day(last + Math.max(step, 1) - 1) };
}

/** The property's annotations in a span (null: none asked). */
export function useAnnotations(span: DateSpan | null): Annotation[] | undefined {
  const { token } = useDash();
  const path = usePropertyPath()("annotations");
  const v = useSyncExternalStore(subscribe, () => version);
  const url = span ? `${path}?${new URLSearchParams({ from: span.from, to: span.to })}` : null;
  const loaded = useApi(url ? `annotations:${url}:${v}` : null, (signal) =>
    api<{ annotations: Annotation[] }>(token, url ?? "", { signal }).catch(() => ({ annotations: [] })),
  );
  return loaded.data?.annotations;
}

/** The notes in a chart's span, listed by date, with adding and deleting for those who may write. */
export function AnnotationList({ span }: { span: DateSpan | null }) {
  const { token } = useDash();
  const path = usePropertyPath();
  const notes = useAnnotations(span);
  const can = useCapabilities();
  const action = useAction();
  const today = new Date().toISOString().slice(0, 10);
  const [date, setDate] = useState(() => (span && span.to < today ? span.to : today));
  const [text, setText] = useState("");
  const sorted = useMemo(() => [...(notes ?? [])].sort((a, b) => a.date.localeCompare(b.date)), [notes]);
  const write = can.has("write");

  const add = async (e: FormEvent) => {
    e.preventDefault();
    const body = { date, text: text.trim() };
    if (await action.run(() => api(token, path("annotations"), { body }))) {
      setText("");
      changed();
    }
  };
  const remove = (a: Annotation) =>
    action
      .run(() => api(token, path(`annotations/${encodeURIComponent(a.id)}`), { method: "DELETE" }))
      .then((ok) => ok && changed());

  return (
    <section className="annotations" aria-label="Annotations" data-testid="annotations">
      {sorted.length > 0 && (
        <ul>
          {sorted.map((a) => (
            <li key={a.id} data-testid="annotation">
              <time dateTime={a.date}>{a.date}</time>
              <span>{a.text}</span>
              <span className="muted">{a.created_by}</span>
              {write && (
                <button
                  type="button"
                  className="link danger"
                  aria-label={`Delete the note of ${a.date}: ${a.text}`}
                  onClick={() => void remove(a)}
                >
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {write && (
        <details>
          <summary>Add a note</summary>
          <form className="inline-form" onSubmit={add} aria-label="Add a note to the charts">
            <label>
              Date
              <input type="date" value={date} onChange={(e) => setDate(e.target.value)} required />
            </label>
            <label>
              Note
              <input
                value={text}
                onChange={(e) => setText(e.target.value)}
                maxLength={280}
                placeholder="Launched the pricing page"
                required
              />
            </label>
            <button type="submit" disabled={action.busy}>
              Add note
            </button>
          </form>
        </details>
      )}
      <ActionError error={action.error} />
    </section>
  );
}
