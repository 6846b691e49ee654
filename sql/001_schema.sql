-- implus schema: the seed's seven tables adapted to PostgreSQL, plus what the
-- API needs (friendships, blacklist, group members, token versions).
-- All 64-bit ids are bigint; conversation ids are text (private_{a}_{b}, group_{id}).

CREATE TABLE users (
  user_id         bigint PRIMARY KEY,
  username        text NOT NULL,
  password_hash   text NOT NULL,
  status          smallint NOT NULL DEFAULT 1,      -- 1 normal, 2 banned
  muted_until     timestamptz,
  token_version   integer NOT NULL DEFAULT 0,       -- bumped by logout and ban: revokes every earlier token
  last_login_time timestamptz,
  create_time     timestamptz NOT NULL DEFAULT now(),
  update_time     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE friendships (
  user_id     bigint NOT NULL REFERENCES users (user_id),
  friend_id   bigint NOT NULL REFERENCES users (user_id),
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, friend_id)
);

CREATE TABLE blacklist (
  user_id     bigint NOT NULL REFERENCES users (user_id),   -- who blocks
  blocked_id  bigint NOT NULL REFERENCES users (user_id),   -- who may not message user_id
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, blocked_id)
);

CREATE TABLE conversation (
  conversation_id text PRIMARY KEY,
  type            smallint NOT NULL,                -- 0 private, 1 group
  name            text,
  description     text,
  owner_id        bigint,
  member_count    integer NOT NULL DEFAULT 0,
  last_msg_id     bigint,
  last_seq        bigint NOT NULL DEFAULT 0,
  last_msg_time   timestamptz,
  create_time     timestamptz NOT NULL DEFAULT now(),
  update_time     timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 80);

CREATE TABLE group_members (
  conversation_id text NOT NULL REFERENCES conversation (conversation_id),
  user_id         bigint NOT NULL REFERENCES users (user_id),
  role            smallint NOT NULL DEFAULT 0,      -- 0 member, 1 owner
  join_time       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, user_id)
);
CREATE INDEX group_members_user ON group_members (user_id);

CREATE TABLE message (
  msg_id           bigint PRIMARY KEY,
  conversation_id  text NOT NULL,
  conversation_seq bigint NOT NULL,
  sender_id        bigint NOT NULL,
  receiver_id      bigint,                           -- private only
  msg_type         smallint NOT NULL,                -- 1 private, 2 group
  content_type     smallint NOT NULL DEFAULT 1,
  content          text NOT NULL,
  status           smallint NOT NULL DEFAULT 0,      -- 0 sent, 1 delivered, 2 read, 3 recalled, 4 push failed
  client_seq       text NOT NULL,
  send_time        timestamptz NOT NULL,
  update_time      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (conversation_id, conversation_seq),
  UNIQUE (sender_id, client_seq)                     -- idempotency that survives restarts
) WITH (fillfactor = 85);                            -- room for HOT updates of status (ACKs, reads)

CREATE TABLE user_msg_list (
  user_id         bigint NOT NULL,
  seq             bigint NOT NULL,                   -- the user's userSeq
  msg_id          bigint NOT NULL,
  conversation_id text NOT NULL,
  create_time     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, seq)
);
CREATE INDEX user_msg_list_msg ON user_msg_list (msg_id);

CREATE TABLE conversation_msg_list (
  conversation_id text NOT NULL,
  seq             bigint NOT NULL,
  msg_id          bigint NOT NULL,
  create_time     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, seq)
);

CREATE TABLE user_conversation_list (
  user_id          bigint NOT NULL,
  conversation_id  text NOT NULL,
  last_read_seq    bigint NOT NULL DEFAULT 0,
  sync_seq         bigint NOT NULL DEFAULT 0,         -- group: the member's ACK point (2006)
  unread_count     integer NOT NULL DEFAULT 0,        -- private: maintained on write; group: derived from seqs
  last_msg_id      bigint,
  last_update_time timestamptz,
  create_time      timestamptz NOT NULL DEFAULT now(),
  update_time      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, conversation_id)
) WITH (fillfactor = 80);   -- every message updates two rows: keep those updates HOT (no indexed column changes)

-- One row per sequence key (u:{userId}, c:{conversationId}): max_seq is the
-- committed upper bound of the segment in use; numbers above it are never handed out
-- before a new bound is committed, so a restart resumes above it and reuses nothing.
CREATE TABLE sequence_section (
  section_key text PRIMARY KEY,
  max_seq     bigint NOT NULL DEFAULT 0,
  step        integer NOT NULL DEFAULT 10000,
  version     bigint NOT NULL DEFAULT 0,
  create_time timestamptz NOT NULL DEFAULT now(),
  update_time timestamptz NOT NULL DEFAULT now()
);

-- Group ids: one PostgreSQL sequence serves every host of a cluster.
CREATE SEQUENCE group_id_seq START 1000;
