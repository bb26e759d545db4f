/**
 * `npm run import -- --file events.ndjson|events.csv|ga4.ndjson --property UA-…`: streams a file
 * through POST /api/v1/import in chunks, with a progress bar on stderr and a summary on stdout.
 * Options and exit codes: `--help`, and the README's "Import" section.
 */
import { statSync } from "node:fs";
import { extname } from "node:path";
import { parseArgs } from "node:util";
import { DEFAULT_GA4_SKIP } from "./import/ga4-bigquery.ts";
import { formatSummary } from "./import/progress.ts";
import { exitCode, runImport } from "./import/run.ts";
import { FORMATS, type Format } from "./import/source.ts";

const USAGE = `Usage: npm run import -- --file <path> --property <id> [options]

  --file <path>          NDJSON (our import lines), CSV (header row of field names) or a GA4 BigQuery export (NDJSON rows)
  --property <id>        the property to import into
  --url <url>            Tally's Worker (default http://127.0.0.1:8787)
  --key <api key>        the property's API key (or the admin token); default: $TALLY_API_KEY
  --format <f>           ndjson | csv | ga4-bigquery (default: from the extension; .csv is csv, else ndjson)
  --batch-lines <n>      lines per request (default 5000, at most 50000; requests also stop at 8 MiB)
  --from-line <n>        skip the file's lines before n (resume where a stopped run says)
  --ga4-skip <names>     GA4 events not to import (default ${DEFAULT_GA4_SKIP.join(",")}; "" imports all)
  --max-errors <n>       errors listed in the summary (default 20)
  --strict               exit 1 when any line was rejected
  --json                 print the summary as JSON

Exit codes: 0 done (some lines may have been rejected: see the summary); 1 nothing accepted but
something rejected, or --strict and anything rejected; 2 could not run or finish (usage, file,
auth, the server refusing or unreachable after retries); 130 interrupted (Ctrl-C).`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function integer(value: string | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > max) fail(`--${name} must be an integer from 1 to ${max}`);
  return n;
}

let parsed: ReturnType<typeof parse>;
function parse() {
  return parseArgs({
    options: {
      file: { type: "string" },
      property: { type: "string" },
      url: { type: "string", default: "http://127.0.0.1:8787" },
      key: { type: "string" },
      format: { type: "string" },
      "batch-lines": { type: "string" },
      "from-line": { type: "string" },
      "ga4-skip": { type: "string" },
      "max-errors": { type: "string" },
      strict: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  }).values;
}
try {
  parsed = parse();
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}
if (parsed.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const file = parsed.file ?? fail("--file is required");
const propertyId = parsed.property ?? fail("--property is required");
const key = parsed.key ?? process.env.TALLY_API_KEY ?? fail("--key or TALLY_API_KEY is required");
const format = (parsed.format ?? (extname(file).toLowerCase() === ".csv" ? "csv" : "ndjson")) as Format;
if (!FORMATS.includes(format)) fail(`--format must be one of ${FORMATS.join(", ")}`);
if (!URL.canParse(parsed.url)) fail(`--url ${parsed.url} is not a URL`);
try {
  if (!statSync(file).isFile()) fail(`${file} is not a file`);
} catch (error) {
  fail(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
}

// The first Ctrl-C finishes the chunk in flight and prints the summary; a second one quits at once.
let stopRequested = false;
process.on("SIGINT", () => {
  if (stopRequested) process.exit(130);
  stopRequested = true;
  process.stderr.write("\nstopping after the chunk in flight (Ctrl-C again to quit now)\n");
});

const summary = await runImport(
  {
    file,
    format,
    propertyId,
    url: parsed.url,
    key,
    batchLines: integer(parsed["batch-lines"], "batch-lines", 5000, 50_000),
    fromLine: integer(parsed["from-line"], "from-line", 1, Number.MAX_SAFE_INTEGER),
    maxErrors: integer(parsed["max-errors"], "max-errors", 20, 10_000),
    ga4Skip: new Set(
      (parsed["ga4-skip"] ?? DEFAULT_GA4_SKIP.join(","))
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== ""),
    ),
  },
  { progress: process.stderr, shouldStop: () => stopRequested },
);
process.stdout.write(`${parsed.json ? JSON.stringify(summary) : formatSummary(summary)}\n`);
if (format === "ndjson" && summary.errors.some((e) => /\bevent_params\b|\buser_pseudo_id\b/.test(e.message)))
  process.stderr.write("This looks like a GA4 BigQuery export: try --format ga4-bigquery\n");
process.exit(exitCode(summary, parsed.strict));
