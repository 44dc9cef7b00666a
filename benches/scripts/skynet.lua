-- skynet, sequential Lua version: the same tree of 1,000,000 leaves with fan-out
-- 10, each node a coroutine (Lua has no threads): a node resumes its 10 child
-- coroutines in turn and sums what they yield. Measures coroutine creation and
-- switching, the closest Lua analogue of goroutines. (Lua 5.4 and LuaJIT)
local create, resume, yield = coroutine.create, coroutine.resume, coroutine.yield

local skynet
function skynet(num, size, div)
  if size == 1 then
    yield(num)
    return
  end
  local sum = 0
  local step = math.floor(size / div) -- exact: size is a power of 10
  for i = 0, div - 1 do
    local co = create(skynet)
    local _, v = resume(co, num + i * step, step, div)
    sum = sum + v
  end
  yield(sum)
end

local co = create(skynet)
local _, result = resume(co, 0, 1000000, 10)
io.write(string.format("%d\n", result))
