/**
 * Group commit for an actor's writes (issue #14): the calls that reach an actor within `windowMs`
 * share one storage commit, and each call returns only after that commit — so an eviction or crash
 * loses nothing a call acknowledged, while SQLite rows written (billed one by one) follow the
 * number of commits, not of calls. At our spec's volume every consumer batch touches nearly every
 * property, so each actor gets tens of calls a second of one or two events each.
 *
 * Inputs are gathered in arrival order; `commit` gets them all and returns one result per input.
 * A failed commit fails every call in its group (the consumer retries them all).
 */
export class GroupCommit<I, R> {
  readonly #windowMs: number;
  readonly #commit: (inputs: I[]) => Promise<R[]> | R[];
  #open: { inputs: I[]; done: Promise<R[]> } | null = null;

  constructor(windowMs: number, commit: (inputs: I[]) => Promise<R[]> | R[]) {
    this.#windowMs = windowMs;
    this.#commit = commit;
  }

  /** Adds a call's input to the open group (opening one if none is) and resolves with its result. */
  async run(input: I): Promise<R> {
    let group = this.#open;
    if (!group) {
      const inputs: I[] = [];
      const done = new Promise<R[]>((resolve, reject) => {
        setTimeout(() => {
          // Closed before committing: a call arriving during the commit opens the next group.
          if (this.#open?.inputs === inputs) this.#open = null;
          Promise.resolve()
            .then(() => this.#commit(inputs))
            .then(resolve, reject);
        }, this.#windowMs);
      });
      group = { inputs, done };
      this.#open = group;
    }
    const index = group.inputs.push(input) - 1;
    const results = await group.done;
    return results[index] as R;
  }
}
