/**
 * The "Export CSV" button under every table: one place for its label, its look and how the file is
 * written (core/csv.ts, the same text as the API's `format=csv`) and handed to the browser.
 */
import { toCsv } from "../../../../core/csv.ts";

type Cell = string | number;

interface Props {
  /** The downloaded file's name, with its `.csv`. */
  filename: string;
  header: readonly string[];
  /** Called on click, so a table is only serialised when someone asks for it. */
  rows: () => ReadonlyArray<ReadonlyArray<Cell>>;
  disabled?: boolean;
}

/** Saves text as a file through the browser's download. */
function download(filename: string, text: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  // The download starts asynchronously; revoking at once could cancel it.
  setTimeout(() => URL.revokeObjectURL(url), 1_000);
}

/** A link-styled button that downloads `header` and `rows()` as `filename`. */
export function CsvButton({ filename, header, rows, disabled }: Props) {
  return (
    <button
      type="button"
      className="link csv"
      onClick={() => download(filename, toCsv(header, rows()))}
      disabled={disabled}
    >
      Export CSV
    </button>
  );
}
