-- One account's batch, atomically, in one round trip (fhirwall's RedisQuotaStore): give back the
-- concurrency slots of requests that ended, record patients disclosed again (answers admitted from
-- the replica's memory of what this account has already been charged), then admit the requests
-- waiting to be forwarded, in order, against the lock, the rate and the concurrency.
-- The rate is a GCRA: a bucket of `burst` permits refilled one per `interval`, kept as one
-- theoretical arrival time (TAT, epoch microseconds). Requests in flight are a sorted set of
-- tickets scored by the end of their lease (epoch ms), so a replica that dies frees its slots
-- when their leases end.
-- KEYS[1]: the TAT (string), KEYS[2]: the tickets (sorted set), KEYS[3]: the account's lock (hash),
--          KEYS[4..]: windows (sorted sets: patient -> epoch ms of its last disclosure) to record in;
--          all in the account's hash slot.
-- ARGV: R, then R tickets to give back;
--       for each window of KEYS[4..]: its length (ms), C, then C pairs (epoch ms, patient);
--       E, then E requests to admit: now (epoch us), interval (us), burst, permits, concurrent,
--       ticket, lease end (epoch ms).
-- Returns {locked (1 or 0), since, until, reason, then E outcomes: 0 entered, -1 too many at once,
-- > 0 over the rate (wait in us)}; a locked account admits none.
local a = 1
local r = tonumber(ARGV[a])
if r > 0 then
  redis.call('ZREM', KEYS[2], unpack(ARGV, a + 1, a + r))
end
a = a + r + 1
for k = 4, #KEYS do
  local length = tonumber(ARGV[a])
  local c = tonumber(ARGV[a + 1])
  if c > 0 then
    redis.call('ZADD', KEYS[k], 'GT', unpack(ARGV, a + 2, a + 1 + 2 * c))
    if redis.call('PTTL', KEYS[k]) < length then
      redis.call('PEXPIRE', KEYS[k], length)
    end
  end
  a = a + 2 + 2 * c
end
local e = tonumber(ARGV[a])
local out = {0, '', '', ''}
if e == 0 then
  return out
end
local first = a + 1
local latest = 0
for i = 0, e - 1 do
  latest = math.max(latest, tonumber(ARGV[first + 7 * i]))
end
local lock = redis.call('HMGET', KEYS[3], 'since', 'until', 'reason')
if lock[2] and tonumber(lock[2]) > math.floor(latest / 1000) then
  return {1, lock[1], lock[2], lock[3]}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', math.floor(latest / 1000))
local inflight = redis.call('ZCARD', KEYS[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
local entered, leaseEnd = {}, 0
for i = 0, e - 1 do
  local b = first + 7 * i
  local now, interval, burst = tonumber(ARGV[b]), tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2])
  if inflight >= tonumber(ARGV[b + 4]) then
    out[#out + 1] = -1
  else
    local newTat = math.max(tat, now) + tonumber(ARGV[b + 3]) * interval
    local allowAt = newTat - burst * interval
    if allowAt > now then
      out[#out + 1] = allowAt - now
    else
      tat = newTat
      inflight = inflight + 1
      entered[#entered + 1] = ARGV[b + 6]
      entered[#entered + 1] = ARGV[b + 5]
      leaseEnd = math.max(leaseEnd, tonumber(ARGV[b + 6]))
      out[#out + 1] = 0
    end
  end
end
if #entered > 0 then
  redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - latest) / 1000) + 1000)
  redis.call('ZADD', KEYS[2], unpack(entered))
  local ttl = leaseEnd - math.floor(latest / 1000)
  if redis.call('PTTL', KEYS[2]) < ttl then
    redis.call('PEXPIRE', KEYS[2], ttl)
  end
end
return out
