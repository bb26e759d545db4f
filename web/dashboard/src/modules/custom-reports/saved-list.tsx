/**
 * The team's saved reports: each opens in one click, says whose it is and when it last changed;
 * those who may write save the open report, replace one with it, or delete one. Reports an older
 * dashboard kept in this browser are offered to the team in one click.
 */
import { type FormEvent, useState } from "react";
import { Async } from "../../components/status.tsx";
import { useDash } from "../../context.ts";
import { ActionError, TimeAgo, useAction, useCapabilities } from "../settings/shared.tsx";
import type { ReportDraft } from "./report.ts";
import { localReports, moveLocalReports, type SavedItem, useSavedItems } from "./saved-reports.ts";

/** "by alice@example.com · 2 hr. ago", naming the last editor when it is not the owner. */
export function SavedMeta({ item }: { item: SavedItem }) {
  return (
    <span className="muted saved-meta" data-testid="saved-meta">
      by {item.owner}
      {item.updated_by && item.updated_by !== item.owner && `, changed by ${item.updated_by}`} ·{" "}
      <TimeAgo at={item.updated_at} />
    </span>
  );
}

export function SavedReports({ report, onOpen }: { report: ReportDraft | null; onOpen: (r: ReportDraft) => void }) {
  const { property } = useDash();
  const { loaded, create, update, remove } = useSavedItems("report");
  const can = useCapabilities();
  const write = can.has("write");
  const action = useAction();
  const [name, setName] = useState("");
  const [local, setLocal] = useState(() => localReports(property).length);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    if (!report || !name.trim()) return;
    if (await action.run(() => create(name.trim(), { ...report }))) setName("");
  };
  const move = () =>
    action.run(async () => {
      try {
        await moveLocalReports(property, create);
      } finally {
        setLocal(localReports(property).length);
      }
    });

  return (
    <>
      {write && local > 0 && (
        <div className="shown-once" data-testid="move-local">
          <span>
            This browser keeps {local} report{local === 1 ? "" : "s"} saved by an older dashboard, which only you can
            see.
          </span>
          <button type="button" onClick={() => void move()} disabled={action.busy}>
            Move {local} report{local === 1 ? "" : "s"} from this browser to the team
          </button>
        </div>
      )}
      <Async loaded={loaded} isEmpty={(d) => d.items.length === 0} empty="Reports saved here are shared with the team.">
        {(data) => (
          <ul className="saved">
            {data.items.map((s) => (
              <li key={s.id} data-testid="saved-report">
                <span>
                  <button type="button" className="link" onClick={() => onOpen(s.definition as unknown as ReportDraft)}>
                    {s.name}
                  </button>
                  <SavedMeta item={s} />
                </span>
                {write && (
                  <span>
                    {report && (
                      <button
                        type="button"
                        className="link"
                        aria-label={`Replace ${s.name} with the open report`}
                        onClick={() => void action.run(() => update(s, { ...report }))}
                      >
                        Update
                      </button>
                    )}{" "}
                    <button
                      type="button"
                      className="link danger"
                      aria-label={`Delete saved report ${s.name}`}
                      onClick={() => void action.run(() => remove(s))}
                    >
                      Delete
                    </button>
                  </span>
                )}
              </li>
            ))}
          </ul>
        )}
      </Async>
      {write && report && (
        <form className="inline-form" onSubmit={save}>
          <label>
            <span className="visually-hidden">Report name</span>
            <input value={name} onChange={(e) => setName(e.target.value)} placeholder="Name this report" required />
          </label>
          <button type="submit" disabled={action.busy}>
            Save report
          </button>
        </form>
      )}
      <ActionError error={action.error} />
    </>
  );
}
