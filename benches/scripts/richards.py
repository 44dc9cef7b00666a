# richards: Martin Richards' OS-kernel simulation benchmark (the Octane/V8 port),
# with the task state as three booleans (as in the are-we-fast-yet version) —
# objects, attributes and method calls.
ITERATIONS = 100
COUNT = 10000
EXPECTED_QUEUE_COUNT = 23246
EXPECTED_HOLD_COUNT = 9297

ID_IDLE = 0
ID_WORKER = 1
ID_HANDLER_A = 2
ID_HANDLER_B = 3
ID_DEVICE_A = 4
ID_DEVICE_B = 5
NUMBER_OF_IDS = 6

KIND_DEVICE = 0
KIND_WORK = 1
DATA_SIZE = 4


class Packet:
    def __init__(self, link, id, kind):
        self.link = link
        self.id = id
        self.kind = kind
        self.a1 = 0
        self.a2 = [0, 0, 0, 0]

    def addTo(self, queue):
        self.link = None
        if queue is None:
            return self
        next = queue
        peek = next.link
        while peek is not None:
            next = peek
            peek = next.link
        next.link = self
        return queue


class TCB:
    def __init__(self, link, id, priority, queue, task):
        self.link = link
        self.id = id
        self.priority = priority
        self.queue = queue
        self.task = task
        self.packetPending = queue is not None
        self.taskWaiting = True
        self.taskHolding = False

    def setRunning(self):
        self.packetPending = False
        self.taskWaiting = False
        self.taskHolding = False

    def markAsNotHeld(self):
        self.taskHolding = False

    def markAsHeld(self):
        self.taskHolding = True

    def markAsSuspended(self):
        self.taskWaiting = True

    def markAsRunnable(self):
        self.packetPending = True

    def isHeldOrSuspended(self):
        return self.taskHolding or (not self.packetPending and self.taskWaiting)

    def run(self):
        packet = None
        if self.packetPending and self.taskWaiting and not self.taskHolding:
            packet = self.queue
            self.queue = packet.link
            if self.queue is None:
                self.packetPending = False
                self.taskWaiting = False
                self.taskHolding = False
            else:
                self.packetPending = True
                self.taskWaiting = False
                self.taskHolding = False
        return self.task.run(packet)

    def checkPriorityAdd(self, task, packet):
        if self.queue is None:
            self.queue = packet
            self.markAsRunnable()
            if self.priority > task.priority:
                return self
        else:
            self.queue = packet.addTo(self.queue)
        return task


class Scheduler:
    def __init__(self):
        self.queueCount = 0
        self.holdCount = 0
        self.blocks = [None] * NUMBER_OF_IDS
        self.list = None
        self.currentTcb = None
        self.currentId = None

    def addTask(self, id, priority, queue, task):
        self.currentTcb = TCB(self.list, id, priority, queue, task)
        self.list = self.currentTcb
        self.blocks[id] = self.currentTcb

    def addRunningTask(self, id, priority, queue, task):
        self.addTask(id, priority, queue, task)
        self.currentTcb.setRunning()

    def addIdleTask(self, id, priority, queue, count):
        self.addRunningTask(id, priority, queue, IdleTask(self, 1, count))

    def addWorkerTask(self, id, priority, queue):
        self.addTask(id, priority, queue, WorkerTask(self, ID_HANDLER_A, 0))

    def addHandlerTask(self, id, priority, queue):
        self.addTask(id, priority, queue, HandlerTask(self))

    def addDeviceTask(self, id, priority, queue):
        self.addTask(id, priority, queue, DeviceTask(self))

    def schedule(self):
        self.currentTcb = self.list
        while self.currentTcb is not None:
            if self.currentTcb.isHeldOrSuspended():
                self.currentTcb = self.currentTcb.link
            else:
                self.currentId = self.currentTcb.id
                self.currentTcb = self.currentTcb.run()

    def release(self, id):
        tcb = self.blocks[id]
        if tcb is None:
            return tcb
        tcb.markAsNotHeld()
        if tcb.priority > self.currentTcb.priority:
            return tcb
        return self.currentTcb

    def holdCurrent(self):
        self.holdCount += 1
        self.currentTcb.markAsHeld()
        return self.currentTcb.link

    def suspendCurrent(self):
        self.currentTcb.markAsSuspended()
        return self.currentTcb

    def queue(self, packet):
        t = self.blocks[packet.id]
        if t is None:
            return t
        self.queueCount += 1
        packet.link = None
        packet.id = self.currentId
        return t.checkPriorityAdd(self.currentTcb, packet)


class IdleTask:
    def __init__(self, scheduler, v1, count):
        self.scheduler = scheduler
        self.v1 = v1
        self.count = count

    def run(self, packet):
        self.count -= 1
        if self.count == 0:
            return self.scheduler.holdCurrent()
        if (self.v1 & 1) == 0:
            self.v1 = self.v1 >> 1
            return self.scheduler.release(ID_DEVICE_A)
        self.v1 = (self.v1 >> 1) ^ 0xD008
        return self.scheduler.release(ID_DEVICE_B)


class DeviceTask:
    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.v1 = None

    def run(self, packet):
        if packet is None:
            if self.v1 is None:
                return self.scheduler.suspendCurrent()
            v = self.v1
            self.v1 = None
            return self.scheduler.queue(v)
        self.v1 = packet
        return self.scheduler.holdCurrent()


class WorkerTask:
    def __init__(self, scheduler, v1, v2):
        self.scheduler = scheduler
        self.v1 = v1
        self.v2 = v2

    def run(self, packet):
        if packet is None:
            return self.scheduler.suspendCurrent()
        if self.v1 == ID_HANDLER_A:
            self.v1 = ID_HANDLER_B
        else:
            self.v1 = ID_HANDLER_A
        packet.id = self.v1
        packet.a1 = 0
        for i in range(DATA_SIZE):
            self.v2 += 1
            if self.v2 > 26:
                self.v2 = 1
            packet.a2[i] = self.v2
        return self.scheduler.queue(packet)


class HandlerTask:
    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.v1 = None
        self.v2 = None

    def run(self, packet):
        if packet is not None:
            if packet.kind == KIND_WORK:
                self.v1 = packet.addTo(self.v1)
            else:
                self.v2 = packet.addTo(self.v2)
        if self.v1 is not None:
            count = self.v1.a1
            if count < DATA_SIZE:
                if self.v2 is not None:
                    v = self.v2
                    self.v2 = self.v2.link
                    v.a1 = self.v1.a2[count]
                    self.v1.a1 = count + 1
                    return self.scheduler.queue(v)
            else:
                v = self.v1
                self.v1 = self.v1.link
                return self.scheduler.queue(v)
        return self.scheduler.suspendCurrent()


def run_richards():
    scheduler = Scheduler()
    scheduler.addIdleTask(ID_IDLE, 0, None, COUNT)

    queue = Packet(None, ID_WORKER, KIND_WORK)
    queue = Packet(queue, ID_WORKER, KIND_WORK)
    scheduler.addWorkerTask(ID_WORKER, 1000, queue)

    queue = Packet(None, ID_DEVICE_A, KIND_DEVICE)
    queue = Packet(queue, ID_DEVICE_A, KIND_DEVICE)
    queue = Packet(queue, ID_DEVICE_A, KIND_DEVICE)
    scheduler.addHandlerTask(ID_HANDLER_A, 2000, queue)

    queue = Packet(None, ID_DEVICE_B, KIND_DEVICE)
    queue = Packet(queue, ID_DEVICE_B, KIND_DEVICE)
    queue = Packet(queue, ID_DEVICE_B, KIND_DEVICE)
    scheduler.addHandlerTask(ID_HANDLER_B, 3000, queue)

    scheduler.addDeviceTask(ID_DEVICE_A, 4000, None)
    scheduler.addDeviceTask(ID_DEVICE_B, 5000, None)

    scheduler.schedule()
    return scheduler.queueCount, scheduler.holdCount


def main():
    qc = hc = 0
    for _ in range(ITERATIONS):
        qc, hc = run_richards()
        if qc != EXPECTED_QUEUE_COUNT or hc != EXPECTED_HOLD_COUNT:
            print("richards: wrong counts")
    print("queue count %d hold count %d iterations %d" % (qc, hc, ITERATIONS))


main()
