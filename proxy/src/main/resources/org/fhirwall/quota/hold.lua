-- Hold an account after an answer refused over a limit (fhirwall's RedisQuotaStore.hold), never
-- shortening a hold in force; the key expires with the hold.
-- KEYS[1]: the account's hold (string: epoch ms until which it is held).
-- ARGV: until (epoch ms), now (epoch ms).
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
local untilMs = tonumber(ARGV[1])
if untilMs > cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', math.max(1, untilMs - tonumber(ARGV[2])))
end
return 1
