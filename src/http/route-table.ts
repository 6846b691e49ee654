// Every route registered on the HTTP app, by whichever module, recorded as it is registered: the OpenAPI
// document is checked against what really answers (src/http/openapi/document.ts), not against a list
// someone has to remember to update.
import type { TemplatedApp } from '../io/uws.js'

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head' | 'options'

export interface RouteKey {
  readonly method: HttpMethod
  /** OpenAPI form: `/users/info/{userId}` for uWS's `/users/info/:userId`. */
  readonly path: string
}

/** uWS's registration methods and the HTTP method each stands for (`any` is the catch-all, not an endpoint). */
const REGISTRATIONS: Record<string, HttpMethod> = { get: 'get', post: 'post', put: 'put', patch: 'patch', del: 'delete', head: 'head', options: 'options' }

/** `/a/:b/c` → `/a/{b}/c`. */
export function openApiPath (pattern: string): string {
  return pattern.replace(/:([A-Za-z_]\w*)/g, '{$1}')
}

/** The app, wrapped so that each registration is also recorded in `routes`. */
export function recordRoutes (app: TemplatedApp): { app: TemplatedApp, routes: RouteKey[] } {
  const routes: RouteKey[] = []
  const recording: TemplatedApp = new Proxy(app, {
    get (target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver)
      if (typeof value !== 'function') return value
      const method = typeof property === 'string' ? REGISTRATIONS[property] : undefined
      return (...args: unknown[]) => {
        if (method !== undefined && typeof args[0] === 'string') routes.push({ method, path: openApiPath(args[0]) })
        const result: unknown = (value as (...a: unknown[]) => unknown).apply(target, args)
        // Registration methods return the app for chaining: keep chaining through the recorder.
        return result === target ? recording : result
      }
    }
  })
  return { app: recording, routes }
}
