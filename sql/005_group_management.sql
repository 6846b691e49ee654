-- Group management (docs/protocol.md "Groups"): notice, avatar, status, mute-all; admins (group_members.role
-- 2, besides 0 member and 1 owner) and per-member mutes.
ALTER TABLE conversation
  ADD COLUMN notice     text,
  ADD COLUMN avatar_url text,
  ADD COLUMN status     smallint NOT NULL DEFAULT 1,   -- groups: 1 active, 2 dismissed (sends refused, history kept)
  ADD COLUMN mute_all   boolean NOT NULL DEFAULT false; -- only the owner and admins may send
ALTER TABLE group_members
  ADD COLUMN muted_until timestamptz;                   -- muted in this group until then
