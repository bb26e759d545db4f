import type { z } from "zod";

/** One problem with one field, located by a path such as `events[3].page_url`. */
export interface FieldIssue {
  path: string;
  message: string;
}

/** Renders a zod path as `events[3].custom_dimensions.plan`. */
export function formatPath(prefix: string, path: ReadonlyArray<PropertyKey>): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

function article(expected: string): string {
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/** Turns zod issues into field issues, naming missing and unknown fields plainly. */
export function toFieldIssues(error: z.ZodError, prefix = ""): FieldIssue[] {
  const issues: FieldIssue[] = [];
  for (const issue of error.issues) {
    if (issue.code === "unrecognized_keys") {
      for (const key of issue.keys) {
        issues.push({ path: formatPath(prefix, [...issue.path, key]), message: "is not a known field" });
      }
    } else if (issue.code === "invalid_type") {
      const missing = /received undefined$/.test(issue.message);
      const message = missing ? "is required" : `must be ${article(issue.expected)}`;
      issues.push({ path: formatPath(prefix, issue.path), message });
    } else {
      issues.push({ path: formatPath(prefix, issue.path), message: issue.message });
    }
  }
  return issues;
}

/** One line a person can act on: `events[3].page_url: must be an absolute http(s) URL; …`. */
export function describeIssues(issues: ReadonlyArray<FieldIssue>, max = 5): string {
  const shown = issues.slice(0, max).map((i) => `${i.path || "body"}: ${i.message}`);
  const more = issues.length > max ? `; and ${issues.length - max} more` : "";
  return shown.join("; ") + more;
}
