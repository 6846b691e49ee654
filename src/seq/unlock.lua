-- Releases reservation locks (KEYS) only where this host (ARGV[1]) still holds them: a lock that
-- expired and was taken by another host stays theirs.
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
  end
end
return 1
