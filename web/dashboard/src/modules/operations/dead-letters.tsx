/**
 * The dead-letter table (`GET /api/v1/ops/dead-letters`): what the events queues gave up on, with
 * its last error; replay sends a message back into the pipeline, drop gives it up with a reason the
 * server keeps as an audit record. Nothing is dropped without that reason.
 */
import { type FormEvent, useEffect, useState } from "react";
import { api, explain, notAvailable } from "../../api.ts";
import { Card } from "../../components/card.tsx";
import { Empty, ErrorBox, Loading } from "../../components/status.tsx";
import { integerNumber } from "../../format.ts";
import { useApi } from "../../use-api.ts";

interface DeadLetter {
  id: string;
  dead_lettered_at: string;
  queue: string;
  attempts: number;
  last_error: string;
  events: number;
  property_ids: string[];
  bytes: number;
}

const PATH = "/api/v1/ops/dead-letters";

/** `tick` changes when the board refreshes: the list is asked again, keeping its rows meanwhile. */
export function DeadLetters({ token, tick }: { token: string; tick: number }) {
  const loaded = useApi(`dead-letters:${token.slice(-6)}`, (signal) =>
    api<{ dead_letters: DeadLetter[] }>(token, `${PATH}?limit=50`, { signal }).catch((error: unknown) => {
      if (notAvailable(error)) return null;
      throw error;
    }),
  );
  const { reload } = loaded;
  useEffect(() => {
    if (tick > 0) reload();
  }, [tick, reload]);
  const [note, setNote] = useState<{ text: string; error?: boolean }>();
  const act = async (work: Promise<unknown>, done: string) => {
    setNote(undefined);
    try {
      await work;
      setNote({ text: done });
      loaded.reload();
    } catch (error) {
      const { title, detail } = explain(error);
      setNote({ text: `${title} ${detail}`, error: true });
    }
  };
  return (
    <Card title="Dead letters" wide testId="dead-letters">
      {note && (
        <p className={note.error ? "state error" : "note"} role={note.error ? "alert" : "status"}>
          {note.text}
        </p>
      )}
      {loaded.error ? (
        <ErrorBox error={loaded.error} onRetry={loaded.reload} />
      ) : loaded.data === undefined ? (
        <Loading />
      ) : loaded.data === null ? (
        <Empty>This server has no dead-letter API: messages the queues gave up on would be listed here.</Empty>
      ) : loaded.data.dead_letters.length === 0 ? (
        <Empty>
          No dead letters. Messages the events queue gives up on after every retry would be listed here, with their last
          error, to replay after a fix or drop with a reason.
        </Empty>
      ) : (
        <div className="table-wrap">
          <table className="data">
            <thead>
              <tr>
                <th scope="col">Dead-lettered (UTC)</th>
                <th scope="col">Queue</th>
                <th scope="col" className="num">
                  Attempts
                </th>
                <th scope="col" className="num">
                  Events
                </th>
                <th scope="col">Properties</th>
                <th scope="col">Last error</th>
                <th scope="col">Action</th>
              </tr>
            </thead>
            <tbody>
              {loaded.data.dead_letters.map((d) => (
                <tr key={d.id} data-id={d.id}>
                  <td>{d.dead_lettered_at.slice(0, 19).replace("T", " ")}</td>
                  <td>{d.queue}</td>
                  <td className="num">{integerNumber(d.attempts)}</td>
                  <td className="num">{integerNumber(d.events)}</td>
                  <td>{d.property_ids.join(", ")}</td>
                  <td className="ua">{d.last_error}</td>
                  <td>
                    <Actions
                      letter={d}
                      onReplay={() =>
                        act(
                          api(token, `${PATH}/${encodeURIComponent(d.id)}/replay`, { method: "POST" }),
                          `Replayed ${d.id}: its ${integerNumber(d.events)} events are back in the pipeline.`,
                        )
                      }
                      onDrop={(reason) =>
                        act(
                          api(token, `${PATH}/${encodeURIComponent(d.id)}`, { method: "DELETE", body: { reason } }),
                          `Dropped ${d.id}; the reason is kept in the audit.`,
                        )
                      }
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </Card>
  );
}

function Actions({
  letter,
  onReplay,
  onDrop,
}: {
  letter: DeadLetter;
  onReplay: () => Promise<void>;
  onDrop: (reason: string) => Promise<void>;
}) {
  const [dropping, setDropping] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    await work();
    setBusy(false);
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (reason.trim()) void run(() => onDrop(reason.trim()));
  };
  if (dropping)
    return (
      <form className="inline-form ops-drop" onSubmit={submit}>
        <label>
          Why drop it? (kept in the audit)
          <input value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} required />
        </label>
        <button type="submit" className="link danger" disabled={busy || !reason.trim()}>
          Drop
        </button>
        <button type="button" className="link" onClick={() => setDropping(false)}>
          Cancel
        </button>
      </form>
    );
  return (
    <span className="ops-actions">
      <button
        type="button"
        className="link"
        disabled={busy || letter.events === 0}
        title={letter.events === 0 ? "Its body does not decode as events: it cannot be replayed" : undefined}
        onClick={() => void run(onReplay)}
      >
        Replay
      </button>
      <button type="button" className="link danger" disabled={busy} onClick={() => setDropping(true)}>
        Drop…
      </button>
    </span>
  );
}
