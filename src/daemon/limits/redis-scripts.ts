/**
 * @module Lua scripts of the Redis limiter. Each runs atomically in Redis, so admission is exact across
 * every daemon sharing the Redis. All of one API key's Redis keys share the hash tag `{keyId}`.
 *
 * KEYS of admit / settle / state: 1 rl (hash: rq, rqts, tk, tkts — token buckets in units × 60,000),
 * 2–4 quota counters for the day / week / month (hash: used, requests, reserved), 5 cr (credits hash:
 * stored, snap, pending, reserved — decimal strings, exact int64 through HINCRBY), 6 seen (zset of balance
 * values the store held recently → expiry), 7 inf (zset admission id → lease expiry), 8 res (hash
 * admission id → "est|estCost|tpmReserved|dayStart|weekStart|monthStart").
 * Money never passes through a Lua number (doubles): it is added with HINCRBY and compared as strings.
 */

/** Idle credit state lives this long in Redis (refreshed by every admission and settlement). */
export const CREDIT_TTL_MS = 30 * 86_400_000;
/** Quota counters touched after their expiry (a request outliving its period by a day) get this TTL. */
const LATE_TTL_MS = 40 * 86_400_000;

const COMMON = `
local UNIT = 60000
local CRTTL = ${CREDIT_TTL_MS}
local function num(s) if s == nil or s == false or s == '' then return nil end return tonumber(s) end
local function neg(s) if s == '0' then return '0' end if string.sub(s, 1, 1) == '-' then return string.sub(s, 2) end return '-' .. s end
local function cmp(a, b)
  local na, nb = string.sub(a, 1, 1) == '-', string.sub(b, 1, 1) == '-'
  if na ~= nb then if na then return -1 else return 1 end end
  local x, y = a, b
  if na then x, y = string.sub(b, 2), string.sub(a, 2) end
  if #x ~= #y then if #x < #y then return -1 else return 1 end end
  if x == y then return 0 end
  if x < y then return -1 else return 1 end
end
local function split(s) local t = {} for p in string.gmatch(s, '([^|]*)') do if p ~= '' then t[#t + 1] = p end end return t end
local function clock(arg)
  local n = num(arg)
  if n then return n end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function refill(level, ts, limit, now)
  local cap = limit * UNIT
  if not level then return cap end
  local l = tonumber(level) + math.max(0, now - tonumber(ts)) * limit
  if l > cap then l = cap end
  return l
end
local function waitms(level, units, limit)
  local miss = units * UNIT - level
  if miss <= 0 then return 0 end
  return math.ceil(miss / limit)
end
local function fullms(rq, rpm, tk, tpm)
  local w = 0
  if rpm then w = math.max(w, waitms(rq, rpm, rpm)) end
  if tpm then w = math.max(w, waitms(tk, tpm, tpm)) end
  return w
end
-- Observes the snapshot's balance: adopt a never-seen value at once; always ask for a refresh on change.
local function observe(cr, seen, credit, now, seenTtl)
  local snap = redis.call('HGET', cr, 'snap')
  if snap == credit then return 0 end
  redis.call('ZREMRANGEBYSCORE', seen, '-inf', now)
  if (not snap) or (not redis.call('ZSCORE', seen, credit)) then redis.call('HSET', cr, 'stored', credit) end
  redis.call('HSET', cr, 'snap', credit)
  redis.call('ZADD', seen, now + seenTtl, credit)
  redis.call('PEXPIRE', cr, CRTTL)
  redis.call('PEXPIRE', seen, CRTTL)
  return 1
end
local function available(cr)
  local v = redis.call('HMGET', cr, 'stored', 'pending', 'reserved')
  if (not v[1]) or v[1] == 'null' then return nil end
  redis.call('HSET', cr, 'tmp', v[1])
  redis.call('HINCRBY', cr, 'tmp', neg(v[2] or '0'))
  redis.call('HINCRBY', cr, 'tmp', neg(v[3] or '0'))
  local a = redis.call('HGET', cr, 'tmp')
  redis.call('HDEL', cr, 'tmp')
  return a
end
-- Releases reservations whose lease ran out (a daemon died with requests in flight).
local function purge(now)
  local expired = redis.call('ZRANGEBYSCORE', KEYS[7], '-inf', now)
  for _, aid in ipairs(expired) do
    local info = redis.call('HGET', KEYS[8], aid)
    if info then
      local f = split(info)
      for i = 1, 3 do
        local start = redis.call('HGET', KEYS[1 + i], 'start')
        if start == f[3 + i] then redis.call('HINCRBY', KEYS[1 + i], 'reserved', neg(f[1])) end
      end
      redis.call('HINCRBY', KEYS[5], 'reserved', neg(f[2]))
      redis.call('HDEL', KEYS[8], aid)
    end
    redis.call('ZREM', KEYS[7], aid)
  end
end
`;

/**
 * ARGV: 1 now ('' = Redis TIME), 2 admission id, 3 lease ms, 4 rpm, 5 tpm, 6 est tokens, 7 est cost,
 * 8 quota, 9 quota period index (1 day, 2 week, 3 month), 10 max concurrent ('' = none), 11 snapshot
 * balance ('null' | digits), 12 seen ttl, 13–15 period starts, 16–18 period ends.
 * Returns {status, refresh, rq, tk, now, ...}: status ok | quota | credits | concurrency | rate.
 */
export const ADMIT = `${COMMON}
local now = clock(ARGV[1])
local rl, cr, seen, inf, res = KEYS[1], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local rpm, tpm, est = num(ARGV[4]), num(ARGV[5]), tonumber(ARGV[6])
purge(now)
local refresh = observe(cr, seen, ARGV[11], now, tonumber(ARGV[12]))
local b = redis.call('HMGET', rl, 'rq', 'rqts', 'tk', 'tkts')
local rq, tk = 0, 0
if rpm then rq = refill(b[1], b[2], rpm, now) end
if tpm then tk = refill(b[3], b[4], tpm, now) end
local quota = num(ARGV[8])
if quota then
  local qk = KEYS[1 + tonumber(ARGV[9])]
  local q = redis.call('HMGET', qk, 'used', 'reserved')
  local used, qres = tonumber(q[1] or '0'), tonumber(q[2] or '0')
  if used >= quota or (qres > 0 and used + qres + est > quota) then return {'quota', refresh, tostring(used), tostring(qres), tostring(now)} end
end
local avail = available(cr)
if avail and (cmp(avail, '0') <= 0 or cmp(ARGV[7], avail) > 0) then return {'credits', refresh, avail} end
local maxc = num(ARGV[10])
if maxc and redis.call('ZCARD', inf) >= maxc then return {'concurrency', refresh, tostring(rq), tostring(tk)} end
local rw, tw = 0, 0
if rpm then rw = waitms(rq, 1, rpm) end
if tpm then tw = waitms(tk, math.max(1, math.min(math.ceil(est), tpm)), tpm) end
if rw > 0 or tw > 0 then return {'rate', refresh, tostring(rq), tostring(tk), tostring(rw), tostring(tw)} end
local tres = 0
if rpm then rq = rq - UNIT; redis.call('HSET', rl, 'rq', tostring(rq), 'rqts', tostring(now)) end
if tpm then tres = est; tk = tk - est * UNIT; redis.call('HSET', rl, 'tk', tostring(tk), 'tkts', tostring(now)) end
if rpm or tpm then redis.call('PEXPIRE', rl, fullms(rq, rpm, tk, tpm) + 1000) end
for i = 1, 3 do
  redis.call('HSET', KEYS[1 + i], 'start', ARGV[12 + i])
  redis.call('HINCRBY', KEYS[1 + i], 'reserved', ARGV[6])
  redis.call('PEXPIRE', KEYS[1 + i], math.max(1000, tonumber(ARGV[15 + i]) - now + 86400000))
end
local lease = tonumber(ARGV[3])
redis.call('ZADD', inf, now + lease, ARGV[2])
redis.call('HSET', res, ARGV[2], ARGV[6] .. '|' .. ARGV[7] .. '|' .. tres .. '|' .. ARGV[13] .. '|' .. ARGV[14] .. '|' .. ARGV[15])
redis.call('PEXPIRE', inf, lease + 60000)
redis.call('PEXPIRE', res, lease + 60000)
redis.call('HINCRBY', cr, 'reserved', ARGV[7])
redis.call('PEXPIRE', cr, CRTTL)
redis.call('PEXPIRE', seen, CRTTL)
return {'ok', refresh, tostring(rq), tostring(tk)}
`;

/**
 * KEYS as admit, with the quota counters of the periods the request was admitted in.
 * ARGV: 1 now, 2 admission id, 3 real tokens, 4 real cost, 5 reached upstream (1/0), 6 tpm.
 * Releases the reservation (unless its lease already expired) and always charges the real amounts.
 */
export const SETTLE = `${COMMON}
local now = clock(ARGV[1])
local info = redis.call('HGET', KEYS[8], ARGV[2])
local est, ecost, tres = '0', '0', 0
if info then
  local f = split(info)
  est, ecost, tres = f[1], f[2], tonumber(f[3])
  redis.call('HDEL', KEYS[8], ARGV[2])
  redis.call('ZREM', KEYS[7], ARGV[2])
end
local tokens = tonumber(ARGV[3])
local tpm = num(ARGV[6])
if tpm then
  local b = redis.call('HMGET', KEYS[1], 'tk', 'tkts')
  local tk = refill(b[1], b[2], tpm, now) + (tres - tokens) * UNIT
  if tk > tpm * UNIT then tk = tpm * UNIT end
  redis.call('HSET', KEYS[1], 'tk', tostring(tk), 'tkts', tostring(now))
  local ttl = redis.call('PTTL', KEYS[1])
  redis.call('PEXPIRE', KEYS[1], math.max(ttl, waitms(tk, tpm, tpm) + 1000))
end
for i = 1, 3 do
  if info then redis.call('HINCRBY', KEYS[1 + i], 'reserved', neg(est)) end
  redis.call('HINCRBY', KEYS[1 + i], 'used', ARGV[3])
  if ARGV[5] == '1' then redis.call('HINCRBY', KEYS[1 + i], 'requests', 1) end
  if redis.call('PTTL', KEYS[1 + i]) < 0 then redis.call('PEXPIRE', KEYS[1 + i], ${LATE_TTL_MS}) end
end
redis.call('HINCRBY', KEYS[5], 'reserved', neg(ecost))
redis.call('HINCRBY', KEYS[5], 'pending', ARGV[4])
redis.call('PEXPIRE', KEYS[5], CRTTL)
return 1
`;

/**
 * KEYS as admit. ARGV: 1 now, 2 snapshot balance, 3 seen ttl, 4 rpm, 5 tpm, 6 quota period index.
 * Returns {refresh, rq, tk, used, requests, reserved, inflight, stored, pending, now}.
 */
export const STATE = `${COMMON}
local now = clock(ARGV[1])
purge(now)
local refresh = observe(KEYS[5], KEYS[6], ARGV[2], now, tonumber(ARGV[3]))
local rpm, tpm = num(ARGV[4]), num(ARGV[5])
local b = redis.call('HMGET', KEYS[1], 'rq', 'rqts', 'tk', 'tkts')
local rq, tk = 0, 0
if rpm then rq = refill(b[1], b[2], rpm, now) end
if tpm then tk = refill(b[3], b[4], tpm, now) end
local q = redis.call('HMGET', KEYS[1 + tonumber(ARGV[6])], 'used', 'requests', 'reserved')
local c = redis.call('HMGET', KEYS[5], 'stored', 'pending')
return {refresh, tostring(rq), tostring(tk), q[1] or '0', q[2] or '0', q[3] or '0',
  tostring(redis.call('ZCARD', KEYS[7])), c[1] or 'null', c[2] or '0', tostring(now)}
`;

/** KEYS: 1 cr, 2 seen, 3 batch marker. ARGV: 1 cost, 2 balance ('null' | digits), 3 balance before ('' if null), 4 now, 5 seen ttl. */
export const PERSISTED = `${COMMON}
local fresh = redis.call('SET', KEYS[3], '1', 'NX', 'PX', 86400000)
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if fresh then redis.call('HINCRBY', KEYS[1], 'pending', neg(ARGV[1])) end
redis.call('HSET', KEYS[1], 'stored', ARGV[2])
if ARGV[3] ~= '' then redis.call('ZADD', KEYS[2], clock(ARGV[4]) + tonumber(ARGV[5]), ARGV[3]) end
return 1
`;

/** KEYS: 1 quota counter. ARGV: 1 tokens, 2 requests, 3 period start, 4 ttl (ms). SETNX on `used`. */
export const SEED = `
if redis.call('HEXISTS', KEYS[1], 'used') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'used', ARGV[1], 'requests', ARGV[2], 'start', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`;
