-- Gives the node slot (KEYS[1]) up only if this host (ARGV[1]) still holds it.
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
