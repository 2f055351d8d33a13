-- Bind a key to an owner unless another owner holds it (fhirwall's RedisQuotaStore).
-- KEYS[1]: the binding (string: the owner; expires on its own).
-- ARGV: owner, ttl (ms).
-- Returns 1 when the owner holds the key afterwards (it was free, or already the owner's: then
-- for the whole ttl from now), 0 when another owner does (left as it is).
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
