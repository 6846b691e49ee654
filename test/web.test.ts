// The web chat page (web/, served from dist/web by src/http/static.ts) in headless Chromium: two pages log
// in as two users, exchange messages live over WebSocket, watch unread counts change, and create a group;
// then send an image and a file with the attach button (XMLHttpRequest upload with progress), shown as a
// thumbnail that opens the full image and as a download; a voice message plays in an <audio> player.
// Leaves screenshots in test-artifacts/.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { CHROMIUM, CHROMIUM_ARGS as ARGS, ensureChromium } from './helpers/chromium.js'
import { api, registerAndLogin, startServer, DEFAULT_PASSWORD, ROOT, type TestServer } from './helpers/server.js'
import { photo } from './helpers/media-suite.js'

const MAX_UPLOAD = 2 * 1024 * 1024
let server: TestServer
let browser: Browser

t.before(async () => {
  ensureChromium()
  server = await startServer({ env: { IMPLUS_PRIVATE_CHAT: 'open', IMPLUS_MAX_UPLOAD_BYTES: String(MAX_UPLOAD) } })
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
})
t.teardown(async () => {
  await browser?.close()
  await server?.stop()
})

function privateId (a: string, b: string): string {
  return BigInt(a) < BigInt(b) ? `private_${a}_${b}` : `private_${b}_${a}`
}

async function openPage (userId: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 680 } })
  const page = await context.newPage()
  page.on('pageerror', error => { throw error })
  await page.goto(server.httpUrl + '/')
  await page.fill('#login-user', userId)
  await page.fill('#login-password', DEFAULT_PASSWORD)
  await page.click('#login-button')
  await page.waitForSelector('#app:not(.hidden)', { timeout: 15_000 })
  await page.waitForSelector('#status.online')
  return page
}

/** The unread badge of a conversation in the list, as shown ('' when hidden at zero). */
function unreadOf (page: Page, conversationId: string): Promise<string> {
  return page.$eval(`.conv[data-id="${conversationId}"] .unread`, el => el.classList.contains('zero') ? '' : el.textContent ?? '').catch(() => 'absent')
}

async function waitUnread (page: Page, conversationId: string, want: string): Promise<void> {
  await page.waitForFunction(([id, value]) => {
    const el = document.querySelector(`.conv[data-id="${id}"] .unread`)
    if (el === null) return false
    return (el.classList.contains('zero') ? '' : el.textContent) === value
  }, [conversationId, want] as const, { timeout: 10_000 })
}

async function send (page: Page, text: string): Promise<void> {
  await page.fill('#composer-input', text)
  await page.click('#send-button')
}

async function waitMessage (page: Page, text: string): Promise<void> {
  await page.waitForFunction(value => [...document.querySelectorAll('#messages .msg')].some(m => m.textContent?.includes(value)), text, { timeout: 10_000 })
}

/** A WAV file: 16-bit mono PCM, a quiet 440 Hz tone. */
function wav (seconds: number, rate = 8000): Buffer {
  const samples = seconds * rate
  const bytes = Buffer.alloc(44 + samples * 2)
  bytes.write('RIFF', 0)
  bytes.writeUInt32LE(36 + samples * 2, 4)
  bytes.write('WAVEfmt ', 8)
  bytes.writeUInt32LE(16, 16)
  bytes.writeUInt16LE(1, 20) // PCM
  bytes.writeUInt16LE(1, 22) // mono
  bytes.writeUInt32LE(rate, 24)
  bytes.writeUInt32LE(rate * 2, 28)
  bytes.writeUInt16LE(2, 32)
  bytes.writeUInt16LE(16, 34)
  bytes.write('data', 36)
  bytes.writeUInt32LE(samples * 2, 40)
  for (let i = 0; i < samples; i++) bytes.writeInt16LE(Math.round(Math.sin(i * 2 * Math.PI * 440 / rate) * 3000), 44 + i * 2)
  return bytes
}

/** Alice and Bob, each logged in in a page; Alice has their private conversation open. */
async function twoPagesChatting (): Promise<{ alice: { userId: string, token: string }, bob: { userId: string, token: string }, cid: string, pageA: Page, pageB: Page }> {
  const [alice, bob] = await Promise.all([registerAndLogin(server), registerAndLogin(server)])
  const cid = privateId(alice.userId, bob.userId)
  const pageA = await openPage(alice.userId)
  const pageB = await openPage(bob.userId)
  await pageA.fill('#new-chat-user', bob.userId)
  await pageA.click('#new-chat-button')
  await pageA.waitForSelector(`.conv.active[data-id="${cid}"]`)
  return { alice, bob, cid, pageA, pageB }
}

t.test('index and script are served with their content types', async t => {
  for (const path of ['/', '/app']) {
    const res = await fetch(server.httpUrl + path)
    t.equal(res.status, 200, `GET ${path}`)
    t.match(res.headers.get('content-type'), /^text\/html/, `${path} is HTML`)
    t.match(await res.text(), /<script type="module" src="\/app.js">/, 'the page loads app.js')
  }
  const js = await fetch(server.httpUrl + '/app.js')
  t.equal(js.status, 200, 'GET /app.js')
  t.match(js.headers.get('content-type'), /^text\/javascript/, 'app.js is JavaScript')
  const api404 = await fetch(server.httpUrl + '/api/nothing-here')
  t.equal(api404.status, 404, 'other paths still reach the API\'s 404')
})

t.test('two users chat in two pages, unread counts follow, a group is created', async t => {
  t.setTimeout(120_000)
  const { bob, cid, pageA, pageB } = await twoPagesChatting()
  await send(pageA, 'Hi Bob! Lunch at noon?')
  await waitMessage(pageA, 'Hi Bob! Lunch at noon?')
  t.pass('the sender sees its message')

  await pageB.waitForSelector(`.conv[data-id="${cid}"]`, { timeout: 10_000 })
  await waitUnread(pageB, cid, '1')
  t.pass('the receiver\'s list shows the conversation with 1 unread')
  await send(pageA, 'I found a new ramen place.')
  await waitUnread(pageB, cid, '2')
  t.pass('a second message: 2 unread')

  await pageB.click(`.conv[data-id="${cid}"]`)
  await waitMessage(pageB, 'Hi Bob! Lunch at noon?')
  await waitMessage(pageB, 'I found a new ramen place.')
  await waitUnread(pageB, cid, '')
  t.pass('opening the conversation shows both messages and clears the badge')
  const texts = await pageB.$$eval('#messages .msg', els => els.map(el => el.childNodes[1]?.textContent))
  t.same(texts, ['Hi Bob! Lunch at noon?', 'I found a new ramen place.'], 'in order')

  await send(pageB, 'Sounds great, see you there 🍜')
  await waitMessage(pageA, 'Sounds great, see you there 🍜')
  t.pass('the reply appears live in the other page')
  t.equal(await unreadOf(pageA, cid), '', 'the open conversation stays read')

  // The read receipt reached the server: Bob's count there is 0 too.
  let serverUnread = -1
  for (let i = 0; i < 20 && serverUnread !== 0; i++) {
    const res = await api(server, 'POST', '/api/conversations/sync', {}, bob.token)
    serverUnread = res.body.data.conversations.find((c: { conversationId: string }) => c.conversationId === cid)?.unreadCount ?? -1
    if (serverUnread !== 0) await new Promise(resolve => setTimeout(resolve, 100))
  }
  t.equal(serverUnread, 0, 'the server counts nothing unread for Bob')

  // A group, created from the page.
  await pageA.click('#group-tools summary')
  await pageA.fill('#group-name', 'Ramen club')
  await pageA.fill('#group-members', bob.userId)
  await pageA.click('#group-create')
  const group = await pageA.waitForFunction(() => document.querySelector('.conv.active')?.getAttribute('data-id')?.startsWith('group_') === true
    ? document.querySelector('.conv.active')?.getAttribute('data-id')
    : false, undefined, { timeout: 10_000 }).then(h => h.jsonValue() as Promise<string>)
  t.match(group, /^group_\d+$/, 'the new group is open in the creator\'s page')
  await send(pageA, 'Welcome to the ramen club!')
  await waitMessage(pageA, 'Welcome to the ramen club!')
  await pageB.waitForSelector(`.conv[data-id="${group}"]`, { timeout: 10_000 })
  await pageB.click(`.conv[data-id="${group}"]`)
  await waitMessage(pageB, 'Welcome to the ramen club!')
  t.pass('the group message reached the other member')
  await send(pageB, 'Thanks! Count me in.')
  await waitMessage(pageA, 'Thanks! Count me in.')

  await pageA.click(`.conv[data-id="${cid}"]`)
  await waitMessage(pageA, 'Sounds great, see you there 🍜')
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true })
  await pageA.screenshot({ path: join(ROOT, 'test-artifacts', 'web-chat.png') })
})

t.test('the attach button sends an image and a file: a thumbnail first, the full image on a click, a download', async t => {
  t.setTimeout(120_000)
  const { bob, cid, pageA, pageB } = await twoPagesChatting()

  // Every value the progress bar takes (the attribute reflects it).
  await pageA.evaluate(() => {
    const bar = document.getElementById('upload-progress')!
    const seen: number[] = (window as unknown as { progress: number[] }).progress = []
    new MutationObserver(() => seen.push(Number(bar.getAttribute('value')))).observe(bar, { attributes: true, attributeFilter: ['value'] })
  })
  const png = await photo(640, 480)
  const report = randomBytes(700_000)
  const chooser = pageA.waitForEvent('filechooser')
  await pageA.click('#attach-button')
  await (await chooser).setFiles([
    { name: 'harbour.png', mimeType: 'image/png', buffer: png },
    { name: 'report.bin', mimeType: 'application/octet-stream', buffer: report }
  ])
  await pageA.waitForSelector('#messages .msg.mine img.media-image', { timeout: 15_000 })
  await pageA.waitForSelector('#messages .msg.mine a.media-file', { timeout: 15_000 })
  await pageA.waitForSelector('#upload.hidden', { state: 'attached' })
  const progress = await pageA.evaluate(() => (window as unknown as { progress: number[] }).progress)
  t.ok(progress.some(v => v > 0 && v <= 1) && Math.max(...progress) === 1, `the progress bar moved and reached the end: ${progress.map(v => v.toFixed(2)).join(' ')}`)
  t.equal(await pageA.textContent('#tool-error'), '', 'no error shown')

  await pageB.waitForSelector(`.conv[data-id="${cid}"]`, { timeout: 10_000 })
  await pageB.click(`.conv[data-id="${cid}"]`)
  const img = await pageB.waitForSelector('#messages img.media-image', { timeout: 10_000 })
  await pageB.waitForFunction(() => {
    const i = document.querySelector<HTMLImageElement>('#messages img.media-image')
    return i !== null && i.complete && i.naturalWidth > 0
  }, undefined, { timeout: 10_000 })
  t.same(await img.evaluate(i => [(i as HTMLImageElement).naturalWidth, (i as HTMLImageElement).naturalHeight, i.getAttribute('data-shown')]), [320, 240, 'thumbnail'],
    'the receiver sees the 320×240 thumbnail inline first')
  t.match(await img.getAttribute('src'), /\/api\/files\/\d+\?u=\d+&exp=\d+&sig=/, 'through a signed URL (an <img> sends no token)')
  await img.click()
  await pageB.waitForFunction(() => document.querySelector<HTMLImageElement>('#messages img.media-image')?.naturalWidth === 640, undefined, { timeout: 10_000 })
  t.pass('a click shows the full 640×480 image')

  const download = pageB.waitForEvent('download')
  await pageB.click('#messages a.media-file')
  const file = await download
  t.equal(file.suggestedFilename(), 'report.bin', 'the file downloads under its name')
  t.same(readFileSync((await file.path())!), report, 'with the bytes that were sent')
  t.match(await pageB.textContent(`.conv[data-id="${cid}"] .preview`), /^\[file\] report\.bin$/, 'the list shows the last message as a file, not its JSON')
  // A fresh page has only the server's conversation list (no message loaded): the preview comes from its lastMsgContentType.
  const freshB = await openPage(bob.userId)
  await freshB.waitForFunction(id => (document.querySelector(`.conv[data-id="${id}"] .preview`)?.textContent ?? '') !== '', cid, { timeout: 10_000 })
  t.match(await freshB.textContent(`.conv[data-id="${cid}"] .preview`), /^\[file\] report\.bin$/, 'a fresh page previews it as a file too, from the conversation list alone')
  await freshB.context().close()
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true })
  await pageB.screenshot({ path: join(ROOT, 'test-artifacts', 'web-media.png') })

  const tooBig = Buffer.alloc(MAX_UPLOAD + 1)
  const again = pageA.waitForEvent('filechooser')
  await pageA.click('#attach-button')
  await (await again).setFiles([{ name: 'huge.bin', mimeType: 'application/octet-stream', buffer: tooBig }])
  await pageA.waitForFunction(() => /413/.test(document.getElementById('tool-error')?.textContent ?? ''), undefined, { timeout: 15_000 })
  t.match(await pageA.textContent('#tool-error'), /IMPLUS_MAX_UPLOAD_BYTES.*\(413\)/, 'a file over the limit: the server\'s reason is shown')
  t.equal(await pageA.locator('#messages .msg.mine a.media-file').count(), 1, 'and nothing was sent')
})

t.test('a voice message plays in an <audio> player on its signed URL, with its download link kept', async t => {
  t.setTimeout(120_000)
  const { cid, pageA, pageB } = await twoPagesChatting()
  const voice = wav(2)
  const chooser = pageA.waitForEvent('filechooser')
  await pageA.click('#attach-button')
  await (await chooser).setFiles([{ name: 'hello.wav', mimeType: 'audio/wav', buffer: voice }])
  await pageA.waitForSelector('#messages .msg.mine audio.media-audio', { timeout: 15_000 })

  await pageB.waitForFunction(id => (document.querySelector(`.conv[data-id="${id}"] .preview`)?.textContent ?? '') !== '', cid, { timeout: 10_000 })
  t.match(await pageB.textContent(`.conv[data-id="${cid}"] .preview`), /^\[voice\] hello\.wav$/, 'the list shows it as a voice message')
  await pageB.click(`.conv[data-id="${cid}"]`)
  await pageB.waitForFunction(() => document.querySelector<HTMLAudioElement>('#messages audio.media-audio')?.getAttribute('src') != null, undefined, { timeout: 10_000 })
  const audio = pageB.locator('#messages audio.media-audio')
  t.same(await audio.evaluate(a => [(a as HTMLAudioElement).controls, a.closest('.media-player')?.querySelector('a.media-file .media-name')?.textContent]), [true, 'hello.wav'],
    'an audio player with controls, the download link beside it')
  const src = (await audio.getAttribute('src'))!
  t.match(src, /\/api\/files\/\d+\?u=\d+&exp=\d+&sig=/, 'on a signed URL (a media element sends no token)')
  const answer = await fetch(src)
  t.same([answer.status, answer.headers.get('content-type'), Buffer.from(await answer.arrayBuffer()).equals(voice)], [200, 'audio/wav', true], 'the URL answers 200 with the voice message\'s bytes')
  await pageB.waitForFunction(() => (document.querySelector<HTMLAudioElement>('#messages audio.media-audio')?.readyState ?? 0) >= 1, undefined, { timeout: 15_000 })
  const duration = await audio.evaluate(a => (a as HTMLAudioElement).duration)
  t.ok(Math.abs(duration - 2) < 0.1, `Chromium read it as a 2 s recording (${duration} s)`)
  mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true })
  await pageB.screenshot({ path: join(ROOT, 'test-artifacts', 'web-voice.png') })
})
