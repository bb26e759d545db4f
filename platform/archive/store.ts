/** The archive's store for this Worker: S3 when ARCHIVE_S3_ENDPOINT and ARCHIVE_S3_BUCKET are set, else R2. */
import type { ArchiveStore } from "../../core/archive/store.ts";
import { AppError } from "../../core/errors.ts";
import { loadConfig } from "../config.ts";
import { R2ArchiveStore } from "./r2-store.ts";

const stores = new WeakMap<object, ArchiveStore>();

/** One store per env object (the S3 client keeps its connections); the S3 SDK loads only when used. */
export async function archiveStore(env: Env): Promise<ArchiveStore> {
  const hit = stores.get(env);
  if (hit) return hit;
  const config = loadConfig(env);
  let store: ArchiveStore;
  if (config.ARCHIVE_S3_ENDPOINT && config.ARCHIVE_S3_BUCKET) {
    if (!config.ARCHIVE_S3_ACCESS_KEY_ID || !config.ARCHIVE_S3_SECRET_ACCESS_KEY)
      throw new AppError(
        "misconfigured",
        500,
        "ARCHIVE_S3_ENDPOINT is set: ARCHIVE_S3_ACCESS_KEY_ID and ARCHIVE_S3_SECRET_ACCESS_KEY are required",
      );
    const { S3ArchiveStore } = await import("./s3-store.ts");
    store = new S3ArchiveStore({
      endpoint: config.ARCHIVE_S3_ENDPOINT,
      bucket: config.ARCHIVE_S3_BUCKET,
      region: config.ARCHIVE_S3_REGION,
      accessKeyId: config.ARCHIVE_S3_ACCESS_KEY_ID,
      secretAccessKey: config.ARCHIVE_S3_SECRET_ACCESS_KEY,
    });
  } else store = new R2ArchiveStore(env.ARCHIVE_BUCKET);
  stores.set(env, store);
  return store;
}
