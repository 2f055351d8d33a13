-- Admit one request of an account that is not locked against its rate and concurrency, atomically,
-- in one round trip (fhirwall's RedisQuotaStore).
-- The rate is a GCRA: a bucket of `burst` permits refilled one per `interval`, kept as one
-- theoretical arrival time (TAT, epoch microseconds). Requests in flight are a sorted set of
-- tickets scored by the end of their lease (epoch ms), so a replica that dies frees its slots
-- when their leases end.
-- KEYS[1]: the TAT (string), KEYS[2]: the tickets (sorted set), KEYS[3]: the account's lock (hash);
-- all in the account's hash slot.
-- ARGV: now (epoch us), interval (us), burst, permits, concurrent, ticket, lease end (epoch ms).
-- Returns {1, 0} (entered), {0, -2, since, until, reason} (locked), {0, -1} (too many at once) or
-- {0, wait in us} (over the rate).
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local burst = tonumber(ARGV[3])
local permits = tonumber(ARGV[4])
local leaseEnd = tonumber(ARGV[7])
local lock = redis.call('HMGET', KEYS[3], 'since', 'until', 'reason')
if lock[2] and tonumber(lock[2]) > math.floor(now / 1000) then
  return {0, -2, lock[1], lock[2], lock[3]}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', math.floor(now / 1000))
if redis.call('ZCARD', KEYS[2]) >= tonumber(ARGV[5]) then
  return {0, -1}
end
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local newTat = tat + permits * interval
local allowAt = newTat - burst * interval
if allowAt > now then
  return {0, allowAt - now}
end
redis.call('SET', KEYS[1], string.format('%.0f', newTat), 'PX', math.ceil((newTat - now) / 1000) + 1000)
redis.call('ZADD', KEYS[2], leaseEnd, ARGV[6])
local ttl = leaseEnd - math.floor(now / 1000)
if redis.call('PTTL', KEYS[2]) < ttl then
  redis.call('PEXPIRE', KEYS[2], ttl)
end
return {1, 0}
