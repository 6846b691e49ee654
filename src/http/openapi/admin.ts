// OpenAPI source of the admin endpoints (src/http/admin.ts).
import { body, nullable, object, ref, type PathSpecs } from './spec.js'

export const adminPaths: PathSpecs = {
  '/admin/users/{userId}/status': {
    post: {
      operationId: 'adminSetUserStatus',
      summary: 'Ban, unban or mute a user',
      description: "Banning kicks the user's connections (1002). `mutedUntil` omitted leaves a mute as it is, null lifts it; muted users' sends get 1006 (403).",
      auth: 'admin',
      params: { userId: { ...ref('UserId'), description: 'the user' } },
      body: body({ status: { enum: [1, 2], description: '1 normal, 2 banned' }, mutedUntil: nullable(ref('Time')) }, ['mutedUntil']),
      data: object({ userId: ref('UserId'), status: { enum: [1, 2] }, mutedUntil: nullable(ref('Time')) }),
      errors: [404]
    }
  }
}
