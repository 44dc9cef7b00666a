// richards: Martin Richards' OS-kernel simulation benchmark (the Octane/V8 port),
// with the task state as three booleans (as in the are-we-fast-yet version) —
// structs, fields and method calls; the four task kinds sit behind an interface.
package main

import "fmt"

const ITERATIONS = 100
const COUNT = 10000
const EXPECTED_QUEUE_COUNT = 23246
const EXPECTED_HOLD_COUNT = 9297

const (
	ID_IDLE = iota
	ID_WORKER
	ID_HANDLER_A
	ID_HANDLER_B
	ID_DEVICE_A
	ID_DEVICE_B
	NUMBER_OF_IDS
)

const KIND_DEVICE = 0
const KIND_WORK = 1
const DATA_SIZE = 4

type Packet struct {
	link *Packet
	id   int
	kind int
	a1   int
	a2   []int
}

func newPacket(link *Packet, id, kind int) *Packet {
	return &Packet{link, id, kind, 0, []int{0, 0, 0, 0}}
}

func (p *Packet) addTo(queue *Packet) *Packet {
	p.link = nil
	if queue == nil {
		return p
	}
	next := queue
	peek := next.link
	for peek != nil {
		next = peek
		peek = next.link
	}
	next.link = p
	return queue
}

type Task interface {
	run(packet *Packet) *TCB
}

type TCB struct {
	link          *TCB
	id            int
	priority      int
	queue         *Packet
	task          Task
	packetPending bool
	taskWaiting   bool
	taskHolding   bool
}

func newTCB(link *TCB, id, priority int, queue *Packet, task Task) *TCB {
	return &TCB{link, id, priority, queue, task, queue != nil, true, false}
}

func (t *TCB) setRunning() {
	t.packetPending = false
	t.taskWaiting = false
	t.taskHolding = false
}

func (t *TCB) markAsNotHeld()   { t.taskHolding = false }
func (t *TCB) markAsHeld()      { t.taskHolding = true }
func (t *TCB) markAsSuspended() { t.taskWaiting = true }
func (t *TCB) markAsRunnable()  { t.packetPending = true }

func (t *TCB) isHeldOrSuspended() bool {
	return t.taskHolding || (!t.packetPending && t.taskWaiting)
}

func (t *TCB) run() *TCB {
	var packet *Packet
	if t.packetPending && t.taskWaiting && !t.taskHolding {
		packet = t.queue
		t.queue = packet.link
		if t.queue == nil {
			t.packetPending = false
			t.taskWaiting = false
			t.taskHolding = false
		} else {
			t.packetPending = true
			t.taskWaiting = false
			t.taskHolding = false
		}
	}
	return t.task.run(packet)
}

func (t *TCB) checkPriorityAdd(task *TCB, packet *Packet) *TCB {
	if t.queue == nil {
		t.queue = packet
		t.markAsRunnable()
		if t.priority > task.priority {
			return t
		}
	} else {
		t.queue = packet.addTo(t.queue)
	}
	return task
}

type Scheduler struct {
	queueCount int
	holdCount  int
	blocks     []*TCB
	list       *TCB
	currentTcb *TCB
	currentId  int
}

func newScheduler() *Scheduler {
	return &Scheduler{0, 0, make([]*TCB, NUMBER_OF_IDS), nil, nil, 0}
}

type IdleTask struct {
	scheduler *Scheduler
	v1, count int
}
type DeviceTask struct {
	scheduler *Scheduler
	v1        *Packet
}
type WorkerTask struct {
	scheduler *Scheduler
	v1, v2    int
}
type HandlerTask struct {
	scheduler *Scheduler
	v1, v2    *Packet
}

func (s *Scheduler) addTask(id, priority int, queue *Packet, task Task) {
	s.currentTcb = newTCB(s.list, id, priority, queue, task)
	s.list = s.currentTcb
	s.blocks[id] = s.currentTcb
}

func (s *Scheduler) addRunningTask(id, priority int, queue *Packet, task Task) {
	s.addTask(id, priority, queue, task)
	s.currentTcb.setRunning()
}

func (s *Scheduler) addIdleTask(id, priority int, queue *Packet, count int) {
	s.addRunningTask(id, priority, queue, &IdleTask{s, 1, count})
}

func (s *Scheduler) addWorkerTask(id, priority int, queue *Packet) {
	s.addTask(id, priority, queue, &WorkerTask{s, ID_HANDLER_A, 0})
}

func (s *Scheduler) addHandlerTask(id, priority int, queue *Packet) {
	s.addTask(id, priority, queue, &HandlerTask{s, nil, nil})
}

func (s *Scheduler) addDeviceTask(id, priority int, queue *Packet) {
	s.addTask(id, priority, queue, &DeviceTask{s, nil})
}

func (s *Scheduler) schedule() {
	s.currentTcb = s.list
	for s.currentTcb != nil {
		if s.currentTcb.isHeldOrSuspended() {
			s.currentTcb = s.currentTcb.link
		} else {
			s.currentId = s.currentTcb.id
			s.currentTcb = s.currentTcb.run()
		}
	}
}

func (s *Scheduler) release(id int) *TCB {
	tcb := s.blocks[id]
	if tcb == nil {
		return tcb
	}
	tcb.markAsNotHeld()
	if tcb.priority > s.currentTcb.priority {
		return tcb
	}
	return s.currentTcb
}

func (s *Scheduler) holdCurrent() *TCB {
	s.holdCount++
	s.currentTcb.markAsHeld()
	return s.currentTcb.link
}

func (s *Scheduler) suspendCurrent() *TCB {
	s.currentTcb.markAsSuspended()
	return s.currentTcb
}

func (s *Scheduler) queue(packet *Packet) *TCB {
	t := s.blocks[packet.id]
	if t == nil {
		return t
	}
	s.queueCount++
	packet.link = nil
	packet.id = s.currentId
	return t.checkPriorityAdd(s.currentTcb, packet)
}

func (t *IdleTask) run(packet *Packet) *TCB {
	t.count--
	if t.count == 0 {
		return t.scheduler.holdCurrent()
	}
	if (t.v1 & 1) == 0 {
		t.v1 = t.v1 >> 1
		return t.scheduler.release(ID_DEVICE_A)
	}
	t.v1 = (t.v1 >> 1) ^ 0xD008
	return t.scheduler.release(ID_DEVICE_B)
}

func (t *DeviceTask) run(packet *Packet) *TCB {
	if packet == nil {
		if t.v1 == nil {
			return t.scheduler.suspendCurrent()
		}
		v := t.v1
		t.v1 = nil
		return t.scheduler.queue(v)
	}
	t.v1 = packet
	return t.scheduler.holdCurrent()
}

func (t *WorkerTask) run(packet *Packet) *TCB {
	if packet == nil {
		return t.scheduler.suspendCurrent()
	}
	if t.v1 == ID_HANDLER_A {
		t.v1 = ID_HANDLER_B
	} else {
		t.v1 = ID_HANDLER_A
	}
	packet.id = t.v1
	packet.a1 = 0
	for i := 0; i < DATA_SIZE; i++ {
		t.v2++
		if t.v2 > 26 {
			t.v2 = 1
		}
		packet.a2[i] = t.v2
	}
	return t.scheduler.queue(packet)
}

func (t *HandlerTask) run(packet *Packet) *TCB {
	if packet != nil {
		if packet.kind == KIND_WORK {
			t.v1 = packet.addTo(t.v1)
		} else {
			t.v2 = packet.addTo(t.v2)
		}
	}
	if t.v1 != nil {
		count := t.v1.a1
		if count < DATA_SIZE {
			if t.v2 != nil {
				v := t.v2
				t.v2 = t.v2.link
				v.a1 = t.v1.a2[count]
				t.v1.a1 = count + 1
				return t.scheduler.queue(v)
			}
		} else {
			v := t.v1
			t.v1 = t.v1.link
			return t.scheduler.queue(v)
		}
	}
	return t.scheduler.suspendCurrent()
}

func runRichards() (int, int) {
	scheduler := newScheduler()
	scheduler.addIdleTask(ID_IDLE, 0, nil, COUNT)

	queue := newPacket(nil, ID_WORKER, KIND_WORK)
	queue = newPacket(queue, ID_WORKER, KIND_WORK)
	scheduler.addWorkerTask(ID_WORKER, 1000, queue)

	queue = newPacket(nil, ID_DEVICE_A, KIND_DEVICE)
	queue = newPacket(queue, ID_DEVICE_A, KIND_DEVICE)
	queue = newPacket(queue, ID_DEVICE_A, KIND_DEVICE)
	scheduler.addHandlerTask(ID_HANDLER_A, 2000, queue)

	queue = newPacket(nil, ID_DEVICE_B, KIND_DEVICE)
	queue = newPacket(queue, ID_DEVICE_B, KIND_DEVICE)
	queue = newPacket(queue, ID_DEVICE_B, KIND_DEVICE)
	scheduler.addHandlerTask(ID_HANDLER_B, 3000, queue)

	scheduler.addDeviceTask(ID_DEVICE_A, 4000, nil)
	scheduler.addDeviceTask(ID_DEVICE_B, 5000, nil)

	scheduler.schedule()
	return scheduler.queueCount, scheduler.holdCount
}

func main() {
	qc, hc := 0, 0
	for i := 0; i < ITERATIONS; i++ {
		qc, hc = runRichards()
		if qc != EXPECTED_QUEUE_COUNT || hc != EXPECTED_HOLD_COUNT {
			fmt.Println("richards: wrong counts")
		}
	}
	fmt.Printf("queue count %d hold count %d iterations %d\n", qc, hc, ITERATIONS)
}
