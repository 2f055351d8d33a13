-- Count events of one watch (not-found answers, EPR failures) for one account in a sliding window
-- (fhirwall's RedisQuotaStore).
-- KEYS[1]: sorted set of events (member: unique id, score: epoch ms).
-- ARGV: now (epoch ms), window (ms), n, max, a unique id for this call.
-- Returns 1 when the events make more than max within the window (and counting starts over), else 0.
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
for i = 1, tonumber(ARGV[3]) do
  redis.call('ZADD', KEYS[1], now, ARGV[5] .. ':' .. i)
end
if redis.call('ZCARD', KEYS[1]) > tonumber(ARGV[4]) then
  redis.call('DEL', KEYS[1])
  return 1
end
redis.call('PEXPIRE', KEYS[1], window)
return 0
