/** The custom report builder: a form over the query language whose run puts the report in the URL. */
import { type FormEvent, useState } from "react";
import type { Filter, FilterOperator, Metric } from "../../../../../core/query/spec.ts";
import { describeFilter } from "../../components/controls.tsx";
import { dimensionLabel, METRIC_LABELS, METRICS, PLAIN_DIMENSIONS } from "../../format.ts";
import {
  DIMENSION_CHOICES,
  finishDraft,
  OPERATORS,
  PROPERTY_PREFIX,
  parseFilterValues,
  type ReportDraft,
} from "./report.ts";

function DimensionPicker({ value, onChange, index }: { value: string; onChange: (v: string) => void; index: number }) {
  const isProp = value.startsWith(PROPERTY_PREFIX);
  return (
    <span className="dim-pick">
      <select
        aria-label={`Dimension ${index + 1}`}
        value={isProp ? PROPERTY_PREFIX : value}
        onChange={(e) => onChange(e.target.value)}
      >
        <option value="">(none)</option>
        {DIMENSION_CHOICES.map((d) => (
          <option key={d} value={d}>
            {dimensionLabel(d)}
          </option>
        ))}
        <option value={PROPERTY_PREFIX}>Event property…</option>
      </select>
      {isProp && (
        <input
          aria-label={`Dimension ${index + 1} property key`}
          value={value.slice(PROPERTY_PREFIX.length)}
          onChange={(e) => onChange(`${PROPERTY_PREFIX}${e.target.value}`)}
          placeholder="key"
        />
      )}
    </span>
  );
}

/** The report form: metrics, dimension slots, the report's own filters, order and row count. */
export function Builder({ initial, onRun }: { initial: ReportDraft; onRun: (r: ReportDraft) => void }) {
  const [draft, setDraft] = useState(initial);
  const [newFilter, setNewFilter] = useState({ dim: "event:page", op: "contains" as FilterOperator, values: "" });
  const set = (patch: Partial<ReportDraft>) => setDraft((d) => ({ ...d, ...patch }));
  const dims = [...draft.dimensions, ""].slice(0, 4);
  const orderKey = draft.order_by?.[0]?.[0] ?? "";
  const run = (e: FormEvent) => {
    e.preventDefault();
    onRun(finishDraft(draft));
  };
  const addFilter = () => {
    const values = parseFilterValues(newFilter.values);
    if (values.length === 0) return;
    set({ filters: [...draft.filters, [newFilter.op, newFilter.dim, values] as Filter] });
    setNewFilter((f) => ({ ...f, values: "" }));
  };
  return (
    <form className="builder" onSubmit={run} aria-label="Report builder">
      <fieldset>
        <legend>Metrics</legend>
        {METRICS.map((m) => (
          <label key={m} className="check">
            <input
              type="checkbox"
              checked={draft.metrics.includes(m)}
              onChange={(e) =>
                set({
                  metrics: e.target.checked ? [...draft.metrics, m] : draft.metrics.filter((x) => x !== m),
                })
              }
            />
            {METRIC_LABELS[m]}
          </label>
        ))}
      </fieldset>
      <fieldset>
        <legend>Break down by (up to 4)</legend>
        {dims.map((d, i) => (
          <DimensionPicker
            // biome-ignore lint/suspicious/noArrayIndexKey: dimension slots are positional.
            key={i}
            index={i}
            value={d}
            onChange={(v) => {
              const next = [...draft.dimensions];
              next[i] = v;
              set({ dimensions: next.filter(Boolean) });
            }}
          />
        ))}
      </fieldset>
      <fieldset>
        <legend>Filters (besides the dashboard's)</legend>
        <ul className="chips">
          {draft.filters.map((f, i) => (
            // biome-ignore lint/suspicious/noArrayIndexKey: filters are positional (removed by index) and may repeat.
            <li key={`${i}:${JSON.stringify(f)}`} className="chip">
              {describeFilter(f)}
              <button
                type="button"
                aria-label={`Remove filter ${describeFilter(f)}`}
                onClick={() => set({ filters: draft.filters.filter((_, j) => j !== i) })}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
        <div className="inline-form">
          <select
            aria-label="Filter dimension"
            value={newFilter.dim}
            onChange={(e) => setNewFilter((f) => ({ ...f, dim: e.target.value }))}
          >
            {PLAIN_DIMENSIONS.map((d) => (
              <option key={d} value={d}>
                {dimensionLabel(d)}
              </option>
            ))}
            <option value="event:goal">Goal</option>
          </select>
          <select
            aria-label="Filter operator"
            value={newFilter.op}
            onChange={(e) => setNewFilter((f) => ({ ...f, op: e.target.value as FilterOperator }))}
          >
            {OPERATORS.map((o) => (
              <option key={o} value={o}>
                {o.replace("_", " ")}
              </option>
            ))}
          </select>
          <input
            aria-label="Filter values, separated by commas"
            placeholder="values, comma-separated"
            value={newFilter.values}
            onChange={(e) => setNewFilter((f) => ({ ...f, values: e.target.value }))}
            onKeyDown={(e) => {
              if (e.key === "Enter") {
                e.preventDefault();
                addFilter();
              }
            }}
          />
          <button type="button" onClick={addFilter}>
            Add filter
          </button>
        </div>
      </fieldset>
      <div className="inline-form">
        <label>
          Order by
          <select
            value={orderKey}
            onChange={(e) =>
              set({ order_by: e.target.value ? [[e.target.value, draft.order_by?.[0]?.[1] ?? "desc"]] : undefined })
            }
          >
            <option value="">(default)</option>
            {[...draft.metrics, ...draft.dimensions.filter(Boolean)].map((k) => (
              <option key={k} value={k}>
                {k in METRIC_LABELS ? METRIC_LABELS[k as Metric] : dimensionLabel(k)}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="visually-hidden">Direction</span>
          <select
            value={draft.order_by?.[0]?.[1] ?? "desc"}
            disabled={!orderKey}
            onChange={(e) => set({ order_by: [[orderKey, e.target.value as "asc" | "desc"]] })}
          >
            <option value="desc">descending</option>
            <option value="asc">ascending</option>
          </select>
        </label>
        <label>
          Rows
          <input
            type="number"
            min={1}
            max={10000}
            value={draft.limit}
            onChange={(e) => set({ limit: Math.max(1, Math.min(10_000, Number(e.target.value) || 1)) })}
          />
        </label>
        <button type="submit" className="primary" disabled={draft.metrics.length === 0}>
          Run report
        </button>
      </div>
    </form>
  );
}
