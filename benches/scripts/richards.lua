-- richards: Martin Richards' OS-kernel simulation benchmark (the Octane/V8 port),
-- with the task state as three booleans (as in the are-we-fast-yet version) so no
-- bit operations are needed on the hot path — objects, fields and method calls.
-- Lua 5.4 and LuaJIT: the idle task's one xor goes through a small shim.
local ITERATIONS = 100
local COUNT = 10000
local EXPECTED_QUEUE_COUNT = 23246
local EXPECTED_HOLD_COUNT = 9297

local ID_IDLE, ID_WORKER, ID_HANDLER_A, ID_HANDLER_B, ID_DEVICE_A, ID_DEVICE_B = 0, 1, 2, 3, 4, 5
local KIND_DEVICE, KIND_WORK = 0, 1
local DATA_SIZE = 4

-- xor for 16-bit non-negative ints, without 5.4-only operators (LuaJIT parses this file).
local bxor
do
  local ok, bit = pcall(require, "bit")
  if ok and bit then
    bxor = bit.bxor
  else
    bxor = load("return function(a, b) return a ~ b end")()
  end
end

local Packet = {}
Packet.__index = Packet
function Packet.new(link, id, kind)
  return setmetatable({ link = link, id = id, kind = kind, a1 = 0, a2 = { 0, 0, 0, 0 } }, Packet)
end
function Packet:addTo(queue)
  self.link = nil
  if queue == nil then return self end
  local next = queue
  local peek = next.link
  while peek ~= nil do
    next = peek
    peek = next.link
  end
  next.link = self
  return queue
end

local TCB = {}
TCB.__index = TCB
function TCB.new(link, id, priority, queue, task)
  return setmetatable({ link = link, id = id, priority = priority, queue = queue, task = task,
    packetPending = queue ~= nil, taskWaiting = true, taskHolding = false }, TCB)
end
function TCB:setRunning()
  self.packetPending = false; self.taskWaiting = false; self.taskHolding = false
end
function TCB:markAsNotHeld() self.taskHolding = false end
function TCB:markAsHeld() self.taskHolding = true end
function TCB:isHeldOrSuspended()
  return self.taskHolding or (not self.packetPending and self.taskWaiting)
end
function TCB:markAsSuspended() self.taskWaiting = true end
function TCB:markAsRunnable() self.packetPending = true end
function TCB:run()
  local packet
  if self.packetPending and self.taskWaiting and not self.taskHolding then
    packet = self.queue
    self.queue = packet.link
    if self.queue == nil then
      self.packetPending = false; self.taskWaiting = false; self.taskHolding = false
    else
      self.packetPending = true; self.taskWaiting = false; self.taskHolding = false
    end
  else
    packet = nil
  end
  return self.task:run(packet)
end
function TCB:checkPriorityAdd(task, packet)
  if self.queue == nil then
    self.queue = packet
    self:markAsRunnable()
    if self.priority > task.priority then return self end
  else
    self.queue = packet:addTo(self.queue)
  end
  return task
end

local Scheduler = {}
Scheduler.__index = Scheduler
function Scheduler.new()
  return setmetatable({ queueCount = 0, holdCount = 0, blocks = {}, list = nil,
    currentTcb = nil, currentId = nil }, Scheduler)
end

local IdleTask, DeviceTask, WorkerTask, HandlerTask = {}, {}, {}, {}
IdleTask.__index = IdleTask
DeviceTask.__index = DeviceTask
WorkerTask.__index = WorkerTask
HandlerTask.__index = HandlerTask

function Scheduler:addTask(id, priority, queue, task)
  self.currentTcb = TCB.new(self.list, id, priority, queue, task)
  self.list = self.currentTcb
  self.blocks[id] = self.currentTcb
end
function Scheduler:addRunningTask(id, priority, queue, task)
  self:addTask(id, priority, queue, task)
  self.currentTcb:setRunning()
end
function Scheduler:addIdleTask(id, priority, queue, count)
  self:addRunningTask(id, priority, queue, setmetatable({ scheduler = self, v1 = 1, count = count }, IdleTask))
end
function Scheduler:addWorkerTask(id, priority, queue)
  self:addTask(id, priority, queue, setmetatable({ scheduler = self, v1 = ID_HANDLER_A, v2 = 0 }, WorkerTask))
end
function Scheduler:addHandlerTask(id, priority, queue)
  self:addTask(id, priority, queue, setmetatable({ scheduler = self, v1 = nil, v2 = nil }, HandlerTask))
end
function Scheduler:addDeviceTask(id, priority, queue)
  self:addTask(id, priority, queue, setmetatable({ scheduler = self, v1 = nil }, DeviceTask))
end
function Scheduler:schedule()
  self.currentTcb = self.list
  while self.currentTcb ~= nil do
    if self.currentTcb:isHeldOrSuspended() then
      self.currentTcb = self.currentTcb.link
    else
      self.currentId = self.currentTcb.id
      self.currentTcb = self.currentTcb:run()
    end
  end
end
function Scheduler:release(id)
  local tcb = self.blocks[id]
  if tcb == nil then return tcb end
  tcb:markAsNotHeld()
  if tcb.priority > self.currentTcb.priority then
    return tcb
  else
    return self.currentTcb
  end
end
function Scheduler:holdCurrent()
  self.holdCount = self.holdCount + 1
  self.currentTcb:markAsHeld()
  return self.currentTcb.link
end
function Scheduler:suspendCurrent()
  self.currentTcb:markAsSuspended()
  return self.currentTcb
end
function Scheduler:queue(packet)
  local t = self.blocks[packet.id]
  if t == nil then return t end
  self.queueCount = self.queueCount + 1
  packet.link = nil
  packet.id = self.currentId
  return t:checkPriorityAdd(self.currentTcb, packet)
end

function IdleTask:run(packet)
  self.count = self.count - 1
  if self.count == 0 then return self.scheduler:holdCurrent() end
  if self.v1 % 2 == 0 then
    self.v1 = math.floor(self.v1 / 2) -- v1 >> 1
    return self.scheduler:release(ID_DEVICE_A)
  else
    self.v1 = bxor(math.floor(self.v1 / 2), 0xD008) -- (v1 >> 1) ^ 0xD008
    return self.scheduler:release(ID_DEVICE_B)
  end
end

function DeviceTask:run(packet)
  if packet == nil then
    if self.v1 == nil then return self.scheduler:suspendCurrent() end
    local v = self.v1
    self.v1 = nil
    return self.scheduler:queue(v)
  else
    self.v1 = packet
    return self.scheduler:holdCurrent()
  end
end

function WorkerTask:run(packet)
  if packet == nil then
    return self.scheduler:suspendCurrent()
  end
  if self.v1 == ID_HANDLER_A then
    self.v1 = ID_HANDLER_B
  else
    self.v1 = ID_HANDLER_A
  end
  packet.id = self.v1
  packet.a1 = 0
  for i = 1, DATA_SIZE do
    self.v2 = self.v2 + 1
    if self.v2 > 26 then self.v2 = 1 end
    packet.a2[i] = self.v2
  end
  return self.scheduler:queue(packet)
end

function HandlerTask:run(packet)
  if packet ~= nil then
    if packet.kind == KIND_WORK then
      self.v1 = packet:addTo(self.v1)
    else
      self.v2 = packet:addTo(self.v2)
    end
  end
  if self.v1 ~= nil then
    local count = self.v1.a1
    local v
    if count < DATA_SIZE then
      if self.v2 ~= nil then
        v = self.v2
        self.v2 = self.v2.link
        v.a1 = self.v1.a2[count + 1]
        self.v1.a1 = count + 1
        return self.scheduler:queue(v)
      end
    else
      v = self.v1
      self.v1 = self.v1.link
      return self.scheduler:queue(v)
    end
  end
  return self.scheduler:suspendCurrent()
end

local function runRichards()
  local scheduler = Scheduler.new()
  scheduler:addIdleTask(ID_IDLE, 0, nil, COUNT)

  local queue = Packet.new(nil, ID_WORKER, KIND_WORK)
  queue = Packet.new(queue, ID_WORKER, KIND_WORK)
  scheduler:addWorkerTask(ID_WORKER, 1000, queue)

  queue = Packet.new(nil, ID_DEVICE_A, KIND_DEVICE)
  queue = Packet.new(queue, ID_DEVICE_A, KIND_DEVICE)
  queue = Packet.new(queue, ID_DEVICE_A, KIND_DEVICE)
  scheduler:addHandlerTask(ID_HANDLER_A, 2000, queue)

  queue = Packet.new(nil, ID_DEVICE_B, KIND_DEVICE)
  queue = Packet.new(queue, ID_DEVICE_B, KIND_DEVICE)
  queue = Packet.new(queue, ID_DEVICE_B, KIND_DEVICE)
  scheduler:addHandlerTask(ID_HANDLER_B, 3000, queue)

  scheduler:addDeviceTask(ID_DEVICE_A, 4000, nil)
  scheduler:addDeviceTask(ID_DEVICE_B, 5000, nil)

  scheduler:schedule()
  return scheduler.queueCount, scheduler.holdCount
end

local qc, hc
for _ = 1, ITERATIONS do
  qc, hc = runRichards()
  if qc ~= EXPECTED_QUEUE_COUNT or hc ~= EXPECTED_HOLD_COUNT then
    io.write("richards: wrong counts\n")
  end
end
io.write(string.format("queue count %d hold count %d iterations %d\n", qc, hc, ITERATIONS))
