/** Loading, empty and error states: every module shows one of these rather than a blank box. */
import type { ReactNode } from "react";
import { explain } from "../api.ts";
import type { Loaded } from "../use-api.ts";

export function Loading({ label = "Loading…" }: { label?: string }) {
  return (
    <div className="state loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" />
      {label}
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <div className="state empty" data-testid="empty">
      {children}
    </div>
  );
}

export function ErrorBox({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  const { title, detail } = explain(error);
  return (
    <div className="state error" role="alert" data-testid="error">
      <strong>{title}</strong>
      {detail && <span className="detail">{detail}</span>}
      {onRetry && (
        <button type="button" className="link" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

/** Renders a load's state, or its data through `children`; `isEmpty` decides when to say there is nothing. */
export function Async<T>({
  loaded,
  isEmpty,
  empty,
  children,
}: {
  loaded: Loaded<T>;
  isEmpty?: (data: T) => boolean;
  empty?: ReactNode;
  children: (data: T) => ReactNode;
}) {
  if (loaded.error) return <ErrorBox error={loaded.error} onRetry={loaded.reload} />;
  if (loaded.data === undefined) return <Loading />;
  if (isEmpty?.(loaded.data)) return <Empty>{empty ?? "No data for this period and these filters yet."}</Empty>;
  return (
    <div className={loaded.loading ? "refreshing" : undefined} aria-busy={loaded.loading}>
      {children(loaded.data)}
    </div>
  );
}
