// NOTE: @aws-sdk/xml-builder's "browser" field swaps its XML parser for one built on DOMParser, which
// workerd does not have (aws/aws-sdk-js-v3#7375, cloudflare/workers-sdk#10755). wrangler and the
// vitest plugin both resolve with the browser field, so every S3 response would fail to parse.
// wrangler.toml's [alias] and vitest.config.ts point the package here (issue #7): the same exports,
// with the portable parser imported by its file name, which the browser field does not remap. A .js
// file because the package's dist-es files have no type declarations beside them.
export { XmlNode } from "../../node_modules/@aws-sdk/xml-builder/dist-es/XmlNode.js";
export { XmlText } from "../../node_modules/@aws-sdk/xml-builder/dist-es/XmlText.js";
export { parseXML } from "../../node_modules/@aws-sdk/xml-builder/dist-es/xml-parser.js";
