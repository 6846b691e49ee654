// TLS terminated by the server itself (IMPLUS_TLS_CERT / IMPLUS_TLS_KEY): the PEM files are read and checked
// once at start, so a wrong path, a key that does not match or a bad passphrase stops the server with one
// line instead of failing each handshake later.
import { readFileSync } from 'node:fs'
import { createSecureContext, type TlsOptions } from 'node:tls'
import { ConfigError, type TlsConfig } from '../config.js'
import { uws, type TemplatedApp } from './uws.js'

export interface TlsMaterial {
  readonly files: TlsConfig
  /** For node:tls (the TCP port). */
  readonly options: TlsOptions
}

function readPem (path: string, name: string): Buffer {
  try {
    return readFileSync(path)
  } catch (err) {
    throw new ConfigError(`${name}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`)
  }
}

export function loadTls (files: TlsConfig): TlsMaterial {
  const options: TlsOptions = {
    cert: readPem(files.certFile, 'IMPLUS_TLS_CERT'),
    key: readPem(files.keyFile, 'IMPLUS_TLS_KEY'),
    passphrase: files.passphrase ?? undefined,
    minVersion: 'TLSv1.2'
  }
  try {
    createSecureContext(options)
  } catch (err) {
    throw new ConfigError(`IMPLUS_TLS_CERT / IMPLUS_TLS_KEY: not a usable certificate and key (${(err as Error).message})`)
  }
  return { files, options }
}

/** A uWS app: the SSL app (HTTPS, WSS) when TLS is on. */
export function uwsApp (tls: TlsMaterial | null): TemplatedApp {
  if (tls === null) return uws.App()
  return uws.SSLApp({
    cert_file_name: tls.files.certFile,
    key_file_name: tls.files.keyFile,
    ...(tls.files.passphrase === null ? {} : { passphrase: tls.files.passphrase })
  })
}
