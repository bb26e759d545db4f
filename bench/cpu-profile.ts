/**
 * A V8 CPU profile of one Worker in a Miniflare workerd (its inspector, Miniflare's `inspectorPort`),
 * summarised by stage: each sample goes to the innermost function on its stack that names a stage.
 * The Worker's actors run in its isolate, so their work is in the same profile. Native work a JS
 * call causes (RPC argument serialisation, SQLite) is the caller's; native work no JS frame is on
 * the stack for (deserialising RPC arguments, I/O) is "(program)". Bench only.
 */

/** The parts of a `.cpuprofile` the summary reads. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/**
 * Starts sampling `worker` (its inspector target is `core:user:<name>`), and polls its isolate's
 * heap every 100 ms (answered between tasks, so a peak inside one long task can be missed);
 * `stop` ends both and returns the profile and the largest used heap seen, in bytes.
 */
export async function startProfile(
  inspectorPort: number,
  worker: string,
): Promise<{ stop(): Promise<{ profile: CpuProfile; peakHeapBytes: number }> }> {
  const ws = new WebSocket(`ws://127.0.0.1:${inspectorPort}/core:user:${worker}`);
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error(`no inspector for ${worker} on port ${inspectorPort}`)), {
      once: true,
    });
  });
  let next = 0;
  const pending = new Map<number, (result: unknown) => void>();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<unknown>((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call("Profiler.enable");
  await call("Profiler.setSamplingInterval", { interval: 500 });
  await call("Profiler.start");
  let peakHeapBytes = 0;
  let polling = true;
  const poll = (async () => {
    while (polling) {
      const { usedSize } = (await call("Runtime.getHeapUsage")) as { usedSize: number };
      peakHeapBytes = Math.max(peakHeapBytes, usedSize);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    async stop() {
      polling = false;
      await poll;
      const { profile } = (await call("Profiler.stop")) as { profile: CpuProfile };
      ws.close();
      return { profile, peakHeapBytes };
    },
  };
}

/** Milliseconds per stage, largest first; `stages` maps function names to stage names. */
export function stageTimes(profile: CpuProfile, stages: Record<string, string>): [string, number][] {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const resolve = (id: number): string => {
    const known = stageOf.get(id);
    if (known) return known;
    const name = nodes.get(id)?.callFrame.functionName ?? "";
    const up = parent.get(id);
    const stage = stages[name] ?? (name.startsWith("(") && name !== "(root)" ? name : up ? resolve(up) : "other");
    stageOf.set(id, stage);
    return stage;
  };
  const times = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const stage = resolve(id);
    times.set(stage, (times.get(stage) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return [...times].sort((a, b) => b[1] - a[1]);
}
