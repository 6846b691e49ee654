// The OpenAPI 3.1 document of the HTTP API, assembled from the area files (one OperationSpec per
// endpoint) and checked against the routes the server really registered (route-table.ts): a route
// nobody documented is served as a stub marked `x-implus-undocumented`, which the suite refuses
// (test/openapi.test.ts), and a documented route nobody registered is left out.
import { reasonPhrase, type StatusCode } from '../../errors.js'
import { SERVER_VERSION } from '../../version.js'
import type { HttpMethod, RouteKey } from '../route-table.js'
import { adminPaths } from './admin.js'
import { groupPaths } from './groups.js'
import { filePaths } from './files.js'
import { messagePaths } from './messages.js'
import { operationPaths } from './operations.js'
import { SHARED_SCHEMAS, type JsonSchema, type OperationSpec, type PathSpecs } from './spec.js'
import { userPaths } from './users.js'

/** Each area of the API: its tag, what it is, its endpoints. A new area file is added here. */
const AREAS: ReadonlyArray<{ tag: string, description: string, paths: PathSpecs }> = [
  { tag: 'users', description: 'Accounts, tokens, friends and blacklist', paths: userPaths },
  { tag: 'groups', description: 'Group creation and membership', paths: groupPaths },
  { tag: 'messages', description: 'Pulling messages, conversations, read counts, recall', paths: messagePaths },
  { tag: 'files', description: 'Uploads and members-only downloads of images, voice, video and other files (docs/protocol.md "Files")', paths: filePaths },
  { tag: 'admin', description: 'Operator actions; `Authorization: Bearer <IMPLUS_ADMIN_TOKEN>`', paths: adminPaths },
  { tag: 'operations', description: 'Health, metrics, discovery, this document and the web page', paths: operationPaths }
]

const SECURITY: Record<OperationSpec['auth'], unknown[]> = {
  none: [],
  user: [{ userToken: [] }],
  admin: [{ adminToken: [] }],
  signed: [{ userToken: [] }, { signedUrl: [] }]
}

type Document = Record<string, unknown> & { paths: Record<string, Record<string, Record<string, unknown>>> }

const ERROR_STATUSES: readonly StatusCode[] = [400, 401, 403, 404, 409, 410, 413, 429, 500, 503]

const RETRY_AFTER = {
  description: 'Whole seconds until the refusal ends, when that is known: 1 past the per-user request limit, the rest of the ' +
    'window for a login lock-out. Absent on refusals without a fixed end (quotas, pending requests, uploads in progress).',
  required: false,
  schema: { type: 'integer', minimum: 1 }
}

function standardErrors (spec: OperationSpec, method: HttpMethod): number[] {
  const codes = new Set<number>([500, 503, ...(spec.errors ?? [])])
  if (spec.auth === 'user' || spec.auth === 'signed') codes.add(401).add(429)
  if (spec.auth === 'admin') codes.add(401).add(403)
  if (method === 'post') codes.add(400).add(413)
  if (spec.params !== undefined) codes.add(400)
  return [...codes].sort((a, b) => a - b)
}

function envelope (data: JsonSchema): JsonSchema {
  return {
    type: 'object',
    properties: { code: { const: 200 }, message: { const: 'success' }, data },
    required: ['code', 'message', 'data'],
    additionalProperties: false
  }
}

function operation (spec: OperationSpec, tag: string, path: string, method: HttpMethod): Record<string, unknown> {
  const inPath = [...path.matchAll(/\{(\w+)\}/g)].map(m => m[1])
  const named = Object.keys(spec.params ?? {})
  if (inPath.join() !== named.join()) throw new Error(`OpenAPI source: ${method.toUpperCase()} ${path} documents path parameters [${named.join()}], the path has [${inPath.join()}]`)
  if (spec.raw === undefined && spec.data === undefined) throw new Error(`OpenAPI source: ${method.toUpperCase()} ${path} needs data (the envelope's) or raw`)
  const op: Record<string, unknown> = { operationId: spec.operationId, summary: spec.summary, tags: [tag] }
  if (spec.description !== undefined) op.description = spec.description
  op.security = SECURITY[spec.auth]
  const parameters: Record<string, unknown>[] = named.map(name => {
    const { description, ...schema } = spec.params![name]!
    return { name, in: 'path', required: true, description, schema }
  })
  if (spec.query !== undefined) {
    const required = spec.query.required as string[]
    for (const [name, { description, ...schema }] of Object.entries(spec.query.properties as Record<string, JsonSchema>)) {
      parameters.push({ name, in: 'query', required: required.includes(name), description, schema })
    }
  }
  if (parameters.length > 0) op.parameters = parameters
  if (spec.body !== undefined) {
    const required = (spec.body.required as string[] | undefined ?? []).length > 0
    op.requestBody = { required, content: { 'application/json': { schema: spec.body } } }
  }
  if (spec.upload !== undefined) {
    op.requestBody = { required: true, description: spec.upload.description, content: { [spec.upload.contentType]: { schema: { type: 'string', format: 'binary' } } } }
  }
  const responses: Record<string, unknown> = {}
  if (spec.raw !== undefined) {
    const { contentType, description, schema } = spec.raw
    for (const status of spec.raw.statuses) {
      responses[String(status)] = contentType === '' ? { description } : { description, content: { [contentType]: { schema: schema ?? {} } } }
    }
    if (spec.errors !== undefined) for (const code of standardErrors(spec, method)) responses[String(code)] = { $ref: `#/components/responses/Error${code}` }
  } else {
    responses['200'] = { description: 'success', content: { 'application/json': { schema: envelope(spec.data!) } } }
    for (const code of standardErrors(spec, method)) responses[String(code)] = { $ref: `#/components/responses/Error${code}` }
  }
  op.responses = responses
  return op
}

/** The document as written in the area files (whatever the server registered). */
export function openApiSource (): Document {
  const paths: Document['paths'] = {}
  const operationIds = new Set<string>()
  for (const area of AREAS) {
    for (const [path, methods] of Object.entries(area.paths)) {
      for (const [method, spec] of Object.entries(methods) as Array<[HttpMethod, OperationSpec]>) {
        if (operationIds.has(spec.operationId)) throw new Error(`OpenAPI source: operationId ${spec.operationId} is used twice`)
        operationIds.add(spec.operationId)
        paths[path] ??= {}
        if (paths[path][method] !== undefined) throw new Error(`OpenAPI source: ${method.toUpperCase()} ${path} is documented twice`)
        paths[path][method] = operation(spec, area.tag, path, method)
      }
    }
  }
  const responses: Record<string, unknown> = {}
  for (const code of ERROR_STATUSES) {
    responses[`Error${code}`] = {
      description: reasonPhrase(code),
      ...(code === 429 ? { headers: { 'Retry-After': RETRY_AFTER } } : {}),
      content: { 'application/json': { schema: { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { code: { const: code } } }] } } }
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'implus HTTP API',
      version: SERVER_VERSION,
      description: 'JSON in and out. Every answer of the API is the envelope `{"code", "message", "data"}`; on a refusal `code` is the HTTP status and `message` says why. ' +
        '64-bit ids are strings, seqs are numbers, times ISO 8601. The socket protocol (WebSocket, TCP, UDP frames) and the rules behind each endpoint are in docs/protocol.md.'
    },
    // Relative: the document describes the server it is served by, whatever its address.
    servers: [{ url: '/' }],
    tags: AREAS.map(a => ({ name: a.tag, description: a.description })),
    paths,
    components: {
      schemas: SHARED_SCHEMAS,
      responses,
      securitySchemes: {
        userToken: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'the token from POST /users/login' },
        adminToken: { type: 'http', scheme: 'bearer', description: 'IMPLUS_ADMIN_TOKEN (the admin API is off without it: 403)' },
        signedUrl: { type: 'apiKey', in: 'query', name: 'sig', description: 'a URL from POST /api/files/{fileId}/url: `?u={userId}&exp={unix seconds}&sig={signature}`, for one file and one user, until exp' }
      }
    }
  }
}

export interface ServedDocument {
  readonly document: Document
  /** Registered routes the source does not document (served as marked stubs). */
  readonly undocumented: RouteKey[]
  /** Documented routes the server did not register (left out of the served document). */
  readonly unregistered: RouteKey[]
}

/** The document as served: the source, restricted to the routes registered, plus stubs for undocumented ones. */
export function servedDocument (registered: readonly RouteKey[]): ServedDocument {
  const document = openApiSource()
  const live = new Set(registered.map(r => `${r.method} ${r.path}`))
  const unregistered: RouteKey[] = []
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const method of Object.keys(methods) as HttpMethod[]) {
      if (live.has(`${method} ${path}`)) continue
      unregistered.push({ method, path })
      delete methods[method]
    }
    if (Object.keys(methods).length === 0) delete document.paths[path]
  }
  const undocumented: RouteKey[] = []
  for (const route of registered) {
    const methods = document.paths[route.path] ??= {}
    if (methods[route.method] !== undefined) continue
    undocumented.push(route)
    methods[route.method] = {
      summary: 'not documented: add it to src/http/openapi/',
      'x-implus-undocumented': true,
      responses: { default: { description: 'not documented' } }
    }
  }
  return { document, undocumented, unregistered }
}
