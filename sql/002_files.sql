-- Uploaded files (docs/protocol.md "Files"). One row per stored object: an upload, or the thumbnail the
-- server made of an uploaded image (parent_id names the image; the two live and die together).
CREATE TABLE files (
  file_id       bigint PRIMARY KEY,                -- random, so ids cannot be guessed from one another
  owner_id      bigint NOT NULL,                   -- the uploader
  parent_id     bigint,                            -- a thumbnail's image
  name          text NOT NULL,
  size          bigint NOT NULL,
  mime_type     text NOT NULL,                     -- sniffed from the bytes, never the client's word
  sha256        text NOT NULL,                     -- hex; also the ETag
  width         integer,                           -- images the server could decode
  height        integer,
  thumbnail_id  bigint,
  storage_key   text NOT NULL,
  -- No message refers to it yet: the sweep deletes it once older than the retention.
  pending       boolean NOT NULL DEFAULT true,
  -- A send was checked against it: the sweep keeps it another retention period, so a message being
  -- committed never refers to a file deleted meanwhile.
  checked_time  timestamptz,
  -- Claimed by a sweep that is deleting its object; gone for everyone from then on.
  deleting_time timestamptz,
  create_time   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX files_owner_time ON files (owner_id, create_time);
CREATE INDEX files_pending ON files (create_time) WHERE pending AND parent_id IS NULL;
CREATE INDEX files_parent ON files (parent_id) WHERE parent_id IS NOT NULL;

-- Which messages carry which files: who may download a file follows from these messages' conversations.
CREATE TABLE message_files (
  file_id bigint NOT NULL,
  msg_id  bigint NOT NULL,
  PRIMARY KEY (file_id, msg_id)
);
