/**
 * The workerd processes a bench started (through Miniflare) and the CPU they used: other workerd on
 * the machine (a test run, another bench) are not ours to count or pin.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";

/** Pids of the workerd processes below this process. */
export function ourWorkerd(): string[] {
  const pids = execFileSync("pgrep", ["-f", "workerd"], { encoding: "utf8" }).trim().split("\n").filter(Boolean);
  const parent = (pid: string) => {
    try {
      return readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[1] ?? "";
    } catch {
      return "";
    }
  };
  return pids.filter((pid) => {
    for (let p = pid, depth = 0; p && p !== "1" && depth < 8; p = parent(p), depth++)
      if (p === String(process.pid)) return true;
    return false;
  });
}

/** CPU seconds (user + system) used so far by every workerd process below this one. */
export function workerdCpuSeconds(): number {
  let ticks = 0;
  for (const pid of ourWorkerd()) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // the process ended between pgrep and the read
    }
  }
  return ticks / 100;
}
