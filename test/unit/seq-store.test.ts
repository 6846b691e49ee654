import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { MemorySeqStore, type SeqStore } from '@implus/client'
import { JsonFileSeqStore } from '@implus/client/node'

// Removed when the whole file is done, so each test may keep its own folder.
async function tempDir (): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'implus-seq-store-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const engines: Record<string, () => Promise<SeqStore>> = {
  memory: async () => new MemorySeqStore(),
  'json file': async () => new JsonFileSeqStore(join(await tempDir(), 'seqs.json')),
}

for (const [name, make] of Object.entries(engines)) {
  t.test(`${name}: the SeqStore contract`, async (t) => {
    const store = await make()
    t.same(await store.load('1'), { userSeq: 0, groups: {} }, 'an unknown user starts empty')
    const state = { userSeq: 42, groups: { group_7: 3 } }
    await store.save('1', state)
    state.groups.group_7 = 99
    t.same(await store.load('1'), { userSeq: 42, groups: { group_7: 3 } }, 'save copies')
    const loaded = await store.load('1')
    loaded.userSeq = 1000
    t.equal((await store.load('1')).userSeq, 42, 'load copies')
    await Promise.all([store.save('2', { userSeq: 5, groups: {} }), store.save('3', { userSeq: 6, groups: {} })])
    t.same([(await store.load('1')).userSeq, (await store.load('2')).userSeq, (await store.load('3')).userSeq], [42, 5, 6], 'concurrent saves all land')
  })
}

t.test('the JSON file survives a new store and leaves no temporary files', async (t) => {
  const dir = await tempDir()
  const path = join(dir, 'seqs.json')
  await new JsonFileSeqStore(path).save('7', { userSeq: 12, groups: { group_1: 4 } })
  t.same(await new JsonFileSeqStore(path).load('7'), { userSeq: 12, groups: { group_1: 4 } })
  t.same(JSON.parse(await readFile(path, 'utf8')), { 7: { userSeq: 12, groups: { group_1: 4 } } })
  t.same(await readdir(dir), ['seqs.json'])
})

t.test('a damaged file is reported, not taken for empty positions', async (t) => {
  const dir = await tempDir()
  const path = join(dir, 'seqs.json')
  await writeFile(path, '{"7": {"userSeq": "x"}}')
  await t.rejects(new JsonFileSeqStore(path).load('7'), /malformed entry for user 7/)
  await writeFile(path, '{"7": ')
  await t.rejects(new JsonFileSeqStore(path).load('7'), /not JSON/)
})
