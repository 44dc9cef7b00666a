-- loop: a tight integer loop — sum of (i*i)%7 for i below 30,000,000.
-- Lua 5.4 and LuaJIT (i*i < 2^53, so LuaJIT's doubles are exact).
local sum = 0
for i = 0, 30000000 - 1 do
  sum = sum + (i * i) % 7
end
print(string.format("%d", sum))
