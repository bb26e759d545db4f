/**
 * The archive store over any S3-compatible API (@aws-sdk/client-s3): R2's S3 endpoint, AWS S3 (the
 * path Redshift COPY and Spectrum read), or a local server in tests. Loaded only when configured.
 */
import {
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import {
  type ArchiveListPage,
  type ArchiveObject,
  type ArchiveStore,
  archiveContentType,
  type PutCondition,
} from "../../core/archive/store.ts";

export interface S3ArchiveOptions {
  endpoint: string;
  bucket: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Keys per list page (S3's maximum, 1,000, by default). */
  pageSize?: number;
}

/** DeleteObjects takes at most 1,000 keys. */
const DELETE_CHUNK = 1000;

/** Local servers (tests, development) answer on an IP or localhost: path-style addressing there. */
function isLocal(endpoint: string): boolean {
  const host = new URL(endpoint).hostname;
  return host === "localhost" || /^\d+\.\d+\.\d+\.\d+$/.test(host) || host.startsWith("[");
}

const unquote = (etag: string | undefined) => (etag ?? "").replaceAll('"', "");

function status(error: unknown): number | undefined {
  return error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
}

export class S3ArchiveStore implements ArchiveStore {
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly pageSize: number;

  constructor(options: S3ArchiveOptions) {
    this.bucket = options.bucket;
    this.pageSize = options.pageSize ?? 1000;
    this.client = new S3Client({
      endpoint: options.endpoint,
      region: options.region,
      forcePathStyle: isLocal(options.endpoint),
      credentials: { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
      // Checksums only where the API requires them: every S3-compatible store accepts that, and
      // compaction verifies what it wrote by reading it back.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async put(key: string, body: Uint8Array, onlyIf?: PutCondition): Promise<ArchiveObject | null> {
    try {
      const result = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: archiveContentType(key),
          IfMatch: onlyIf && "etagMatches" in onlyIf ? `"${onlyIf.etagMatches}"` : undefined,
          IfNoneMatch: onlyIf && "absent" in onlyIf ? "*" : undefined,
        }),
      );
      return { key, size: body.byteLength, etag: unquote(result.ETag), uploaded: Date.now() };
    } catch (error) {
      // 412: the precondition failed; 409: a concurrent conditional write won.
      if (onlyIf && (status(error) === 412 || status(error) === 409)) return null;
      throw error;
    }
  }

  async get(key: string): Promise<{ body: Uint8Array; etag: string } | null> {
    try {
      const result = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      if (!result.Body) return null;
      return { body: await result.Body.transformToByteArray(), etag: unquote(result.ETag) };
    } catch (error) {
      if (status(error) === 404) return null;
      throw error;
    }
  }

  async list(prefix: string, cursor?: string): Promise<ArchiveListPage> {
    const page = await this.client.send(
      new ListObjectsV2Command({
        Bucket: this.bucket,
        Prefix: prefix,
        ContinuationToken: cursor,
        MaxKeys: this.pageSize,
      }),
    );
    const objects = (page.Contents ?? []).flatMap((o) =>
      o.Key ? [{ key: o.Key, size: o.Size ?? 0, etag: unquote(o.ETag), uploaded: o.LastModified?.getTime() ?? 0 }] : [],
    );
    return page.IsTruncated && page.NextContinuationToken
      ? { objects, cursor: page.NextContinuationToken }
      : { objects };
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += DELETE_CHUNK) {
      const chunk = keys.slice(i, i + DELETE_CHUNK);
      const result = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true },
        }),
      );
      const failed = result.Errors?.filter((e) => e.Code !== "NoSuchKey") ?? [];
      if (failed.length > 0) throw new Error(`S3 DeleteObjects failed for ${failed.length} keys: ${failed[0]?.Code}`);
    }
  }
}
