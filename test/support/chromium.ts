/**
 * Debian's Chromium through playwright-core, for every browser test (the tracker's fixtures and the
 * dashboard): nothing can be downloaded by `playwright install` here, so the system build is used.
 */
import { type Browser, chromium } from "playwright-core";

/** Where Chromium is: `CHROMIUM_PATH`, else Debian's package. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** A headless Chromium without the background traffic a test does not want (updates, sync, first-run pages). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
  });
}
