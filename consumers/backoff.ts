/** Retry delay for the n-th attempt (1-based): 5 s doubling to at most 10 minutes. */
export function backoffSeconds(attempts: number): number {
  return Math.min(5 * 2 ** Math.max(0, attempts - 1), 600);
}
