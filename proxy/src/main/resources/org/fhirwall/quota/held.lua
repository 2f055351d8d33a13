-- Whether a request of a role that refuses answers at its limit must be refused before the EPR is
-- asked (fhirwall's RedisQuotaStore.held): while a window of its ceiling is full, or while the account
-- is held after an answer refused over a limit; unless every patient the request names is counted
-- in each window. Reads only.
-- KEYS[1]: the account's hold (string: epoch ms until which it is held), KEYS[2..]: the windows of the
--          request's ceiling (sorted sets: patient -> epoch ms of its last disclosure); all in the
--          account's hash slot.
-- ARGV: now (epoch ms), then for each window of KEYS[2..] its length (ms) and max, then the patients
--       the request names.
-- Returns {until (epoch ms; 0: not held), index of the first full window (0: none)}.
local now = tonumber(ARGV[1])
local held = tonumber(redis.call('GET', KEYS[1]) or '0')
if held <= now then
  held = 0
end
local full = 0
local n = #KEYS - 1
for i = 1, n do
  local length, max = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local horizon = '(' .. string.format('%.0f', now - length)
  local size = redis.call('ZCOUNT', KEYS[i + 1], horizon, '+inf')
  if size >= max then
    -- room comes back when the (size - max + 1)-th oldest disclosure leaves
    local leaving = redis.call('ZRANGEBYSCORE', KEYS[i + 1], horizon, '+inf', 'WITHSCORES', 'LIMIT', size - max, 1)
    held = math.max(held, tonumber(leaving[2]) + length)
    if full == 0 then
      full = i
    end
  end
end
if held == 0 then
  return {0, 0}
end
local first = 2 + 2 * n
if #ARGV < first then
  return {held, full}
end
for i = 1, n do
  local horizon = now - tonumber(ARGV[2 * i])
  local scores = redis.call('ZMSCORE', KEYS[i + 1], unpack(ARGV, first, #ARGV))
  for _, s in ipairs(scores) do
    if not s or tonumber(s) <= horizon then
      return {held, full}
    end
  end
end
return {0, 0}
