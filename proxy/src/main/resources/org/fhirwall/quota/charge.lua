-- Check and charge one response's patients to one account, atomically (fhirwall's RedisQuotaStore).
-- KEYS: one sorted set per window length the account is tracked under (member: patient id,
--       score: epoch ms of its last disclosure), all in the account's hash slot.
-- ARGV: now (epoch ms), enforce (1 or 0), T (number of keys), L (number of limits),
--       T window lengths (ms, in KEYS order), L pairs (key index 1..T, max), then the patients.
-- Returns {1, breached limit index or 0, new patients in the longest limit, distinct after, per limit}
--      or {0, breached limit index, retry after (ms), distinct with this response in the breached one,
--          distinct now, per limit}.
local now = tonumber(ARGV[1])
local enforce = ARGV[2] == '1'
local t = tonumber(ARGV[3])
local l = tonumber(ARGV[4])
local lengths = {}
for i = 1, t do
  lengths[i] = tonumber(ARGV[4 + i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - lengths[i])
end
local first = 5 + t + 2 * l
local patients = {}
local asked = {}
for i = first, #ARGV do
  patients[#patients + 1] = ARGV[i]
  asked[ARGV[i]] = true
end
local CHUNK = 500

local function fresh(key)
  local n = 0
  for i = 1, #patients, CHUNK do
    local scores = redis.call('ZMSCORE', key, unpack(patients, i, math.min(i + CHUNK - 1, #patients)))
    for _, s in ipairs(scores) do
      if not s then n = n + 1 end
    end
  end
  return n
end

local sizes, after, freshOf = {}, {}, {}
local breached, newest = 0, 0
for j = 1, l do
  local k = tonumber(ARGV[4 + t + 2 * j - 1])
  local max = tonumber(ARGV[4 + t + 2 * j])
  sizes[j] = redis.call('ZCARD', KEYS[k])
  freshOf[j] = fresh(KEYS[k])
  after[j] = sizes[j] + freshOf[j]
  if freshOf[j] > newest then newest = freshOf[j] end
  if after[j] > max and breached == 0 then breached = j end
end

if breached > 0 and enforce then
  local k = tonumber(ARGV[4 + t + 2 * breached - 1])
  local max = tonumber(ARGV[4 + t + 2 * breached])
  local length = lengths[k]
  local retry = length
  local excess = after[breached] - max
  if freshOf[breached] <= max then
    -- when enough of the oldest patients (those not in this response) will have left the window
    local oldest = redis.call('ZRANGE', KEYS[k], 0, excess + #patients - 1, 'WITHSCORES')
    local dropped = 0
    for i = 1, #oldest, 2 do
      if not asked[oldest[i]] then
        dropped = dropped + 1
        if dropped >= excess then
          retry = math.max(1000, tonumber(oldest[i + 1]) + length - now)
          break
        end
      end
    end
  end
  local out = {0, breached, retry, after[breached]}
  for j = 1, l do out[#out + 1] = sizes[j] end
  return out
end

for i = 1, t do
  for p = 1, #patients, CHUNK do
    local args = {}
    for q = p, math.min(p + CHUNK - 1, #patients) do
      args[#args + 1] = ARGV[1]
      args[#args + 1] = patients[q]
    end
    redis.call('ZADD', KEYS[i], 'GT', unpack(args))
  end
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('PEXPIRE', KEYS[i], lengths[i])
  end
end
local out = {1, breached, newest}
for j = 1, l do out[#out + 1] = after[j] end
return out
