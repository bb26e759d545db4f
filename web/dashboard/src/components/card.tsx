/** A titled panel, optionally with keyboard-navigable tabs (arrow keys move between tabs, as WAI-ARIA asks). */
import { type KeyboardEvent, type ReactNode, useId, useState } from "react";

export function Card({
  title,
  actions,
  children,
  wide,
  testId,
}: {
  title: ReactNode;
  actions?: ReactNode;
  children: ReactNode;
  wide?: boolean;
  testId?: string;
}) {
  const id = useId();
  return (
    <section className={`card${wide ? " wide" : ""}`} aria-labelledby={id} data-testid={testId}>
      <header className="card-head">
        <h2 id={id}>{title}</h2>
        {actions && <div className="card-actions">{actions}</div>}
      </header>
      {children}
    </section>
  );
}

export interface Tab {
  id: string;
  label: string;
  render: () => ReactNode;
}

export function TabbedCard({
  title,
  tabs,
  wide,
  testId,
}: {
  title: string;
  tabs: Tab[];
  wide?: boolean;
  testId?: string;
}) {
  const [active, setActive] = useState(tabs[0]?.id ?? "");
  const base = useId();
  const current = tabs.find((t) => t.id === active) ?? tabs[0];
  const onKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const i = tabs.findIndex((t) => t.id === current?.id);
    const next = e.key === "ArrowRight" ? i + 1 : e.key === "ArrowLeft" ? i - 1 : undefined;
    if (next === undefined) return;
    e.preventDefault();
    const tab = tabs[(next + tabs.length) % tabs.length];
    if (!tab) return;
    setActive(tab.id);
    document.getElementById(`${base}-${tab.id}`)?.focus();
  };
  return (
    <Card
      title={title}
      wide={wide}
      testId={testId}
      actions={
        tabs.length > 1 && (
          <div role="tablist" aria-label={title} className="tabs" onKeyDown={onKey}>
            {tabs.map((t) => (
              <button
                key={t.id}
                id={`${base}-${t.id}`}
                type="button"
                role="tab"
                aria-selected={t.id === current?.id}
                aria-controls={`${base}-panel`}
                tabIndex={t.id === current?.id ? 0 : -1}
                onClick={() => setActive(t.id)}
              >
                {t.label}
              </button>
            ))}
          </div>
        )
      }
    >
      <div role="tabpanel" id={`${base}-panel`} aria-labelledby={`${base}-${current?.id}`}>
        {current?.render()}
      </div>
    </Card>
  );
}
