-- Lock an account, never shortening a lock in force (fhirwall's RedisQuotaStore).
-- KEYS[1]: the account's lock (hash: since, until, reason, account; expires at `until`).
-- ARGV: now (epoch ms), since (epoch ms), until (epoch ms), reason, account.
-- Returns the lock in force afterwards: {since, until, reason}.
local cur = redis.call('HMGET', KEYS[1], 'since', 'until', 'reason')
if cur[2] and tonumber(cur[2]) > tonumber(ARGV[1]) and tonumber(cur[2]) >= tonumber(ARGV[3]) then
  return {cur[1], cur[2], cur[3]}
end
redis.call('HSET', KEYS[1], 'since', ARGV[2], 'until', ARGV[3], 'reason', ARGV[4], 'account', ARGV[5])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
return {ARGV[2], ARGV[3], ARGV[4]}
