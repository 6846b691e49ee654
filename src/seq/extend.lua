-- Applies segments reserved in PostgreSQL: KEYS[i] gets the range
-- (ARGV[2i-1] - ARGV[2i], ARGV[2i-1]]. A range adjacent to the current one
-- extends it; any other (another host reserved in between, or Redis lost its
-- data) starts numbering at its low end, so no number is ever handed out twice.
-- A range below the current bound (a host that lost the race) is ignored.
for i, key in ipairs(KEYS) do
  local newMax = tonumber(ARGV[2 * i - 1])
  local amount = tonumber(ARGV[2 * i])
  local max = tonumber(redis.call('HGET', key, 'max') or '0')
  if newMax > max then
    if max ~= newMax - amount then
      redis.call('HSET', key, 'last', newMax - amount)
    end
    redis.call('HSET', key, 'max', newMax)
  end
end
return 1
