/**
 * ErasureActor's storage: each job under `job:<id>`, the queue of jobs to run in order, the
 * visitor whose erasure waits or runs, and the follow-up passes waiting for their time.
 */
import type { ErasureStatus } from "../core/privacy/erasure.ts";

export interface Job {
  status: ErasureStatus;
  /** Held only while the job runs or its follow-up pass waits. */
  visitor?: string;
  client_ids: string[];
  /** Archive hours done. */
  cursor: number;
  /** 2 in the follow-up pass (absent: the first). */
  pass?: 2;
}

/** The ids of the jobs to run, in order; the head is the one running. */
export const QUEUE = "queue";
export const jobKey = (id: string) => `job:${id}`;
/** The unfinished erasure of a visitor (by the id's SHA-256): asking again while it runs returns it. */
export const activeKey = (visitorSha256: string) => `active:${visitorSha256}`;
const FOLLOW_UP = "follow:";
/** A visitor erasure's follow-up pass waiting: the epoch ms it is due. */
export const followUpKey = (id: string) => `${FOLLOW_UP}${id}`;

/** The follow-up passes due by `now` join the queue: the same steps again, from the find. */
export async function queueDueFollowUps(storage: DurableObjectStorage, now: number): Promise<void> {
  const waiting = await storage.list<number>({ prefix: FOLLOW_UP });
  const due = [...waiting].filter(([, at]) => at <= now).map(([key]) => key.slice(FOLLOW_UP.length));
  if (due.length === 0) return;
  const queue = (await storage.get<string[]>(QUEUE)) ?? [];
  const jobs: Record<string, Job> = {};
  for (const id of due) {
    const job = await storage.get<Job>(jobKey(id));
    if (!job?.status.follow_up || job.visitor === undefined) continue;
    Object.assign(job, { pass: 2, cursor: 0 });
    Object.assign(job.status, { state: "queued", step: "find", attempts: 0 });
    Object.assign(job.status.follow_up, { state: "running", started_at: new Date(now).toISOString() });
    jobs[jobKey(id)] = job;
    if (!queue.includes(id)) queue.push(id);
  }
  await storage.put({ ...jobs, [QUEUE]: queue });
  await storage.delete(due.map(followUpKey));
}

/** When the next follow-up pass is due (epoch ms), if one waits. */
export async function nextFollowUp(storage: DurableObjectStorage): Promise<number | undefined> {
  const waiting = [...(await storage.list<number>({ prefix: FOLLOW_UP })).values()];
  return waiting.length > 0 ? Math.min(...waiting) : undefined;
}
