// NOTE: workerd provides node:zlib under nodejs_compat (zstd included), but @cloudflare/workers-types
// declares no node: modules; this declares the two functions the archive uses (issue #7). Node-side
// type checks (tsconfig.node.json) use @types/node instead and never see this file.
declare module "node:zlib" {
  export function zstdCompressSync(data: Uint8Array, options?: { chunkSize?: number }): Uint8Array;
  export function zstdDecompressSync(data: Uint8Array, options?: { chunkSize?: number }): Uint8Array;
}
