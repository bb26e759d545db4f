/**
 * Behavior: pages (all, with time on page and scroll depth; entry; exit, with exit rate), custom
 * events, and the values of an event's properties.
 */
import { type FormEvent, useState } from "react";
import { Breakdown } from "../components/breakdown.tsx";
import { Card, TabbedCard } from "../components/card.tsx";
import { Async } from "../components/status.tsx";
import { useDash, useQuery } from "../context.ts";
import { filteredDimensions } from "../url-state.ts";

const PROP_KEY = /^[A-Za-z0-9_.:$-]{1,64}$/;
const KNOWN_KEYS = "tally.propKeys";

function rememberedKeys(): string[] {
  try {
    return JSON.parse(localStorage.getItem(KNOWN_KEYS) ?? "[]") as string[];
  } catch {
    return [];
  }
}

function remember(key: string): void {
  try {
    localStorage.setItem(KNOWN_KEYS, JSON.stringify([key, ...rememberedKeys().filter((k) => k !== key)].slice(0, 20)));
  } catch {
    // Only suggestions are lost.
  }
}

/** Custom event names in the period (pageviews aside). */
function useEventNames() {
  return useQuery({
    metrics: ["events"],
    dimensions: ["event:name"],
    filters: [["is_not", "event:name", ["pageview", "engagement"]]],
    limit: 100,
    comparable: false,
  });
}

function EventProperties() {
  const { state, navigate } = useDash();
  const names = useEventNames();
  const event = state.params.get("event") ?? "";
  const prop = state.params.get("prop") ?? "";
  const [draft, setDraft] = useState(prop);
  const valid = PROP_KEY.test(draft);
  const show = (e: FormEvent) => {
    e.preventDefault();
    if (!valid) return;
    remember(draft);
    navigate({ prop: draft }, { replace: true });
  };
  const chosen = event || names.data?.results[0]?.dimensions[0] || "";
  return (
    <>
      <form className="inline-form" onSubmit={show}>
        <label>
          Event
          <select value={chosen} onChange={(e) => navigate({ event: e.target.value }, { replace: true })}>
            {(names.data?.results ?? []).map((r) => (
              <option key={r.dimensions[0]}>{r.dimensions[0]}</option>
            ))}
            {event && !names.data?.results.some((r) => r.dimensions[0] === event) && <option>{event}</option>}
          </select>
        </label>
        <label>
          Property key
          <input
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            list="prop-keys"
            placeholder="e.g. plan"
            aria-invalid={draft !== "" && !valid}
          />
          <datalist id="prop-keys">
            {rememberedKeys().map((k) => (
              <option key={k} value={k} />
            ))}
          </datalist>
        </label>
        <button type="submit" disabled={!valid || !chosen}>
          Show values
        </button>
      </form>
      {prop && chosen ? (
        <Breakdown
          key={`${chosen}:${prop}`}
          dimension={`event:props:${prop}`}
          metrics={["visitors", "events"]}
          filters={[["is", "event:name", [chosen]]]}
          csvName={`event-${chosen}-${prop}`}
          empty={`No "${chosen}" event carried a property "${prop}" in this period.`}
        />
      ) : (
        <p className="muted">
          Events carry their properties in <code>custom_dimensions</code>. Pick an event and type a property key to see
          its values.
        </p>
      )}
    </>
  );
}

export function Behavior() {
  const { state } = useDash();
  const names = useEventNames();
  // Exit rate compares visits with all views of their exit page, so the API refuses it under an event filter.
  const exitRate = !filteredDimensions(state.filters).some((d) => d.startsWith("event:"));
  return (
    <div className="grid">
      <TabbedCard
        title="Pages"
        wide
        testId="pages"
        tabs={[
          {
            id: "pages",
            label: "All pages",
            render: () => (
              <Breakdown
                dimension="event:page"
                metrics={["visitors", "pageviews", "time_on_page", "scroll_depth"]}
                csvName="pages"
              />
            ),
          },
          {
            id: "entry",
            label: "Entry pages",
            render: () => (
              <Breakdown
                dimension="visit:entry_page"
                metrics={["visitors", "visits", "bounce_rate", "avg_session_duration"]}
                csvName="entry-pages"
              />
            ),
          },
          {
            id: "exit",
            label: "Exit pages",
            render: () => (
              <Breakdown
                dimension="visit:exit_page"
                metrics={exitRate ? ["visitors", "visits", "exit_rate"] : ["visitors", "visits"]}
                csvName="exit-pages"
              />
            ),
          },
        ]}
      />
      <Card title="Custom events" testId="events">
        <Breakdown
          dimension="event:name"
          metrics={["visitors", "events"]}
          filters={[["is_not", "event:name", ["pageview", "engagement"]]]}
          csvName="events"
          empty="No custom events in this period. Send one with event_type set to its name."
        />
      </Card>
      <Card title="Event properties" testId="event-props">
        <Async
          loaded={names}
          isEmpty={(d) => d.results.length === 0}
          empty="No custom events in this period, so no properties."
        >
          {() => <EventProperties />}
        </Async>
      </Card>
    </div>
  );
}
