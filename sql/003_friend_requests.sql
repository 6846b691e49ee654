-- Friend requests (docs/protocol.md "Friends"): a friendship needs the other user's consent.
CREATE TABLE friend_requests (
  request_id  bigserial PRIMARY KEY,
  from_id     bigint NOT NULL REFERENCES users (user_id),
  to_id       bigint NOT NULL REFERENCES users (user_id),
  message     text NOT NULL DEFAULT '',
  status      smallint NOT NULL DEFAULT 0,          -- 0 pending, 1 accepted, 2 declined, 3 cancelled
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now()
);
-- At most one pending request from a user to another; resending returns it.
CREATE UNIQUE INDEX friend_requests_pending ON friend_requests (from_id, to_id) WHERE status = 0;
CREATE INDEX friend_requests_incoming ON friend_requests (to_id) WHERE status = 0;
