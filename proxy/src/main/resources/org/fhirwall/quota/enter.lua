-- One account's batch, atomically, in one round trip (fhirwall's RedisQuotaStore): give back the
-- concurrency slots of requests that ended, record patients disclosed again (answers admitted from
-- the replica's memory of what this account has already been charged), then admit the requests
-- waiting to be forwarded, in order, against the lock, the rate and the concurrency, and tell for
-- those of a role that refuses answers at its limit whether they are held (the hold checks).
-- The rate is a GCRA: a bucket of `burst` permits refilled one per `interval`, kept as one
-- theoretical arrival time (TAT, epoch microseconds). Requests in flight are a sorted set of
-- tickets scored by the end of their lease (epoch ms), so a replica that dies frees its slots
-- when their leases end.
-- A hold check (what RedisQuotaStore.held asks; reads only): a request is held while a window of its
-- ceiling is full, or while the account is held after an answer refused over a limit (KEYS[4], written
-- by hold.lua), unless every patient it names is counted in each of those windows.
-- KEYS[1]: the TAT (string), KEYS[2]: the tickets (sorted set), KEYS[3]: the account's lock (hash),
--          KEYS[4]: the account's hold (string: epoch ms until which it is held),
--          KEYS[5..]: windows (sorted sets: patient -> epoch ms of its last disclosure), to record in
--          or to check; all in the account's hash slot.
-- ARGV: R, then R tickets to give back;
--       W, then for each window to record in (KEYS[5..4+W]): its length (ms), C, then C pairs
--       (epoch ms, patient);
--       E, then E requests to admit: now (epoch us), interval (us), burst, permits, concurrent,
--       ticket, lease end (epoch ms);
--       Q, then Q hold checks: now (epoch ms), H, then H triples (index in KEYS of a window of the
--       ceiling, its length (ms), its max), N, then the N patients the request names.
-- Returns {locked (1 or 0), since, until, reason, then E outcomes: 0 entered, -1 too many at once,
-- > 0 over the rate (wait in us), then for each hold check: until (epoch ms; 0: not held) and the
-- index (1..H) of the first full window of its ceiling (0: none)}; a locked account admits none and
-- its checks are not made.
local a = 1
local r = tonumber(ARGV[a])
if r > 0 then
  redis.call('ZREM', KEYS[2], unpack(ARGV, a + 1, a + r))
end
a = a + r + 1
local w = tonumber(ARGV[a])
a = a + 1
for k = 5, 4 + w do
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
local first = a + 1
local checks = first + 7 * e
local out = {0, '', '', ''}

-- {until, full} of the hold check whose arguments start at ARGV[b]; the next check's start
local function held(b)
  local now = tonumber(ARGV[b])
  local h = tonumber(ARGV[b + 1])
  local named = b + 2 + 3 * h
  local n = tonumber(ARGV[named])
  local after = named + 1 + n
  local heldUntil = tonumber(redis.call('GET', KEYS[4]) or '0')
  if heldUntil <= now then
    heldUntil = 0
  end
  local full = 0
  for i = 0, h - 1 do
    local key, length, max = KEYS[tonumber(ARGV[b + 2 + 3 * i])], tonumber(ARGV[b + 3 + 3 * i]), tonumber(ARGV[b + 4 + 3 * i])
    local horizon = '(' .. string.format('%.0f', now - length)
    local size = redis.call('ZCOUNT', key, horizon, '+inf')
    if size >= max then
      -- room comes back when the (size - max + 1)-th oldest disclosure leaves
      local leaving = redis.call('ZRANGEBYSCORE', key, horizon, '+inf', 'WITHSCORES', 'LIMIT', size - max, 1)
      heldUntil = math.max(heldUntil, tonumber(leaving[2]) + length)
      if full == 0 then
        full = i + 1
      end
    end
  end
  if heldUntil == 0 or n == 0 then
    return heldUntil, full, after
  end
  for i = 0, h - 1 do
    local key, horizon = KEYS[tonumber(ARGV[b + 2 + 3 * i])], now - tonumber(ARGV[b + 3 + 3 * i])
    local scores = redis.call('ZMSCORE', key, unpack(ARGV, named + 1, named + n))
    for _, s in ipairs(scores) do
      if not s or tonumber(s) <= horizon then
        return heldUntil, full, after
      end
    end
  end
  return 0, 0, after
end

local function checked()
  local q = tonumber(ARGV[checks])
  local b = checks + 1
  for _ = 1, q do
    local heldUntil, full
    heldUntil, full, b = held(b)
    out[#out + 1] = heldUntil
    out[#out + 1] = full
  end
  return out
end

if e == 0 then
  return checked()
end
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
return checked()
