-- Check and charge one response's patients to one account, atomically (fhirwall's RedisQuotaStore),
-- against both budgets: every patient (patient-limits) and the patients outside the principal's care
-- relationships (unexplained-limits). One round trip, one slot: all keys share the account's hash tag.
-- KEYS: T sorted sets, one per window length the account is tracked under, then U sorted sets, one per
--       window length its unexplained patients are tracked under (member: patient id, score: epoch ms
--       of its last disclosure).
-- ARGV: now (epoch ms), enforce (1 or 0), T, L (number of limits), T window lengths (ms, in KEYS order),
--       L pairs (key index 1..T, max),
--       U, UL (number of unexplained limits), uenforce (1 or 0), U lengths (ms), UL pairs (key index 1..U, max),
--       NP (number of patients), the NP patients, then the unexplained patients (a subset of them).
-- With the hold asked again (a role that refuses at its limit): one more key, the account's hold (string:
--       epoch ms until which it is held), and after the unexplained patients the NN patients the request
--       names, then NN. While a window of the L limits is full or a hold is in force, unless every named
--       patient is counted in each, nothing is charged; an answer refused over a limit holds the account.
-- Limits are numbered 1..L then L+1..L+UL (the unexplained ones).
-- Returns {1, would-refuse limit index or 0, new patients in the longest limit, distinct after, per limit}
--      or {0, breached limit index, retry after (ms), distinct with this response in the breached one,
--          distinct now, per limit}
--      or {2, index of the first full limit (0: none, a hold in force), held until (epoch ms)}.
local now = tonumber(ARGV[1])
local enforce = ARGV[2] == '1'
local t = tonumber(ARGV[3])
local l = tonumber(ARGV[4])
local b = 5 + t + 2 * l
local u = tonumber(ARGV[b])
local ul = tonumber(ARGV[b + 1])
local uenforce = ARGV[b + 2] == '1'
local ub = b + 3
local np = tonumber(ARGV[ub + u + 2 * ul])
local first = ub + u + 2 * ul + 1
local hold, named, last = nil, {}, #ARGV
if #KEYS > t + u then
  hold = KEYS[t + u + 1]
  local nn = tonumber(ARGV[#ARGV])
  last = #ARGV - nn - 1
  for i = last + 1, #ARGV - 1 do named[#named + 1] = ARGV[i] end
end

local lengths = {}
for i = 1, t do
  lengths[i] = tonumber(ARGV[4 + i])
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', now - lengths[i])
end
for i = 1, u do
  lengths[t + i] = tonumber(ARGV[ub + i - 1])
  redis.call('ZREMRANGEBYSCORE', KEYS[t + i], '-inf', now - lengths[t + i])
end

local patients, unexplained = {}, {}
local asked, uasked = {}, {}
for i = first, first + np - 1 do
  patients[#patients + 1] = ARGV[i]
  asked[ARGV[i]] = true
end
for i = first + np, last do
  unexplained[#unexplained + 1] = ARGV[i]
  uasked[ARGV[i]] = true
end
local CHUNK = 500

local function fresh(key, list)
  local n = 0
  for i = 1, #list, CHUNK do
    local scores = redis.call('ZMSCORE', key, unpack(list, i, math.min(i + CHUNK - 1, #list)))
    for _, s in ipairs(scores) do
      if not s then n = n + 1 end
    end
  end
  return n
end

-- every limit as {key index into KEYS, max, its patients, their set, enforced?}
local limits = {}
for j = 1, l do
  limits[j] = {tonumber(ARGV[4 + t + 2 * j - 1]), tonumber(ARGV[4 + t + 2 * j]), patients, asked, enforce}
end
for j = 1, ul do
  limits[l + j] = {t + tonumber(ARGV[ub + u + 2 * j - 2]), tonumber(ARGV[ub + u + 2 * j - 1]), unexplained, uasked, uenforce}
end

if hold then
  local heldUntil = tonumber(redis.call('GET', hold) or '0')
  if heldUntil <= now then heldUntil = 0 end
  local full = 0
  for j = 1, l do
    local k, max = limits[j][1], limits[j][2]
    local size = redis.call('ZCARD', KEYS[k])
    if size >= max then
      -- room comes back when the (size - max + 1)-th oldest disclosure leaves
      local leaving = redis.call('ZRANGE', KEYS[k], size - max, size - max, 'WITHSCORES')
      heldUntil = math.max(heldUntil, tonumber(leaving[2]) + lengths[k])
      if full == 0 then full = j end
    end
  end
  if heldUntil > 0 then
    local counted = #named > 0
    for j = 1, l do
      if counted and fresh(KEYS[limits[j][1]], named) > 0 then counted = false end
    end
    if not counted then return {2, full, heldUntil} end
  end
end

local sizes, after, freshOf = {}, {}, {}
local breached, would, newest = 0, 0, 0
for j = 1, #limits do
  local k, max, list = limits[j][1], limits[j][2], limits[j][3]
  sizes[j] = redis.call('ZCARD', KEYS[k])
  freshOf[j] = fresh(KEYS[k], list)
  after[j] = sizes[j] + freshOf[j]
  if j <= l and freshOf[j] > newest then newest = freshOf[j] end
  if after[j] > max then
    if limits[j][5] then
      if breached == 0 then breached = j end
    elseif would == 0 then
      would = j
    end
  end
end

if breached > 0 then
  local k, max, list, set = limits[breached][1], limits[breached][2], limits[breached][3], limits[breached][4]
  local length = lengths[k]
  local retry = length
  local excess = after[breached] - max
  if freshOf[breached] <= max then
    -- when enough of the oldest patients (those not in this response) will have left the window
    local oldest = redis.call('ZRANGE', KEYS[k], 0, excess + #list - 1, 'WITHSCORES')
    local dropped = 0
    for i = 1, #oldest, 2 do
      if not set[oldest[i]] then
        dropped = dropped + 1
        if dropped >= excess then
          retry = math.max(1000, tonumber(oldest[i + 1]) + length - now)
          break
        end
      end
    end
  end
  if hold then
    -- held in the same step: an answer charged next cannot tell by its refusal what it held
    local untilMs = now + retry
    if untilMs > tonumber(redis.call('GET', hold) or '0') then
      redis.call('SET', hold, string.format('%.0f', untilMs), 'PX', retry)
    end
  end
  local out = {0, breached, retry, after[breached]}
  for j = 1, #limits do out[#out + 1] = sizes[j] end
  return out
end

local function record(key, length, list)
  for p = 1, #list, CHUNK do
    local args = {}
    for q = p, math.min(p + CHUNK - 1, #list) do
      args[#args + 1] = ARGV[1]
      args[#args + 1] = list[q]
    end
    redis.call('ZADD', key, 'GT', unpack(args))
  end
  if redis.call('EXISTS', key) == 1 then
    redis.call('PEXPIRE', key, length)
  end
end
for i = 1, t do record(KEYS[i], lengths[i], patients) end
for i = 1, u do record(KEYS[t + i], lengths[t + i], unexplained) end
local out = {1, would, newest}
for j = 1, #limits do out[#out + 1] = after[j] end
return out
