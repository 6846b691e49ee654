-- Renews this host's node-slot lease (KEYS[1]) for ARGV[2] seconds unless another host holds the slot
-- (it claimed it while Redis had lost its data): then returns that host (ARGV[1] is this host), else ''.
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then return owner end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return ''
