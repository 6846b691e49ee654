// Debian's Chromium for the browser tests (driven by playwright-core), installed on first use.
import { execFileSync } from 'node:child_process'
import { chromium } from 'playwright-core'
import { existsSync } from 'node:fs'

export const CHROMIUM = '/usr/bin/chromium'
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Installs Debian's chromium when it is missing; throws saying why when that cannot be done. */
export function ensureChromium (): void {
  if (existsSync(CHROMIUM)) return
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  try {
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env })
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env })
  } catch (error) {
    throw new Error(`${CHROMIUM} is missing and \`apt-get install -y chromium\` failed (${(error as Error).message}); install Chromium there to run the web page test`)
  }
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get installed chromium, but ${CHROMIUM} still does not exist`)
}

/**
 * Opens the web page at `pageUrl` in a new headless Chromium, logs in and waits until it shows online;
 * resolves with the URLs of the WebSockets the page opened. Certificate errors are accepted (the tests'
 * self-signed certificates are not the browser's). The browser closes when `t` ends.
 */
export async function webPageOnline (t: { teardown: (fn: () => Promise<void>) => void }, pageUrl: string, userId: string, password: string): Promise<string[]> {
  ensureChromium()
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true })
  t.teardown(() => browser.close())
  const context = await browser.newContext({ ignoreHTTPSErrors: true })
  const page = await context.newPage()
  const sockets: string[] = []
  page.on('websocket', ws => sockets.push(ws.url()))
  await page.goto(pageUrl)
  await page.fill('#login-user', userId)
  await page.fill('#login-password', password)
  await page.click('#login-button')
  await page.waitForSelector('#status.online', { timeout: 15_000 })
  return sockets
}
