/**
 * What one import request may carry: shared by the route (workers/import/limits.ts) and the import
 * CLI (scripts/import/send.ts), which sizes its batches under them.
 */

/** Events (non-empty lines) per request: the import CLI's largest batch. */
export const MAX_IMPORT_LINES = 50_000;
/** Bytes per request, as sent (NDJSON is not decompressed here). */
export const MAX_IMPORT_BYTES = 64 * 1024 * 1024;
