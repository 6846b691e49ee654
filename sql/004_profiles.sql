-- Profiles and accounts (docs/protocol.md "Profiles and accounts"): a display name and an avatar URL,
-- unique usernames (case-insensitive: login and lookup by username), and the seed's soft delete.
ALTER TABLE users
  ADD COLUMN display_name text,                     -- null: shown as the username
  ADD COLUMN avatar_url   text,
  ADD COLUMN deleted_time timestamptz;              -- set: the account is deleted (logins and sends refused)
-- Usernames registered before they had to be unique keep working: later duplicates get "#{userId}" appended.
UPDATE users u SET username = u.username || '#' || u.user_id
WHERE EXISTS (SELECT 1 FROM users o WHERE lower(o.username) = lower(u.username) AND o.user_id < u.user_id);
CREATE UNIQUE INDEX users_username ON users (lower(username));
