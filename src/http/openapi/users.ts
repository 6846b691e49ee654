// OpenAPI source of the user endpoints (src/http/users.ts).
import { NO_DATA, body, nullable, object, ref, type PathSpecs } from './spec.js'

const userIdParam = { ...ref('UserId'), description: 'a user' }
const friendIdParam = { ...ref('UserId'), description: 'the friend' }

const login = object({
  userId: ref('UserId'),
  username: { type: 'string' },
  token: { type: 'string', description: 'JWT (HS256) for `Authorization: Bearer` and the socket login' },
  expiresAt: ref('Time')
})

export const userPaths: PathSpecs = {
  '/users/register': {
    post: {
      operationId: 'register',
      summary: 'Create an account',
      auth: 'none',
      description: 'The username is unique case-insensitively (409 when taken, as for a taken userId), 1–64 characters without control characters.',
      body: body({
        userId: ref('UserId'),
        username: { type: 'string', minLength: 1, maxLength: 64 },
        password: { type: 'string', minLength: 8, maxLength: 128 },
        displayName: { type: 'string', maxLength: 64, description: 'optional; the username is shown when none is set' },
        avatarUrl: { type: 'string', maxLength: 1024, description: 'optional http(s) URL' }
      }, ['displayName', 'avatarUrl']),
      data: object({ userId: ref('UserId'), username: { type: 'string' } }),
      errors: [409]
    }
  },
  '/users/login': {
    post: {
      operationId: 'login',
      summary: 'Exchange a password for a token',
      description: 'Failed logins per user are limited (IMPLUS_LOGIN_FAILURE_LIMIT in 15 minutes): then 429 until the window ends.',
      auth: 'none',
      body: {
        ...body({ userId: ref('UserId'), username: { type: 'string', minLength: 1, maxLength: 64, description: 'instead of userId (case-insensitive)' }, password: { type: 'string', minLength: 1, maxLength: 128 } }, ['userId', 'username']),
        anyOf: [{ required: ['userId'] }, { required: ['username'] }]
      },
      data: login,
      errors: [401, 403, 429]
    }
  },
  '/users/refresh-token': {
    post: {
      operationId: 'refreshToken',
      summary: 'A fresh token for the caller, with a new expiry',
      description: 'Needs a token that is still valid (not expired, not revoked); the old one stays valid until its own expiry. Logout revokes both.',
      auth: 'user',
      data: login
    }
  },
  '/users/logout': {
    post: {
      operationId: 'logout',
      summary: 'Revoke every token issued to the caller so far; its connections get 1002',
      auth: 'user',
      body: body({ userId: { ...ref('UserId'), description: 'optional; if given, must be the caller' } }, ['userId']),
      data: NO_DATA,
      errors: [403]
    }
  },
  '/users/logout/{userId}': {
    get: {
      operationId: 'logoutByPath',
      summary: 'The seed-style logout: the same as POST /users/logout',
      auth: 'user',
      params: { userId: { ...ref('UserId'), description: 'must be the caller' } },
      data: NO_DATA,
      errors: [403]
    }
  },
  '/users/info/{userId}': {
    get: {
      operationId: 'userInfo',
      summary: "Any user's public profile",
      auth: 'user',
      params: { userId: userIdParam },
      data: object({
        userId: ref('UserId'),
        username: { type: 'string' },
        status: { enum: [1, 2, 3], description: '1 normal, 2 banned, 3 deleted' },
        createTime: ref('Time'),
        lastLoginTime: nullable(ref('Time'))
      }),
      errors: [404]
    }
  },
  '/users/profile/{userId}': {
    get: {
      operationId: 'profile',
      summary: "Any user's profile: username, display name, avatar",
      auth: 'user',
      params: { userId: userIdParam },
      data: ref('UserProfile'),
      errors: [404]
    }
  },
  '/users/profiles': {
    post: {
      operationId: 'profiles',
      summary: 'Profiles of up to 500 users, in the order asked; unknown ids are left out',
      auth: 'user',
      body: body({ userIds: { type: 'array', items: ref('UserId'), maxItems: 500 } }),
      data: { type: 'array', items: ref('UserProfile') }
    }
  },
  '/users/by-username/{username}': {
    get: {
      operationId: 'findByUsername',
      summary: 'The user registered under a username (case-insensitive)',
      auth: 'user',
      params: { username: { type: 'string', minLength: 1, description: 'the username, URL-encoded' } },
      data: ref('UserProfile'),
      errors: [404]
    }
  },
  '/users/profile': {
    post: {
      operationId: 'updateProfile',
      summary: "Change the caller's display name or avatar (null or '' clears one)",
      auth: 'user',
      body: body({
        displayName: { oneOf: [{ type: 'string', maxLength: 64 }, { type: 'null' }] },
        avatarUrl: { oneOf: [{ type: 'string', maxLength: 1024 }, { type: 'null' }], description: 'an http(s) URL' }
      }, ['displayName', 'avatarUrl']),
      data: ref('UserProfile')
    }
  },
  '/users/password': {
    post: {
      operationId: 'changePassword',
      summary: 'Change the password: every token issued so far is revoked and every connection gets 1002 (401); the answer carries a new token',
      auth: 'user',
      body: body({ oldPassword: { type: 'string', minLength: 1, maxLength: 128 }, newPassword: { type: 'string', minLength: 8, maxLength: 128 } }),
      data: login,
      errors: [403]
    }
  },
  '/users/delete': {
    post: {
      operationId: 'deleteAccount',
      summary: 'Delete the caller\'s account (soft): tokens revoked, connections get 1002 (401), logins and sends refused; messages stay for the other side',
      auth: 'user',
      body: body({ password: { type: 'string', minLength: 1, maxLength: 128 } }),
      data: NO_DATA,
      errors: [403]
    }
  },
  '/users/status/{userId}': {
    get: {
      operationId: 'userStatus',
      summary: 'Presence of the caller or one of its friends',
      auth: 'user',
      params: { userId: userIdParam },
      data: object({ userId: ref('UserId'), online: { type: 'boolean' }, devices: { type: 'integer', minimum: 0, description: 'connections' } }),
      errors: [403]
    }
  },
  '/users/friends': {
    post: {
      operationId: 'addFriend',
      summary: 'Add a mutual friendship at once (the seed\'s API); with IMPLUS_DIRECT_FRIENDS=false refused with 403: send a friend request',
      auth: 'user',
      body: body({ friendId: ref('UserId'), userId: { ...ref('UserId'), description: 'optional; if given, must be the caller' } }, ['userId']),
      data: NO_DATA,
      errors: [403, 404]
    },
    get: {
      operationId: 'friends',
      summary: "The caller's friends",
      auth: 'user',
      data: { type: 'array', items: object({ userId: ref('UserId'), username: { type: 'string' } }) }
    }
  },
  '/users/friends/{friendId}': {
    delete: {
      operationId: 'removeFriend',
      summary: 'Remove a friendship',
      auth: 'user',
      params: { friendId: friendIdParam },
      data: NO_DATA,
      errors: [404]
    }
  },
  '/users/friend-requests': {
    post: {
      operationId: 'sendFriendRequest',
      summary: 'Ask a user to be friends; the target gets frame 1011',
      description: 'Asking again returns the same pending request. When the target has already asked the caller, this accepts that request (status 1, the target gets 1012). At most 100 requests of a user wait for answers, and 1000 to a user (429 beyond).',
      auth: 'user',
      body: body({ toId: ref('UserId'), message: { type: 'string', maxLength: 200, description: 'optional, shown to the target' } }, ['message']),
      data: ref('FriendRequest'),
      errors: [403, 404, 409, 429]
    },
    get: {
      operationId: 'friendRequests',
      summary: 'The pending requests to and from the caller, oldest first',
      auth: 'user',
      data: object({ incoming: { type: 'array', items: ref('FriendRequest') }, outgoing: { type: 'array', items: ref('FriendRequest') } })
    }
  },
  ...Object.fromEntries(([
    ['accept', 'acceptFriendRequest', 'Accept (the target only): both become friends, the requester gets frame 1012; accepting again is fine'],
    ['decline', 'declineFriendRequest', 'Decline (the target only); declining again is fine'],
    ['cancel', 'cancelFriendRequest', 'Withdraw (the sender only); cancelling again is fine']
  ] as const).map(([verb, operationId, summary]) => [`/users/friend-requests/{requestId}/${verb}`, {
    post: {
      operationId,
      summary,
      auth: 'user',
      params: { requestId: { type: 'string', pattern: '^[1-9][0-9]{0,18}$', description: 'the request' } },
      data: ref('FriendRequest'),
      errors: [403, 404, 409]
    }
  }])),
  '/users/blacklist': {
    get: {
      operationId: 'blacklist',
      summary: 'The users the caller blocks',
      auth: 'user',
      data: { type: 'array', items: object({ userId: ref('UserId'), username: { type: 'string' } }) }
    },
    post: {
      operationId: 'block',
      summary: 'Block a user from messaging the caller',
      auth: 'user',
      body: body({ userId: { ...ref('UserId'), description: 'the user to block' } }),
      data: NO_DATA,
      errors: [404]
    }
  },
  '/users/blacklist/{userId}': {
    delete: {
      operationId: 'unblock',
      summary: 'Unblock a user',
      auth: 'user',
      params: { userId: { ...ref('UserId'), description: 'the blocked user' } },
      data: NO_DATA,
      errors: [404]
    }
  }
}
