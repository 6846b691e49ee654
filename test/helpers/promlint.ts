// A Prometheus exposition linter for tests, standing in for `promtool check metrics` (not installable
// offline). The text is parsed by parse-prometheus-text-format (the prom2json-compatible parser); the
// rules are those of promtool's promlint (client_golang/prometheus/testutil/promlint) plus the format's
// own: one HELP and TYPE per family before its samples, one line per series, histograms cumulative.
import parsePrometheusTextFormat from 'parse-prometheus-text-format'

export interface Problem {
  readonly metric: string
  readonly text: string
}

export interface ParsedFamily {
  readonly name: string
  readonly help: string
  readonly type: string
  readonly metrics: ReadonlyArray<Record<string, unknown>>
}

const NON_BASE_UNITS: Record<string, string> = {
  nanoseconds: 'seconds',
  microseconds: 'seconds',
  milliseconds: 'seconds',
  minutes: 'seconds',
  hours: 'seconds',
  days: 'seconds',
  weeks: 'seconds',
  months: 'seconds',
  years: 'seconds',
  bits: 'bytes',
  kilobytes: 'bytes',
  megabytes: 'bytes',
  gigabytes: 'bytes',
  terabytes: 'bytes',
  petabytes: 'bytes',
  kibibytes: 'bytes',
  mebibytes: 'bytes',
  gibibytes: 'bytes',
  fahrenheit: 'celsius',
  kilometers: 'meters',
  millimeters: 'meters',
  kilograms: 'grams',
  percent: 'ratio'
}
const UNIT_ABBREVIATIONS = ['s', 'ms', 'us', 'ns', 'sec', 'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'm', 'h', 'd']
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped']
const CAMEL = /[a-z][A-Z]/
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)(\s+-?\d+)?$/

/** promlint's rules for one family (name, help, type, label names). */
function lintFamily (name: string, help: string, type: string, labelNames: Set<string>): string[] {
  const issues: string[] = []
  if (help.trim() === '') issues.push('no help text')
  const parts = name.split('_')
  for (const part of parts) {
    const base = NON_BASE_UNITS[part]
    if (base !== undefined && base !== part) issues.push(`use base unit "${base}" instead of "${part}"`)
    if (UNIT_ABBREVIATIONS.includes(part)) issues.push(`metric names should not contain abbreviated units ("${part}")`)
    if (TYPES.includes(part)) issues.push(`metric name should not include type '${part}'`)
  }
  if (type === 'counter' && !name.endsWith('_total')) issues.push('counter metrics should have "_total" suffix')
  if (type !== 'counter' && name.endsWith('_total')) issues.push('non-counter metrics should not have "_total" suffix')
  if (type !== 'histogram' && type !== 'summary') {
    if (/_(count|sum)$/.test(name)) issues.push('non-histogram and non-summary metrics should not have "_count" or "_sum" suffix')
    if (labelNames.has('quantile')) issues.push('non-summary metrics should not have "quantile" label')
  }
  if (type !== 'histogram') {
    if (name.endsWith('_bucket')) issues.push('non-histogram metrics should not have "_bucket" suffix')
    if (labelNames.has('le')) issues.push('non-histogram metrics should not have "le" label')
  }
  if (name.includes(':')) issues.push('metric names should not contain \':\'')
  if (CAMEL.test(name)) issues.push('metric names should be written in \'snake_case\' not \'camelCase\'')
  for (const label of labelNames) {
    if (CAMEL.test(label)) issues.push(`label names should be written in 'snake_case' not 'camelCase' (${label})`)
    if (!LABEL.test(label)) issues.push(`invalid label name ${label}`)
  }
  if (!NAME.test(name)) issues.push('invalid metric name')
  return issues
}

/** The family a sample line belongs to: a histogram's _bucket/_sum/_count lines belong to the histogram. */
function familyOf (sample: string, types: Map<string, string>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = sample.slice(0, -suffix.length)
    if (sample.endsWith(suffix) && (types.get(base) === 'histogram' || types.get(base) === 'summary')) return base
  }
  return sample
}

/** Parses and lints an exposition; returns the parsed families and every problem found (none: it passes). */
export function lintMetrics (text: string): { families: ParsedFamily[], problems: Problem[] } {
  const problems: Problem[] = []
  const families = parsePrometheusTextFormat(text) as ParsedFamily[]
  const types = new Map<string, string>()
  const helps = new Map<string, string>()
  const labelsOf = new Map<string, Set<string>>()
  const seenSeries = new Set<string>()
  const closed = new Set<string>()
  let current = ''
  const histograms = new Map<string, Map<string, Array<{ le: number, value: number }>>>()
  const counts = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '') continue
    const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line)
    if (meta !== null) {
      const [, kind, name, rest = ''] = meta
      const map = kind === 'HELP' ? helps : types
      if (map.has(name)) problems.push({ metric: name, text: `second ${kind} line` })
      if (closed.has(name) || (kind === 'TYPE' && labelsOf.has(name))) problems.push({ metric: name, text: `${kind} after its samples` })
      if (kind === 'TYPE' && !TYPES.includes(rest)) problems.push({ metric: name, text: `unknown type ${rest}` })
      map.set(name, rest)
      continue
    }
    if (line.startsWith('#')) continue
    const sample = SAMPLE.exec(line)
    if (sample === null) {
      problems.push({ metric: '?', text: `unparsable line: ${line}` })
      continue
    }
    const [, sampleName, labelText = '', value] = sample
    const family = familyOf(sampleName, types)
    if (family !== current) {
      if (closed.has(family)) problems.push({ metric: family, text: 'samples not grouped together' })
      if (current !== '') closed.add(current)
      current = family
    }
    if (!types.has(family)) problems.push({ metric: family, text: 'no TYPE line before its samples' })
    if (seenSeries.has(sampleName + labelText)) problems.push({ metric: family, text: `duplicate series ${sampleName}${labelText}` })
    seenSeries.add(sampleName + labelText)
    if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$|^[+-]?Inf$|^NaN$/.test(value)) problems.push({ metric: family, text: `bad value ${value}` })
    const labels = new Map<string, string>()
    for (const [, k, v] of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels.set(k, v)
    const names = labelsOf.get(family) ?? new Set<string>()
    for (const k of labels.keys()) if (!(k === 'le' && sampleName.endsWith('_bucket'))) names.add(k)
    labelsOf.set(family, names)
    if (types.get(family) === 'histogram') {
      labels.delete('le')
      const key = [...labels].map(([k, v]) => `${k}=${v}`).join(',')
      if (sampleName.endsWith('_bucket')) {
        const le = /le="([^"]*)"/.exec(labelText)?.[1]
        if (le === undefined) problems.push({ metric: family, text: 'bucket without le' })
        const byLabels = histograms.get(family) ?? new Map()
        histograms.set(family, byLabels)
        const buckets = byLabels.get(key) ?? []
        byLabels.set(key, buckets)
        buckets.push({ le: le === '+Inf' ? Infinity : Number(le), value: Number(value) })
      } else if (sampleName.endsWith('_count')) counts.set(`${family}|${key}`, Number(value))
    }
  }
  for (const [name, type] of types) {
    problems.push(...lintFamily(name, helps.get(name) ?? '', type, labelsOf.get(name) ?? new Set()).map(text => ({ metric: name, text })))
  }
  for (const [family, byLabels] of histograms) {
    for (const [key, buckets] of byLabels) {
      for (let i = 1; i < buckets.length; i++) {
        if (!(buckets[i].le > buckets[i - 1].le)) problems.push({ metric: family, text: `{${key}} le not ascending` })
        if (buckets[i].value < buckets[i - 1].value) problems.push({ metric: family, text: `{${key}} buckets not cumulative` })
      }
      const last = buckets.at(-1)
      if (last?.le !== Infinity) problems.push({ metric: family, text: `{${key}} no +Inf bucket` })
      else if (counts.get(`${family}|${key}`) !== last.value) problems.push({ metric: family, text: `{${key}} _count differs from the +Inf bucket` })
    }
  }
  return { families, problems }
}
