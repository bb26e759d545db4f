/**
 * The header's controls: property switcher, date range (presets and custom), comparison, theme; and
 * the filter bar with the team's saved segments.
 */
import { type FormEvent, useState } from "react";
import type { Filter } from "../../../../core/query/spec.ts";
import { dimensionLabel, displayValue } from "../format.ts";
import { type SavedItem, type SavedItems, useSavedItems } from "../modules/custom-reports/saved-reports.ts";
import { ActionError, useAction, useCapabilities } from "../modules/settings/shared.tsx";
import "../styles/team.css";
import { setTheme, useTheme } from "../theme.ts";
import { type Compare, navigate, RANGE_PRESETS, type ViewState } from "../url-state.ts";

export function PropertySwitcher({
  current,
  properties,
  onAdd,
}: {
  current: string;
  properties: { id: string; name: string }[];
  onAdd: () => void;
}) {
  const list = properties.some((p) => p.id === current) ? properties : [{ id: current, name: "" }, ...properties];
  return (
    <label className="control">
      <span className="visually-hidden">Property</span>
      <select
        value={current}
        data-testid="property-switcher"
        onChange={(e) => {
          if (e.target.value === "\0add") onAdd();
          // A new property keeps the range and module, not the filters (its values differ).
          else navigate({ property: e.target.value, filters: null });
        }}
      >
        {list.map((p) => (
          <option key={p.id} value={p.id}>
            {p.name && p.name !== p.id ? `${p.name} (${p.id})` : p.id}
          </option>
        ))}
        <option value={"\0add"}>Add a property with its key…</option>
      </select>
    </label>
  );
}

export function DateRangePicker({ state }: { state: ViewState }) {
  const [custom, setCustom] = useState(state.range === "custom");
  const today = new Date().toISOString().slice(0, 10);
  const [from, setFrom] = useState(state.from || today);
  const [to, setTo] = useState(state.to || today);
  const apply = (e: FormEvent) => {
    e.preventDefault();
    if (from && to && from <= to) navigate({ range: "custom", from, to });
  };
  return (
    <div className="range">
      <label className="control">
        <span className="visually-hidden">Date range</span>
        <select
          data-testid="date-range"
          value={custom ? "custom" : state.range}
          onChange={(e) => {
            if (e.target.value === "custom") setCustom(true);
            else {
              setCustom(false);
              navigate({ range: e.target.value, from: null, to: null });
            }
          }}
        >
          {RANGE_PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.label}
            </option>
          ))}
          <option value="custom">Custom range…</option>
        </select>
      </label>
      {custom && (
        <form className="custom-range" onSubmit={apply}>
          <label>
            <span className="visually-hidden">From</span>
            <input type="date" value={from} max={to} onChange={(e) => setFrom(e.target.value)} required />
          </label>
          <span aria-hidden="true">–</span>
          <label>
            <span className="visually-hidden">To</span>
            <input type="date" value={to} min={from} onChange={(e) => setTo(e.target.value)} required />
          </label>
          <button type="submit">Apply</button>
        </form>
      )}
    </div>
  );
}

export function CompareToggle({ compare }: { compare: Compare | null }) {
  return (
    <label className="control">
      <span className="visually-hidden">Compare with</span>
      <select
        data-testid="compare"
        value={compare ?? ""}
        onChange={(e) => navigate({ compare: e.target.value || null })}
      >
        <option value="">No comparison</option>
        <option value="previous_period">Compare: previous period</option>
        <option value="year_over_year">Compare: year before</option>
      </select>
    </label>
  );
}

export function ThemeToggle() {
  const theme = useTheme();
  const next = theme === "dark" ? "light" : "dark";
  return (
    <button
      type="button"
      className="icon"
      data-testid="theme-toggle"
      aria-label={`Switch to the ${next} theme`}
      aria-pressed={theme === "dark"}
      onClick={() => setTheme(next)}
    >
      {theme === "dark" ? "☀" : "☾"}
    </button>
  );
}

const OPERATOR_WORDS: Record<string, string> = {
  is: "is",
  is_not: "is not",
  contains: "contains",
  contains_not: "does not contain",
  matches: "matches",
  matches_not: "does not match",
};

/** A filter in words: `Device is mobile or tablet`. */
export function describeFilter(f: Filter): string {
  if (f[0] === "and" || f[0] === "or") return `(${(f[1] as Filter[]).map(describeFilter).join(` ${f[0]} `)})`;
  if (f[0] === "not") return `not ${describeFilter(f[1] as Filter)}`;
  const [op, dim, values] = f as [string, string, string[]];
  return `${dimensionLabel(dim)} ${OPERATOR_WORDS[op] ?? op} ${values.map((v) => displayValue(dim, v)).join(" or ")}`;
}

/** Applying a segment replaces the filters: a segment is a whole view of the audience, not an addition. */
function SegmentsMenu({
  filters,
  segments,
  write,
  create,
}: {
  filters: Filter[];
  segments: SavedItem[];
  write: boolean;
  create: SavedItems["create"];
}) {
  const action = useAction();
  const [name, setName] = useState("");
  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (await action.run(() => create(name.trim(), { filters }))) setName("");
  };
  return (
    <details className="segments" data-testid="segments">
      <summary>Segments</summary>
      <div className="segments-menu">
        {segments.length > 0 && (
          <ul aria-label="Saved segments">
            {segments.map((s) => {
              const saved = (s.definition as { filters?: unknown }).filters;
              const list = Array.isArray(saved) ? (saved as Filter[]) : [];
              return (
                <li key={s.id}>
                  <button
                    type="button"
                    className="link"
                    title={list.map(describeFilter).join(", ")}
                    onClick={(e) => {
                      e.currentTarget.closest("details")?.removeAttribute("open");
                      navigate({ filters: list.length ? JSON.stringify(list) : null });
                    }}
                  >
                    {s.name}
                  </button>
                  <span className="muted saved-meta">by {s.owner}</span>
                </li>
              );
            })}
          </ul>
        )}
        {write && (
          <form className="inline-form" onSubmit={save} aria-label="Save current filters as segment">
            <label>
              Save current filters as segment…
              <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Segment name" required />
            </label>
            <button type="submit" disabled={action.busy}>
              Save segment
            </button>
          </form>
        )}
        <ActionError error={action.error} />
      </div>
    </details>
  );
}

export function FilterBar({ filters }: { filters: Filter[] }) {
  const { loaded, create } = useSavedItems("segment");
  const can = useCapabilities();
  const segments = loaded.data?.items ?? [];
  // Saving needs filters to save; with neither segments nor filters there is no bar at all.
  const write = can.has("write") && filters.length > 0;
  if (filters.length === 0 && segments.length === 0) return null;
  const remove = (i: number) => {
    const next = filters.filter((_, j) => j !== i);
    navigate({ filters: next.length ? JSON.stringify(next) : null });
  };
  return (
    <section className="filters" aria-label="Filters" data-testid="filters">
      {filters.length > 0 && (
        <>
          <span className="filters-title">Filtered by</span>
          <ul>
            {filters.map((f, i) => {
              const words = describeFilter(f);
              return (
                // biome-ignore lint/suspicious/noArrayIndexKey: filters are positional (removed by index) and may repeat.
                <li key={`${i}:${JSON.stringify(f)}`} className="chip">
                  {words}
                  <button type="button" aria-label={`Remove filter: ${words}`} onClick={() => remove(i)}>
                    ×
                  </button>
                </li>
              );
            })}
          </ul>
          <button type="button" className="link" onClick={() => navigate({ filters: null })}>
            Clear all
          </button>
        </>
      )}
      {(segments.length > 0 || write) && (
        <SegmentsMenu filters={filters} segments={segments} write={write} create={create} />
      )}
    </section>
  );
}
