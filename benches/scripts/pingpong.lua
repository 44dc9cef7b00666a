-- pingpong, sequential Lua version: 1,000,000 round trips between the main
-- program and a coroutine (resume = ping, yield = pong); the ball is an int
-- incremented at each hit. Prints the final value. (Lua 5.4 and LuaJIT)
local ROUNDS = 1000000

local player = coroutine.wrap(function(v)
  while true do
    v = coroutine.yield(v + 1)
  end
end)

local v = 0
for _ = 1, ROUNDS do
  v = player(v)
  v = v + 1
end
io.write(string.format("%d\n", v))
