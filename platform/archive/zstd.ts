/** ZSTD for the archive's Parquet pages, through node:zlib (Node 22, and workerd with nodejs_compat). */
import { zstdCompressSync, zstdDecompressSync } from "node:zlib";
import type { ArchiveCodec } from "../../core/archive/parquet.ts";

/** zlib's smallest chunk; sizing the output chunk to the page spares growing it 16 KB at a time. */
const MIN_CHUNK = 64;

export const zstdCodec: ArchiveCodec = {
  name: "ZSTD",
  compress: (bytes) => zstdCompressSync(bytes, { chunkSize: Math.max(MIN_CHUNK, bytes.byteLength + 64) }),
  decompress: (bytes, outputLength) => zstdDecompressSync(bytes, { chunkSize: Math.max(MIN_CHUNK, outputLength) }),
};
