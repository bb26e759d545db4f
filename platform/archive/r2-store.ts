/** The archive store over the ARCHIVE_BUCKET R2 binding. */
import {
  type ArchiveListPage,
  type ArchiveObject,
  type ArchiveStore,
  archiveContentType,
  type PutCondition,
} from "../../core/archive/store.ts";

/** R2 deletes at most 1,000 keys per call. */
const DELETE_CHUNK = 1000;

function toObject(o: R2Object): ArchiveObject {
  return { key: o.key, size: o.size, etag: o.etag, uploaded: o.uploaded.getTime() };
}

export class R2ArchiveStore implements ArchiveStore {
  private readonly bucket: R2Bucket;

  constructor(bucket: R2Bucket) {
    this.bucket = bucket;
  }

  async put(key: string, body: Uint8Array, onlyIf?: PutCondition): Promise<ArchiveObject | null> {
    const options: R2PutOptions = { httpMetadata: { contentType: archiveContentType(key) } };
    if (onlyIf)
      options.onlyIf = "absent" in onlyIf ? new Headers({ "If-None-Match": "*" }) : { etagMatches: onlyIf.etagMatches };
    const written = await this.bucket.put(key, body, options);
    return written ? toObject(written) : null;
  }

  async get(key: string): Promise<{ body: Uint8Array; etag: string } | null> {
    const object = await this.bucket.get(key);
    if (!object) return null;
    return { body: new Uint8Array(await object.arrayBuffer()), etag: object.etag };
  }

  async list(prefix: string, cursor?: string): Promise<ArchiveListPage> {
    const page = await this.bucket.list({ prefix, cursor, limit: 1000 });
    const objects = page.objects.map(toObject);
    return page.truncated ? { objects, cursor: page.cursor } : { objects };
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_CHUNK) await this.bucket.delete(keys.slice(i, i + DELETE_CHUNK));
  }
}
