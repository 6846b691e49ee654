// Identifiers (@implus/client/wire's ids.ts): user ids are 1..2^63-1 in canonical decimal; conversation ids have one spelling.
import t from 'tap'
import { groupConversationId, isGroupId, isMsgId, isUserId, parseConversationId, peerOf, privateConversationId } from '@implus/client/wire'

t.test('isUserId accepts canonical decimals from 1 to 2^63-1', async t => {
  const good = ['1', '2', '9', '10', '42', '1000000', '9007199254740993', '1234567890123456789', '9223372036854775806', '9223372036854775807']
  t.plan(good.length)
  for (const id of good) t.ok(isUserId(id), JSON.stringify(id))
})

t.test('isUserId rejects everything else', async t => {
  const bad: unknown[] = [
    '0', '00', '01', '007', '-1', '+1', '9223372036854775808', '9999999999999999999', '18446744073709551616', '12345678901234567890',
    '1.0', '1.', '1e3', '0x1', ' 1', '1 ', '\t1', '1\n', '\n1', '', ' ', '1_000', '1,000', 'abc', '１', '٣',
    1, 0, 1n, null, undefined, {}, ['1']
  ]
  t.plan(bad.length)
  for (const id of bad) t.notOk(isUserId(id), typeof id === 'string' ? JSON.stringify(id) : `${typeof id} ${String(id)}`)
})

t.test('group and message ids follow the same rule', async t => {
  t.plan(4)
  t.ok(isGroupId('9223372036854775807'))
  t.notOk(isGroupId('01'))
  t.ok(isMsgId('7205759403792793599'))
  t.notOk(isMsgId('9223372036854775808'))
})

t.test('privateConversationId orders the two ids as integers, not as text', async t => {
  t.plan(7)
  t.equal(privateConversationId('10', '9'), 'private_9_10')
  t.equal(privateConversationId('9', '10'), 'private_9_10')
  t.equal(privateConversationId('2', '1'), 'private_1_2')
  t.equal(privateConversationId('100', '99'), 'private_99_100')
  t.equal(privateConversationId('1000000000000000000', '999999999999999999'), 'private_999999999999999999_1000000000000000000')
  t.equal(privateConversationId('9223372036854775807', '9223372036854775806'), 'private_9223372036854775806_9223372036854775807', 'beyond 2^53: no precision loss')
  t.equal(privateConversationId('9007199254740993', '9007199254740992'), 'private_9007199254740992_9007199254740993', 'ids equal as doubles still ordered')
})

t.test('groupConversationId', async t => {
  t.plan(1)
  t.equal(groupConversationId('12'), 'group_12')
})

t.test('parseConversationId reads canonical ids', async t => {
  t.plan(4)
  t.same(parseConversationId('private_9_10'), { kind: 'private', a: '9', b: '10' })
  t.same(parseConversationId('private_1_9223372036854775807'), { kind: 'private', a: '1', b: '9223372036854775807' })
  t.same(parseConversationId('group_1'), { kind: 'group', groupId: '1' })
  t.same(parseConversationId('group_9223372036854775807'), { kind: 'group', groupId: '9223372036854775807' })
})

t.test('parseConversationId rejects non-canonical forms', async t => {
  const bad = [
    '', 'private_', 'private_9', 'private_9_', 'private__10', 'private_10_9', 'private_5_5', 'private_09_10', 'private_9_010',
    'private_0_1', 'private_-1_2', 'private_9_10_11', 'private__9_10', 'private_9__10', 'private_9_10 ', ' private_9_10', 'Private_9_10',
    'PRIVATE_9_10', 'private-9-10', 'private_9_9223372036854775808', 'private_1.0_2', 'private_1_2\n',
    'group_', 'group_0', 'group_01', 'group_-1', 'group_ 1', 'group_1 ', 'group_1_2', 'group_a', 'Group_1', 'group1', 'x_group_1',
    'group_9223372036854775808', 'group_private_1_2', 'private_group_1'
  ]
  t.plan(bad.length)
  for (const id of bad) t.equal(parseConversationId(id), null, JSON.stringify(id))
})

t.test('parse and build agree', async t => {
  const pairs: [string, string][] = [['1', '2'], ['10', '9'], ['123456789', '98765'], ['9223372036854775807', '1']]
  t.plan(pairs.length + 1)
  for (const [a, b] of pairs) {
    const parsed = parseConversationId(privateConversationId(a, b))
    t.same(parsed && parsed.kind === 'private' ? [parsed.a, parsed.b].sort() : null, [a, b].sort(), `${a}, ${b}`)
  }
  t.same(parseConversationId(groupConversationId('77')), { kind: 'group', groupId: '77' })
})

t.test('peerOf', async t => {
  t.plan(3)
  const conv = { a: '9', b: '10' }
  t.equal(peerOf(conv, '9'), '10')
  t.equal(peerOf(conv, '10'), '9')
  t.equal(peerOf(conv, '11'), null, 'an outsider has no peer')
})
