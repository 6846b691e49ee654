// implus loads uWebSockets.js's compiled addon directly: never the package's pure-JavaScript fallback,
// which its entry point picks when UWS_USE_FALLBACK is set or the binary fails to load.

import { createRequire } from 'node:module'
import t from 'tap'

// Set before src/io/uws.ts is evaluated: the package's own entry point would now load its fallback.
process.env.UWS_USE_FALLBACK = '1'
const { uws, isNativeUws, isNativeModule } = await import('../../src/io/uws.js')

t.test('isNativeUws() is true: App is compiled code', async t => {
  t.equal(isNativeUws(), true, 'isNativeUws()')
  t.match(Function.prototype.toString.call(uws.App), /\[native code\]/, 'App is a native function')
  t.type(uws.us_listen_socket_close, 'function', 'the native module\'s helpers are there')
})

t.test('the loaded module is the binary, not the package entry point', async t => {
  const require = createRequire(import.meta.url)
  const binary = require(`uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`)
  t.equal(uws, binary, 'the same module object as the .node binary')
})

t.test('isNativeUws() tells the fallback apart', async t => {
  // The package's pure-JavaScript implementation, which the entry point returns with UWS_USE_FALLBACK=1:
  // its App must not pass the same check, or the check (and the start log's uwsNative) would mean nothing.
  const require = createRequire(import.meta.url)
  const fallback = require('uWebSockets.js/dist/index.js') as { App: unknown }
  t.type(fallback.App, 'function', 'the fallback has an App')
  t.equal(isNativeModule(fallback), false, 'the check says the fallback is not native')
})

t.test('the server answers HTTP through the native App', async t => {
  const app = uws.App()
  app.get('/ping', res => { res.end('pong') })
  const socket = await new Promise<unknown>((resolve, reject) => {
    app.listen('127.0.0.1', 0, s => s === false ? reject(new Error('cannot listen')) : resolve(s))
  })
  t.teardown(() => uws.us_listen_socket_close(socket as never))
  const port = uws.us_socket_local_port(socket as never)
  const res = await fetch(`http://127.0.0.1:${port}/ping`)
  t.equal(await res.text(), 'pong')
})
