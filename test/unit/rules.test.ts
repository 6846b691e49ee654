// Send rules (src/shards/rules.ts): pure functions deciding refusals, previews and resend waits.
import t from 'tap'
import { contentRefusal, groupSendRefusal, MAX_RESENDS, preview, privateSendRefusal, resendDelayMs } from '../../src/shards/rules.js'
import type { Relation, UserFacts } from '../../src/shards/permissions.js'
import { GroupStatus } from '../../src/db/schema.js'
import type { Group } from '../../src/shards/members.js'

const NOW = 1_750_000_000_000
const ok: UserFacts = { exists: true, banned: false, deleted: false, mutedUntil: 0 }
const missing: UserFacts = { exists: false, banned: false, deleted: false, mutedUntil: 0 }
const banned: UserFacts = { exists: true, banned: true, deleted: false, mutedUntil: 0 }
const muted: UserFacts = { exists: true, banned: false, deleted: false, mutedUntil: NOW + 60_000 }
const deleted: UserFacts = { exists: true, banned: false, deleted: true, mutedUntil: 0 }
const friends: Relation = { friends: true, blocked: false }
const strangers: Relation = { friends: false, blocked: false }
const blocked: Relation = { friends: true, blocked: true }
const blockedStrangers: Relation = { friends: false, blocked: true }

t.test('privateSendRefusal: allowed cases', async t => {
  t.plan(4)
  t.equal(privateSendRefusal(ok, ok, friends, 'friends', NOW), null, 'friends under friends policy')
  t.equal(privateSendRefusal(ok, ok, friends, 'open', NOW), null, 'friends under open policy')
  t.equal(privateSendRefusal(ok, ok, strangers, 'open', NOW), null, 'strangers under open policy')
  t.equal(privateSendRefusal({ ...ok, mutedUntil: NOW - 1 }, ok, friends, 'friends', NOW), null, 'a mute that has ended')
})

t.test('privateSendRefusal: an unknown receiver is 404, checked before everything else', async t => {
  t.plan(3)
  t.match(privateSendRefusal(ok, missing, friends, 'friends', NOW), { status: 404, reason: /unknown user/ })
  t.match(privateSendRefusal(banned, missing, blockedStrangers, 'friends', NOW), { status: 404 }, 'even with a banned sender, a block and no friendship')
  t.match(privateSendRefusal(muted, missing, strangers, 'open', NOW), { status: 404 }, 'even with a muted sender')
})

t.test('privateSendRefusal: banned or muted sender is 403, before block and friendship', async t => {
  t.plan(6)
  t.match(privateSendRefusal(banned, ok, friends, 'friends', NOW), { status: 403, reason: /banned/ })
  t.match(privateSendRefusal(banned, ok, blockedStrangers, 'friends', NOW), { status: 403, reason: /banned/ }, 'banned wins over blocked')
  t.match(privateSendRefusal(missing, ok, friends, 'open', NOW), { status: 403 }, 'a sender with no account may not send')
  const m = privateSendRefusal(muted, ok, blockedStrangers, 'friends', NOW)
  t.match(m, { status: 403, reason: /muted/ }, 'muted wins over blocked')
  t.match(m?.reason, new Date(NOW + 60_000).toISOString(), 'the reason says until when')
  t.match(privateSendRefusal({ ...ok, mutedUntil: NOW + 1 }, ok, friends, 'open', NOW), { status: 403, reason: /muted/ }, 'muted until 1 ms from now')
})

t.test('privateSendRefusal: a mute ending exactly now no longer applies', async t => {
  t.plan(1)
  t.equal(privateSendRefusal({ ...ok, mutedUntil: NOW }, ok, friends, 'friends', NOW), null)
})

t.test('privateSendRefusal: blocked is 403 under both policies, before "not friends"', async t => {
  t.plan(3)
  t.match(privateSendRefusal(ok, ok, blocked, 'friends', NOW), { status: 403, reason: /blocked/ })
  t.match(privateSendRefusal(ok, ok, blocked, 'open', NOW), { status: 403, reason: /blocked/ })
  t.match(privateSendRefusal(ok, ok, blockedStrangers, 'friends', NOW), { status: 403, reason: /blocked/ }, 'blocked wins over not friends')
})

t.test('privateSendRefusal: not friends is 403 only under the friends policy', async t => {
  t.plan(2)
  t.match(privateSendRefusal(ok, ok, strangers, 'friends', NOW), { status: 403, reason: /not friends/ })
  t.equal(privateSendRefusal(ok, ok, strangers, 'open', NOW), null)
})

const group = (over: Partial<Group> = {}): Group => ({
  conversationId: 'group_1', ownerId: 'o', members: new Set(['o', 'a', 'm']), admins: new Set(['a']), mutes: new Map(), status: GroupStatus.ACTIVE, muteAll: false, ...over
})

t.test('groupSendRefusal: unknown group 404, then not a member 403, then dismissed 410, then sender state, then group mutes', async t => {
  t.plan(13)
  t.equal(groupSendRefusal(ok, 'm', group(), NOW), null, 'a member in good standing')
  t.match(groupSendRefusal(banned, 'm', null, NOW), { status: 404, reason: /unknown group/ }, 'unknown group first')
  t.match(groupSendRefusal(banned, 'x', group(), NOW), { status: 403, reason: /not a member/ }, 'then membership')
  t.match(groupSendRefusal(banned, 'm', group({ status: GroupStatus.DISMISSED }), NOW), { status: 410, reason: /dismissed/ }, 'then a dismissed group')
  t.match(groupSendRefusal(banned, 'm', group(), NOW), { status: 403, reason: /banned/ })
  t.match(groupSendRefusal(muted, 'm', group(), NOW), { status: 403, reason: /muted/ })
  t.equal(groupSendRefusal({ ...ok, mutedUntil: NOW - 1 }, 'm', group(), NOW), null, 'mute over')
  t.match(groupSendRefusal(missing, 'm', group(), NOW), { status: 403 }, 'no account')
  t.match(groupSendRefusal(ok, 'm', group({ muteAll: true }), NOW), { status: 403, reason: /group is muted/ }, 'mute all: a member may not send')
  t.equal(groupSendRefusal(ok, 'a', group({ muteAll: true }), NOW), null, 'mute all: an admin may')
  t.equal(groupSendRefusal(ok, 'o', group({ muteAll: true }), NOW), null, 'mute all: the owner may')
  t.match(groupSendRefusal(ok, 'm', group({ mutes: new Map([['m', NOW + 1000]]) }), NOW), { status: 403, reason: /muted in this group/ }, 'muted in the group')
  t.equal(groupSendRefusal(ok, 'm', group({ mutes: new Map([['m', NOW - 1]]) }), NOW), null, 'a group mute that has ended')
})

t.test('contentRefusal', async t => {
  t.plan(17)
  t.match(contentRefusal('', 1), { status: 400, reason: /empty/ })
  t.match(contentRefusal('', 12345), { status: 400, reason: /empty/ }, 'empty is reported first')
  t.match(contentRefusal('a\u0000b', 1), { status: 400, reason: /NUL/ })
  t.match(contentRefusal('\u0000', 1), { status: 400, reason: /NUL/ })
  t.match(contentRefusal('x\u0000', 42), { status: 400, reason: /NUL/ }, 'NUL before contentType')
  t.equal(contentRefusal('hi', 0), null, 'contentType 0 (unset in proto3) is allowed')
  for (const type of [1, 2, 3, 4, 5, 6, 99]) t.equal(contentRefusal('hi', type), null, `contentType ${type}`)
  for (const type of [7, 98, 100, -1]) t.match(contentRefusal('hi', type), { status: 400, reason: new RegExp(`contentType ${type}`) }, `contentType ${type} refused`)
})

t.test('contentRefusal accepts whitespace, unicode and emoji', async t => {
  t.plan(3)
  t.equal(contentRefusal(' ', 1), null)
  t.equal(contentRefusal('你好', 1), null)
  t.equal(contentRefusal('😀', 1), null)
})

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

t.test('preview: up to 20 characters unchanged', async t => {
  const cases = ['', 'a', 'x'.repeat(19), 'x'.repeat(20), '一'.repeat(20), '😀'.repeat(20), 'x'.repeat(19) + '😀', '😀'.repeat(10) + '你'.repeat(10)]
  t.plan(cases.length)
  for (const c of cases) t.equal(preview(c), c, `${Array.from(c).length} chars, ${c.length} UTF-16 units`)
})

t.test('preview: 21 characters or more → the first 17 and "..."', async t => {
  t.plan(12)
  t.equal(preview('abcdefghijklmnopqrstu'), 'abcdefghijklmnopq...', '21 ASCII')
  t.equal(preview('x'.repeat(1000)), 'x'.repeat(17) + '...', 'long ASCII')
  const zh = '我们今天晚上一起去吃饭好不好呢然后再去看电影吧'
  t.ok(Array.from(zh).length > 20)
  t.equal(preview(zh), Array.from(zh).slice(0, 17).join('') + '...', 'Chinese')
  t.equal(preview('一'.repeat(21)), '一'.repeat(17) + '...', '21 Chinese characters')
  const emoji = '😀'.repeat(21)
  const p = preview(emoji)
  t.equal(p, '😀'.repeat(17) + '...', '21 emoji: 17 whole emoji, not 17 UTF-16 units')
  t.notMatch(p, LONE_SURROGATE, 'no broken surrogate pair')
  t.equal(Array.from(p).length, 20, 'the preview is 20 characters')
  const mixed = 'a😀'.repeat(11) // 22 characters, 33 units
  t.equal(preview(mixed), Array.from(mixed).slice(0, 17).join('') + '...', 'mixed ASCII and emoji')
  t.notMatch(preview(mixed), LONE_SURROGATE)
  t.equal(preview('x'.repeat(20) + '😀'), 'x'.repeat(17) + '...', '20 ASCII + emoji = 21 characters')
  t.equal(preview('😀'.repeat(16) + 'abcde'), '😀'.repeat(16) + 'a...', 'cut lands after a surrogate pair')
})

t.test('resendDelayMs: 5 s, 10 s, 20 s, then capped at 30 s', async t => {
  t.plan(7)
  t.equal(resendDelayMs(0), 5000, 'first wait (after the first push)')
  t.equal(resendDelayMs(1), 10_000)
  t.equal(resendDelayMs(2), 20_000)
  t.equal(resendDelayMs(3), 30_000, 'wait after the third resend: 30 s, not 40 s')
  t.equal(resendDelayMs(4), 30_000)
  t.equal(resendDelayMs(20), 30_000)
  t.equal(MAX_RESENDS, 3)
})

t.test('the resend times implied: 5 s, 15 s, 35 s after the first push; push-failed at 65 s', async t => {
  t.plan(2)
  const resends: number[] = []
  let at = 0
  for (let retry = 0; retry < MAX_RESENDS; retry++) {
    at += resendDelayMs(retry)
    resends.push(at)
  }
  t.same(resends, [5000, 15_000, 35_000])
  t.equal(at + resendDelayMs(MAX_RESENDS), 65_000, '30 s after the third resend')
})

t.test('a deleted account neither receives (404) nor sends (403)', async t => {
  t.plan(3)
  t.match(privateSendRefusal(ok, deleted, friends, 'friends', NOW), { status: 404, reason: /deleted/ }, 'to a deleted user: 404')
  t.match(privateSendRefusal(deleted, ok, friends, 'open', NOW), { status: 403, reason: /deleted/ }, 'from a deleted user: 403')
  t.match(groupSendRefusal(deleted, 'm', group(), NOW), { status: 403, reason: /deleted/ }, 'into a group: 403')
})
