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
      body: body({ userId: ref('UserId'), username: { type: 'string', minLength: 1, maxLength: 64 }, password: { type: 'string', minLength: 8, maxLength: 128 } }),
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
      body: body({ userId: ref('UserId'), password: { type: 'string', minLength: 1, maxLength: 128 } }),
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
        status: { enum: [1, 2], description: '1 normal, 2 banned' },
        createTime: ref('Time'),
        lastLoginTime: nullable(ref('Time'))
      }),
      errors: [404]
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
      summary: 'Add a mutual friendship',
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
  '/users/blacklist': {
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
