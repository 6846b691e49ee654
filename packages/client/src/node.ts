// Node-only additions to the client (they need node: modules, so the browser entry point leaves them out).
export { JsonFileSeqStore } from './sync/file-seq-store.js'
