/**
 * The audit log (`GET …/audit`, newest first): who did what to whom. "Load more" pages back with
 * `before=<seq>` of the oldest entry shown, so entries written meanwhile never shift the pages.
 */
import { useState } from "react";
import type { AuditEntry } from "../../../../../core/team/schemas.ts";
import { api } from "../../api.ts";
import { Card } from "../../components/card.tsx";
import { Async } from "../../components/status.tsx";
import { useDash } from "../../context.ts";
import { useApi } from "../../use-api.ts";
import { ActionError, iso, useAction, usePropertyPath, when } from "./shared.tsx";

const PAGE = 50;

export function AuditLog() {
  const { token } = useDash();
  const path = usePropertyPath();
  const loaded = useApi(`audit:${path()}`, (signal) =>
    api<{ entries: AuditEntry[] }>(token, `${path("audit")}?limit=${PAGE}`, { signal }),
  );
  const [older, setOlder] = useState<AuditEntry[]>([]);
  const [done, setDone] = useState(false);
  const action = useAction();

  const more = (last: number) =>
    action.run(async () => {
      const { entries } = await api<{ entries: AuditEntry[] }>(token, `${path("audit")}?limit=${PAGE}&before=${last}`);
      setOlder((o) => [...o, ...entries]);
      if (entries.length < PAGE) setDone(true);
    });

  return (
    <Card
      title="Audit log"
      wide
      testId="audit"
      actions={
        <button
          type="button"
          className="link"
          onClick={() => {
            setOlder([]);
            setDone(false);
            loaded.reload();
          }}
        >
          Refresh
        </button>
      }
    >
      <Async loaded={loaded} isEmpty={(d) => d.entries.length === 0} empty="Nothing recorded yet.">
        {(data) => {
          const entries = [...data.entries, ...older];
          const last = entries.at(-1)?.seq;
          return (
            <>
              <div className="table-wrap">
                <table className="data">
                  <caption className="visually-hidden">Changes to this property, newest first</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Who</th>
                      <th scope="col">Action</th>
                      <th scope="col">Target</th>
                    </tr>
                  </thead>
                  <tbody>
                    {entries.map((e) => (
                      <tr key={e.seq} data-testid="audit-entry">
                        <td>
                          <time dateTime={iso(e.at)}>{when(e.at)}</time>
                        </td>
                        <td>{e.actor}</td>
                        <td>
                          <code>{e.action}</code>
                        </td>
                        <td>{e.target}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {!done && data.entries.length >= PAGE && last !== undefined && (
                <button type="button" onClick={() => void more(last)} disabled={action.busy}>
                  Load more
                </button>
              )}
            </>
          );
        }}
      </Async>
      <ActionError error={action.error} />
    </Card>
  );
}
