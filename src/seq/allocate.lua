-- Allocates ARGV[i] numbers for each KEYS[i] (a hash: last = last number handed
-- out, max = upper bound of the reserved segment), atomically for all keys.
-- If any key lacks room nothing is allocated and the reply is {0, {indexes}}:
-- the caller reserves segments in PostgreSQL, applies them with extend.lua and
-- tries again. Otherwise the reply is {1, {first number of each key}}.
local short = {}
for i, key in ipairs(KEYS) do
  local last = tonumber(redis.call('HGET', key, 'last') or '0')
  local max = tonumber(redis.call('HGET', key, 'max') or '0')
  if last + tonumber(ARGV[i]) > max then
    short[#short + 1] = i
  end
end
if #short > 0 then
  return {0, short}
end
local first = {}
for i, key in ipairs(KEYS) do
  local n = tonumber(ARGV[i])
  first[#first + 1] = redis.call('HINCRBY', key, 'last', n) - n + 1
end
return {1, first}
