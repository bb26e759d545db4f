/**
 * One-at-a-time for an actor's read-modify-write steps. An actor runs one event at a time only
 * between awaits: a step that awaits crypto (a new key's hash) and then reads a list lets another
 * call read the same list in between, and one of the two writes is lost. Steps run through here
 * wait for the previous one to finish.
 */
export class Serial {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(step: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(step, step);
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
