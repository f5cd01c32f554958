// Internal: the Lua scripts of the Redis registry store's member writes: each checks, writes, bumps the revision and
// publishes the change (`<revision>` on the members channel, `<revision> +|- <serverId>` on the member-changes
// channel) in one step, so that no reader sees a write without its revision.

/**
 * Creates a member unless its field exists, bumps the revision, publishes it. ARGV[2] is the record's JSON without
 * its opening brace, so the revision is spliced in without re-encoding.
 */
export const CREATE_MEMBER = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 0 end
local revision = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], '{"revision":' .. revision .. ',' .. ARGV[2])
redis.call('PUBLISH', ARGV[3], tostring(revision))
redis.call('PUBLISH', ARGV[4], tostring(revision) .. ' + ' .. ARGV[1])
return revision`;

/** Deletes a member when its field exists, bumps the revision, publishes it. */
export const DELETE_MEMBER = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local revision = redis.call('INCR', KEYS[2])
redis.call('PUBLISH', ARGV[2], tostring(revision))
redis.call('PUBLISH', ARGV[3], tostring(revision) .. ' - ' .. ARGV[1])
return revision`;
