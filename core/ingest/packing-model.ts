/**
 * What packing achieves, as a formula for pricing (bench/cost-model.ts, bench/packing.ts prints it
 * beside what it measured): the packer of core/ingest/packer.ts, or an ingest actor's, under
 * Poisson arrivals.
 */
import { MAX_MESSAGE_BYTES } from "./queue-message.ts";

/**
 * Expected requests per message for one packer (an isolate's, or an ingest actor's): requests
 * arrive as a Poisson process of `ratePerSecond`; each carries `bytesPerRequest` of event JSON.
 *
 * A window opens at a request and takes the N ~ Poisson(λ) requests of the next W ms, λ = r·W/1000;
 * by memorylessness the windows are independent, so a window holds 1 + N requests. Its (1 + N)·b
 * bytes leave in ⌈(1 + N)·b / M⌉ messages (drafts fill to M = `maxBytes` event by event). Over many
 * windows (renewal-reward) requests per message is
 *
 *     E[1 + N] / E[⌈(1 + N)·b / M⌉]  =  (1 + λ) / Σₙ Pois(n; λ)·⌈(1 + n)·b / M⌉
 *
 * which is 1 + λ while a window's requests fit one message and tends to M / b as λ grows. Exact
 * for requests of equal size (the mean inside ⌈⌉ is an approximation for mixed sizes) and for
 * messages that fill to M exactly (an event boundary leaves up to one event's bytes unused).
 * `windowMs` 0 gives ⌈b / M⌉⁻¹: one message per request, unpacked.
 */
export function requestsPerMessage(
  ratePerSecond: number,
  windowMs: number,
  bytesPerRequest: number,
  maxBytes = MAX_MESSAGE_BYTES,
): number {
  const lambda = Math.max(0, (ratePerSecond * windowMs) / 1000);
  const messages = (n: number) => Math.max(1, Math.ceil(((1 + n) * bytesPerRequest) / maxBytes));
  // Σ over n from 0 to far into the tail, each term from the last in log space (no overflow at large λ).
  const last = Math.ceil(lambda + 12 * Math.sqrt(lambda) + 30);
  let logP = -lambda;
  let expected = 0;
  for (let n = 0; n <= last; n++) {
    if (n > 0) logP += Math.log(lambda) - Math.log(n);
    expected += Math.exp(logP) * messages(n);
  }
  return (1 + lambda) / expected;
}
