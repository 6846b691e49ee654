// Media message documents (src/media/content.ts) and file names (src/media/names.ts): parsed once,
// checked against the stored file, completed with the server's facts.
import t from 'tap'
import { completeDocument, isRefusal, mediaPreviewText, mediaRefusal, parseMediaDocument, referencedFiles, type MediaDocument, type StoredFile } from '../../src/media/content.js'
import { contentDisposition, fileNameProblem } from '../../src/media/names.js'

const IMAGE = 2
const FILE = 3
const VOICE = 4
const VIDEO = 5

const photo: StoredFile = { fileId: '11', ownerId: '1001', name: 'beach.jpg', size: 5000, mimeType: 'image/jpeg', width: 1200, height: 800, thumbnailId: '12' }
const pdf: StoredFile = { fileId: '21', ownerId: '1001', name: 'report.pdf', size: 9000, mimeType: 'application/pdf', width: null, height: null, thumbnailId: null }
const clip: StoredFile = { fileId: '31', ownerId: '1001', name: 'clip.mp4', size: 90000, mimeType: 'video/mp4', width: null, height: null, thumbnailId: null }
const song: StoredFile = { fileId: '41', ownerId: '1001', name: 'note.ogg', size: 900, mimeType: 'audio/ogg', width: null, height: null, thumbnailId: null }
const poster: StoredFile = { fileId: '51', ownerId: '1001', name: 'poster.png', size: 700, mimeType: 'image/png', width: 64, height: 36, thumbnailId: null }
const theirs: StoredFile = { ...photo, fileId: '61', ownerId: '2002' }
const files = new Map([photo, pdf, clip, song, poster, theirs].map(f => [f.fileId, f]))

function doc (content: unknown, type: number): MediaDocument {
  const parsed = parseMediaDocument(typeof content === 'string' ? content : JSON.stringify(content), type)
  if (isRefusal(parsed)) throw new Error(`unexpected refusal: ${parsed.reason}`)
  return parsed
}

function refusalOf (content: unknown, type: number): string {
  const parsed = parseMediaDocument(typeof content === 'string' ? content : JSON.stringify(content), type)
  if (isRefusal(parsed)) return parsed.reason
  return mediaRefusal(parsed, type, '1001', files)?.reason ?? 'accepted'
}

t.test('malformed documents are 400s that say what is wrong', async t => {
  const cases: [unknown, number, RegExp][] = [
    ['not json', IMAGE, /image message's content must be a JSON object naming an uploaded file/],
    ['[1,2]', FILE, /must be a JSON object/],
    ['"11"', FILE, /must be a JSON object/],
    [{}, IMAGE, /fileId must be a file id/],
    [{ fileId: 11 }, IMAGE, /fileId must be a file id/],
    [{ fileId: '011' }, IMAGE, /fileId must be a file id/],
    [{ fileId: '11', url: 'http://evil' }, IMAGE, /unknown field 'url'/],
    [{ fileId: '11', name: '../../etc/passwd' }, IMAGE, /name must be a file name, not a path/],
    [{ fileId: '11', name: 'a\u0000b' }, IMAGE, /name must not contain control characters/],
    [{ fileId: '11', name: 42 }, IMAGE, /name must be a string/],
    [{ fileId: '11', size: -1 }, IMAGE, /size must be a non-negative integer/],
    [{ fileId: '11', width: 1.5 }, IMAGE, /width must be a non-negative integer/],
    [{ fileId: '11', duration: 3 }, IMAGE, /duration is only for voice and video/],
    [{ fileId: '31', duration: -1 }, VIDEO, /duration must be a number of seconds/],
    [{ fileId: '31', duration: 1e9 }, VIDEO, /duration must be a number of seconds/],
    [{ fileId: '31', thumbnailId: 'x' }, VIDEO, /thumbnailId must be a file id/]
  ]
  t.plan(cases.length)
  for (const [content, type, reason] of cases) t.match(refusalOf(content, type), reason, JSON.stringify(content))
})

t.test('the file must exist, be the sender\'s, and be what the document and contentType say', async t => {
  const cases: [unknown, number, RegExp | string][] = [
    [{ fileId: '99' }, FILE, /file 99 does not exist/],
    [{ fileId: '61' }, IMAGE, /file 61 was not uploaded by you/],
    [{ fileId: '11', size: 4999 }, IMAGE, /size 4999 does not match the file \(5000\)/],
    [{ fileId: '11', mimeType: 'image/png' }, IMAGE, /mimeType "image\/png" does not match the file \("image\/jpeg"\)/],
    [{ fileId: '11', width: 10 }, IMAGE, /width 10 does not match/],
    [{ fileId: '21' }, IMAGE, /file 21 is not an image the server could read \(application\/pdf\): send it as a file/],
    [{ fileId: '21' }, VIDEO, /file 21 is not a video/],
    [{ fileId: '21' }, VOICE, /file 21 is not audio/],
    [{ fileId: '31', thumbnailId: '99' }, VIDEO, /thumbnail file 99 does not exist/],
    [{ fileId: '31', thumbnailId: '61' }, VIDEO, /thumbnail file 61 was not uploaded by you/],
    [{ fileId: '31', thumbnailId: '21' }, VIDEO, /thumbnail file 21 is not an image/],
    [{ fileId: '11', size: 5000, mimeType: 'image/jpeg', width: 1200, height: 800, thumbnailId: '12' }, IMAGE, 'accepted'],
    [{ fileId: '21' }, FILE, 'accepted'],
    [{ fileId: '11' }, FILE, 'accepted'],
    [{ fileId: '31', duration: 12.5, thumbnailId: '51' }, VIDEO, 'accepted'],
    [{ fileId: '41', duration: 3 }, VOICE, 'accepted'],
    [{ fileId: '31' }, VOICE, 'accepted']
  ]
  t.plan(cases.length)
  for (const [content, type, reason] of cases) t.match(refusalOf(content, type), reason, `${type} ${JSON.stringify(content)}`)
})

t.test('the stored document carries the file\'s facts, not the sender\'s', async t => {
  t.same(JSON.parse(completeDocument(doc({ fileId: '11' }, IMAGE), photo)),
    { fileId: '11', name: 'beach.jpg', size: 5000, mimeType: 'image/jpeg', width: 1200, height: 800, thumbnailId: '12' }, 'an image gets its size, type, dimensions and thumbnail')
  t.same(JSON.parse(completeDocument(doc({ fileId: '31', name: 'Holiday.mp4', duration: 12.5, thumbnailId: '51' }, VIDEO), clip)),
    { fileId: '31', name: 'Holiday.mp4', size: 90000, mimeType: 'video/mp4', thumbnailId: '51', duration: 12.5 }, 'the sender may rename; duration and poster kept')
  t.same(referencedFiles(doc({ fileId: '11' }, IMAGE), photo), ['11', '12'], 'an image refers to its thumbnail too')
  t.same(referencedFiles(doc({ fileId: '31', thumbnailId: '51' }, VIDEO), clip), ['31', '51'], 'a video to its poster')
  t.same(referencedFiles(doc({ fileId: '21' }, FILE), pdf), ['21'], 'a file to itself')
  t.equal(mediaPreviewText(IMAGE, 'beach.jpg'), '[image] beach.jpg')
})

t.test('file names: a name, never a path; shown safely in Content-Disposition', async t => {
  for (const bad of ['', '  ', '.', '..', 'a/b', 'a\\b', '/etc/passwd', '..\\..\\boot.ini', 'x\r\nSet-Cookie: a=b', 'tab\there', 'x'.repeat(256), 'é'.repeat(128), '\uD800x']) {
    t.not(fileNameProblem(bad), null, `refused: ${JSON.stringify(bad)}`)
  }
  for (const good of ['photo.jpg', 'Résumé 2026 (final).pdf', '日本語.txt', '..hidden', 'a'.repeat(255), '"quoted".txt']) {
    t.equal(fileNameProblem(good), null, `accepted: ${JSON.stringify(good)}`)
  }
  t.equal(contentDisposition('attachment', 'Résumé "final".pdf'), 'attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8\'\'R%C3%A9sum%C3%A9%20%22final%22.pdf')
  t.equal(contentDisposition('inline', "it's (1).png"), 'inline; filename="it\'s (1).png"; filename*=UTF-8\'\'it%27s%20%281%29.png')
})
