/**
 * CSV out (RFC 4180: CRLF line ends, quoted fields), for the API's `format=csv` and the dashboard's
 * CSV buttons alike, so a table downloaded from either is the same text. No imports: the dashboard
 * bundles it.
 */

function csvCell(v: string | number): string {
  if (typeof v === "number") return String(v);
  // Cells a spreadsheet would run as formulas are defused with a leading quote.
  const s = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\n\r']/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV with a header row. */
export function toCsv(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  return `${[header, ...rows].map((r) => r.map(csvCell).join(",")).join("\r\n")}\r\n`;
}
