/**
 * Group commit (durable-objects/group-commit.ts): calls within the window share one commit and
 * each returns only after it, with its own result; a failed commit fails every call of its group;
 * a call that arrives while a commit runs waits for the next one.
 */
import { describe, expect, it } from "vitest";
import { GroupCommit } from "../../durable-objects/group-commit.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("GroupCommit", () => {
  it("commits the calls of one window once, each after the commit, with its own result", async () => {
    const commits: number[][] = [];
    const group = new GroupCommit<number, string>(30, (inputs) => {
      commits.push([...inputs]);
      return inputs.map((n) => `r${n}`);
    });
    const settled: string[] = [];
    const calls = [1, 2, 3].map((n) => group.run(n).then((r) => settled.push(r)));
    await sleep(5);
    expect(settled).toEqual([]);
    await Promise.all(calls);
    expect(commits).toEqual([[1, 2, 3]]);
    expect(settled.sort()).toEqual(["r1", "r2", "r3"]);
    await group.run(4);
    expect(commits).toEqual([[1, 2, 3], [4]]);
  });

  it("fails every call of a group whose commit fails, and commits the next group afresh", async () => {
    let fail = true;
    const group = new GroupCommit<number, number>(10, async (inputs) => {
      if (fail) throw new Error("storage reset");
      return inputs;
    });
    const results = await Promise.allSettled([group.run(1), group.run(2)]);
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await group.run(3)).toBe(3);
  });

  it("puts a call that arrives during a commit into the next group", async () => {
    const commits: number[][] = [];
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const group = new GroupCommit<number, number>(5, async (inputs) => {
      commits.push([...inputs]);
      if (commits.length === 1) await gate;
      return inputs;
    });
    const first = group.run(1);
    await sleep(15);
    const second = group.run(2);
    release();
    expect(await first).toBe(1);
    expect(await second).toBe(2);
    expect(commits).toEqual([[1], [2]]);
  });
});
