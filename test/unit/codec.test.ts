import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { MessageType, decodeFrame, encodeFrame, type Frame } from '@implus/client'

const full: Required<Frame> = {
  type: MessageType.PRIVATE_CHAT,
  content: '你好，世界 🌏 hello',
  fromId: '9223372036854775807',
  toId: '2',
  uid: '1234567890123456789',
  seq: '42',
  timestamp: 1_732_000_000_123,
  retry: 3,
  token: 'eyJhbGciOiJIUzI1NiJ9.e30.sig',
  conversationId: 'private_2_9223372036854775807',
  clientSeq: '6f1c1d7e-0d6b-4c55-9b51-2f3a2d1c0e9f',
  userSeq: Number.MAX_SAFE_INTEGER,
  conversationSeq: 2 ** 40 + 1,
  expectedSeq: -1,
  readReceipt: { conversationId: 'group_7', lastReadSeq: 2 ** 33 },
  readNotification: { conversationId: '群聊_7', lastReadSeq: 99, msgId: '18446744073709551', readCount: 12 },
  errorCode: 413,
  contentType: 99,
  deviceId: '手机-1',
}

t.test('every field survives a round trip', async (t) => {
  const decoded = decodeFrame(encodeFrame(full))
  const keys = Object.keys(full) as (keyof Frame)[]
  t.plan(keys.length + 1)
  for (const key of keys) {
    if (key === 'readReceipt' || key === 'readNotification') t.same({ ...decoded[key] }, full[key], key)
    else t.equal(decoded[key], full[key], key)
  }
  t.equal(typeof decoded.timestamp, 'number', 'int64 decodes to a number, not a Long')
})

t.test('absent fields decode to proto3 defaults', async (t) => {
  const decoded = decodeFrame(encodeFrame({ type: MessageType.HEARTBEAT }))
  t.equal(decoded.type, MessageType.HEARTBEAT)
  t.equal(decoded.content, '')
  t.equal(decoded.uid, '')
  t.equal(decoded.timestamp, 0)
  t.equal(decoded.userSeq, 0)
  t.equal(decoded.errorCode, 0)
  t.equal(decoded.readReceipt, null)
  t.equal(decoded.readNotification, null)
  const nested = decodeFrame(encodeFrame({ readReceipt: { conversationId: 'group_1' } })).readReceipt
  t.equal(nested?.lastReadSeq, 0, 'nested int64 default is the number 0')
})

t.test('an empty buffer is an all-default frame', async (t) => {
  t.equal(decodeFrame(new Uint8Array(0)).type, 0)
})

t.test('malformed input throws', async (t) => {
  t.throws(() => decodeFrame(Uint8Array.of(0x12, 0x05, 0x61)), 'length past the end')
  t.throws(() => decodeFrame(Uint8Array.of(0x08, 0x80)), 'truncated varint')
  // protobufjs reads a known field by its declared type whatever the wire type says; unknown ones are checked.
  t.throws(() => decodeFrame(Uint8Array.of(0xf7, 0x01, 0x00)), 'wire type 7 on an unknown field')
})

t.test('committed generated code matches the .proto', (t) => {
  t.plan(1)
  const script = fileURLToPath(new URL('../../scripts/gen-proto.mjs', import.meta.url))
  execFile(process.execPath, [script, '--check'], (err, _stdout, stderr) => {
    t.equal(err?.code ?? 0, 0, stderr)
  })
})
