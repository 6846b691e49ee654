import type { HttpApi } from './server.js'
import { assertCaller } from './server.js'
import { optionalStringField, userIdField } from './validate.js'
import { badRequest, forbidden, notFound } from '../errors.js'
import { MessageType, isUserId, type Frame } from '@implus/client/wire'
import type { UserStore } from '../users/store.js'
import { FriendRequests, RequestStatus, type FriendRequest } from '../users/friend-requests.js'
import type { SessionControl } from './users.js'

export interface FriendRouteDeps {
  readonly users: UserStore
  readonly requests: FriendRequests
  readonly sessions: SessionControl
  /** POST /users/friends adds a friendship at once (the seed's API); false: friends need a request. */
  readonly directFriends: boolean
}

const MAX_MESSAGE_CHARS = 200

/** A request as the API shows it (docs/protocol.md "Friends"). */
export function requestJson (r: FriendRequest): Record<string, unknown> {
  return {
    requestId: r.requestId,
    fromId: r.fromId,
    toId: r.toId,
    message: r.message,
    status: r.status,
    createTime: r.createTime.toISOString(),
    updateTime: r.updateTime.toISOString()
  }
}

function requestIdField (value: unknown): string {
  // Request ids are bigserial: the same decimal form as user ids.
  if (!isUserId(value)) throw badRequest('requestId must be a decimal integer from 1 to 2^63-1 without leading zeros')
  return value
}

/**
 * Friends with consent: a request, answered by its target (accept, decline) or withdrawn by its sender
 * (cancel). The target hears of a request (1011) and the sender of its acceptance (1012) at once, on
 * every host; offline, both find it in GET /users/friend-requests and GET /users/friends.
 */
export function friendRoutes (api: HttpApi, { users, requests, sessions, directFriends }: FriendRouteDeps): void {
  const friendshipChanged = (a: string, b: string): void => {
    sessions.userChanged(a)
    sessions.userChanged(b)
  }
  const tellRequested = (r: FriendRequest): void => {
    const frame: Frame = { type: MessageType.FRIEND_REQUEST_NOTIFICATION, uid: r.requestId, fromId: r.fromId, toId: r.toId, content: r.message, timestamp: r.createTime.getTime() }
    sessions.push(r.toId, frame)
  }
  const tellAccepted = (r: FriendRequest): void => {
    const frame: Frame = { type: MessageType.FRIEND_ACCEPTED_NOTIFICATION, uid: r.requestId, fromId: r.toId, toId: r.fromId, timestamp: r.updateTime.getTime() }
    sessions.push(r.fromId, frame)
  }

  api.post('/users/friend-requests', 'user', async req => {
    const toId = userIdField(req.body.toId, 'toId')
    const message = optionalStringField(req.body.message, 'message', MAX_MESSAGE_CHARS) ?? ''
    if (toId === req.userId) throw badRequest('a user cannot befriend itself')
    if ((await users.exists([toId])).size === 0) throw notFound(`user ${toId} does not exist`)
    // The other user asked first: asking back is accepting.
    const theirs = await requests.pendingBetween(toId, req.userId)
    if (theirs !== null) {
      const { request, changed } = await requests.answer(theirs.requestId, req.userId, RequestStatus.ACCEPTED)
      if (changed) {
        friendshipChanged(request.fromId, request.toId)
        tellAccepted(request)
      }
      return requestJson(request)
    }
    const { request, created } = await requests.send(req.userId, toId, message)
    if (created) tellRequested(request)
    return requestJson(request)
  })

  api.get('/users/friend-requests', 'user', async req => {
    const { incoming, outgoing } = await requests.pending(req.userId)
    return { incoming: incoming.map(requestJson), outgoing: outgoing.map(requestJson) }
  })

  const answerRoute = (path: string, answer: number): void => {
    api.post(`/users/friend-requests/:requestId/${path}`, 'user', async req => {
      const { request, changed } = await requests.answer(requestIdField(req.params[0]), req.userId, answer)
      if (changed && answer === RequestStatus.ACCEPTED) {
        friendshipChanged(request.fromId, request.toId)
        tellAccepted(request)
      }
      return requestJson(request)
    })
  }
  answerRoute('accept', RequestStatus.ACCEPTED)
  answerRoute('decline', RequestStatus.DECLINED)
  answerRoute('cancel', RequestStatus.CANCELLED)

  api.post('/users/friends', 'user', async req => {
    assertCaller(req, req.body.userId)
    const friendId = userIdField(req.body.friendId, 'friendId')
    if (friendId === req.userId) throw badRequest('a user cannot befriend itself')
    if ((await users.exists([friendId])).size === 0) throw notFound(`user ${friendId} does not exist`)
    if (!directFriends) throw forbidden('friends need consent here: send a friend request (POST /users/friend-requests)')
    await users.addFriendship(req.userId, friendId)
    friendshipChanged(req.userId, friendId)
    return null
  })

  api.del('/users/friends/:friendId', 'user', async req => {
    const friendId = userIdField(req.params[0], 'friendId')
    if (!await users.removeFriendship(req.userId, friendId)) throw notFound(`user ${friendId} is not a friend`)
    friendshipChanged(req.userId, friendId)
    return null
  })

  api.get('/users/friends', 'user', async req => await users.friends(req.userId))

  api.get('/users/blacklist', 'user', async req => await users.blocked(req.userId))
}
