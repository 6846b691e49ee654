// The wire pieces the server and the client share (docs/protocol.md): the frame codec, identifiers, the TCP
// length prefix and the JSON shapes of the HTTP API. Nothing here depends on the server; the server imports
// this entry point, never the reverse.
export * from './codec.js'
export * from './ids.js'
export * from './length-prefix.js'
export type * from './api-types.js'
