/** Queue "events-dlq": each dead-lettered message kept in R2 until an operator replays or drops it (issue #18). */
export async function handleDeadLetters(
  batch: MessageBatch<unknown>,
  _env: Env,
  _ctx: ExecutionContext,
): Promise<void> {
  // Placeholder until the dead-letter consumer lands: retried, so nothing is lost meanwhile.
  batch.retryAll();
}
