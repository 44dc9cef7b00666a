//! The torture workload, shared by the `torture` example and its short
//! variant in `cargo test`: mutator threads, each holding a P, build, mutate,
//! swap and drop random graphs through barriered stores while the collector
//! runs; a shadow model (ids and checksums in every node, the expected child
//! ids per node) detects any reachable node that was freed or corrupted.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::*};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use weft_gc::{
    Heap, HeapConfig, Mutator, ObjRef, ObjView, RootKind, RootProvider, Tracer, TypeId, TypeInfo,
    TypeTable, P,
};

/// Payload: [id, checksum, child slots...].
const NSLOTS: usize = 4;
const NREGS: usize = 16;
/// Child slots of the per-thread table (register 1), an old, big object whose
/// slots are loaded, cleared and re-stored: the pattern the barrier's deletion
/// half exists for.
const TABLE_SLOTS: usize = 512;

pub struct Config {
    pub threads: usize,
    pub duration: Duration,
    pub checkmark: bool,
    /// Nodes each thread keeps alive in a long chain (register 0).
    pub live_per_thread: usize,
    pub gctrace: bool,
    pub gcstress: u64,
    pub wbbuf: usize,
    pub poison: bool,
    /// Run the black → white heap verifier after every mark.
    pub gcverify: bool,
}

#[derive(Debug)]
#[allow(dead_code)] // each user reads a different subset
pub struct Summary {
    pub cycles: u64,
    pub objects: u64,
    pub missed: u64,
    pub corrupted: u64,
    pub max_pause: Duration,
    pub total_pause: Duration,
    pub live_nodes: usize,
    pub restarts: u64,
    pub pauses: u64,
    pub pauses_over_1ms: u64,
}

fn checksum(id: u64) -> u64 {
    id.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0x5555_AAAA_5555_AAAA
}

fn trace_node(obj: ObjView<'_>, t: &mut Tracer<'_>) {
    t.mark_slots(&obj.slots()[2..]);
}

/// One thread's registers: its roots. Locked briefly by the owner for each
/// register write, and by the collector while the owner is stopped.
struct Regs(Mutex<[u64; NREGS]>);

struct AllRegs(Vec<Arc<Regs>>);

impl RootProvider for AllRegs {
    fn scan_roots(&self, tracer: &mut Tracer<'_>) {
        for r in &self.0 {
            for &w in r.0.lock().unwrap().iter() {
                tracer.mark_word(w);
            }
        }
    }
}

fn slots(addr: u64) -> &'static [AtomicU64] {
    // SAFETY: only called on nodes reachable from this thread's registers.
    unsafe { ObjRef::from_addr(addr as usize).unwrap().slots() }
}

struct Worker {
    p: P,
    g: Mutator,
    ty: TypeId,
    regs: Arc<Regs>,
    rng: u64,
    next_id: u64,
    /// Expected child ids (0 = nil) of every node this thread may reach
    /// (the table's entry is a placeholder: its slots are `table_shadow`).
    /// Inline arrays, not vectors: a malloc and free per node made the
    /// harness's own allocator return memory to the OS (madvise) for
    /// milliseconds inside `retain`, time the collector's stops then waited
    /// for.
    shadow: HashMap<u64, [u64; NSLOTS]>,
    /// The table's id and expected child ids.
    table_id: u64,
    table_shadow: Vec<u64>,
    /// `verify`'s visited set, kept between walks.
    seen: HashSet<u64>,
    corrupted: u64,
}

impl Worker {
    fn rand(&mut self) -> u64 {
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    fn reg(&self, r: usize) -> u64 {
        self.regs.0.lock().unwrap()[r]
    }

    fn set_reg(&self, r: usize, v: u64) {
        self.regs.0.lock().unwrap()[r] = v;
    }

    fn new_node(&mut self) -> Option<u64> {
        self.new_object(NSLOTS)
    }

    fn new_object(&mut self, nslots: usize) -> Option<u64> {
        let obj = self.p.alloc(&mut self.g, self.ty, (2 + nslots) * 8).ok()?;
        self.next_id += 1;
        let id = self.next_id;
        // SAFETY: freshly allocated; kept in a register before the next safepoint.
        let s = unsafe { obj.slots() };
        s[0].store(id, Relaxed);
        s[1].store(checksum(id), Relaxed);
        self.shadow.insert(id, [0; NSLOTS]);
        if nslots == TABLE_SLOTS {
            self.table_id = id;
            self.table_shadow = vec![0; TABLE_SLOTS];
        }
        Some(obj.addr() as u64)
    }

    /// The expected child ids of node `id`, if it is known.
    fn want_mut(&mut self, id: u64) -> Option<&mut [u64]> {
        if id == self.table_id {
            Some(&mut self.table_shadow)
        } else {
            self.shadow.get_mut(&id).map(|e| &mut e[..])
        }
    }

    /// The expected child id in slot `k` of node `id` (0 if unknown).
    fn want(&self, id: u64, k: usize) -> u64 {
        if id == self.table_id {
            self.table_shadow[k]
        } else {
            self.shadow.get(&id).map_or(0, |e| e[k])
        }
    }

    fn slot_count(&self, addr: u64) -> usize {
        slots(addr).len() - 2
    }

    /// Checks a node's id and checksum; returns its id.
    fn check(&mut self, addr: u64) -> u64 {
        let s = slots(addr);
        let id = s[0].load(Relaxed);
        if s[1].load(Relaxed) != checksum(id) || !self.shadow.contains_key(&id) {
            self.corrupted += 1;
            eprintln!("torture: corrupted node at {addr:#x}: id {id}");
        }
        id
    }

    fn step(&mut self) {
        let op = self.rand() % 14;
        let r1 = 2 + (self.rand() as usize % (NREGS - 2));
        let r2 = 2 + (self.rand() as usize % (NREGS - 2));
        let slot = (self.rand() as usize) % NSLOTS;
        match op {
            0..=2 => {
                if let Some(n) = self.new_node() {
                    self.set_reg(r1, n);
                }
            }
            3..=4 => {
                // link: r1.slot = r2 (barriered).
                let (a, b) = (self.reg(r1), self.reg(r2));
                if a != 0 {
                    let ida = self.check(a);
                    let idb = if b != 0 { self.check(b) } else { 0 };
                    self.p.write_slot(&slots(a)[2 + slot], b);
                    if let Some(e) = self.want_mut(ida) {
                        e[slot] = idb;
                    }
                }
            }
            5..=6 => {
                // load: r2 = r1.slot (a plain register write).
                let a = self.reg(r1);
                if a != 0 {
                    let ida = self.check(a);
                    let child = slots(a)[2 + slot].load(Relaxed);
                    let want = self.want(ida, slot);
                    let got = if child != 0 { self.check(child) } else { 0 };
                    if got != want {
                        self.corrupted += 1;
                        eprintln!("torture: node {ida} slot {slot} holds {got}, expected {want}");
                    }
                    self.set_reg(r2, child);
                }
            }
            7 => {
                // swap two slots of two nodes through barriered stores.
                let (a, b) = (self.reg(r1), self.reg(r2));
                if a != 0
                    && b != 0
                    && a != b
                    && self.slot_count(a) == NSLOTS
                    && self.slot_count(b) == NSLOTS
                {
                    let (ida, idb) = (self.check(a), self.check(b));
                    let va = slots(a)[2 + slot].load(Relaxed);
                    let vb = slots(b)[2 + slot].load(Relaxed);
                    self.p.write_slot(&slots(a)[2 + slot], vb);
                    self.p.write_slot(&slots(b)[2 + slot], va);
                    let sa = self.want(ida, slot);
                    let sb = self.want(idb, slot);
                    if let Some(e) = self.want_mut(ida) {
                        e[slot] = sb;
                    }
                    if let Some(e) = self.want_mut(idb) {
                        e[slot] = sa;
                    }
                }
            }
            8 => {
                let a = self.reg(r1);
                if a != 0 {
                    let ida = self.check(a);
                    self.p.write_slot(&slots(a)[2 + slot], 0);
                    if let Some(e) = self.want_mut(ida) {
                        e[slot] = 0;
                    }
                }
            }
            9 => self.set_reg(r1, 0),
            10..=11 => {
                // table load then clear: the object may now live only in a register.
                let t = self.reg(1);
                let k = self.rand() as usize % TABLE_SLOTS;
                let tid = self.check(t);
                let v = slots(t)[2 + k].load(Relaxed);
                if v != 0 {
                    self.check(v);
                }
                self.set_reg(r1, v);
                self.p.write_slot(&slots(t)[2 + k], 0);
                if let Some(e) = self.want_mut(tid) {
                    e[k] = 0;
                }
            }
            _ => {
                // table store from a register.
                let t = self.reg(1);
                let k = self.rand() as usize % TABLE_SLOTS;
                let tid = self.check(t);
                let v = self.reg(r1);
                let vid = if v != 0 { self.check(v) } else { 0 };
                self.p.write_slot(&slots(t)[2 + k], v);
                if let Some(e) = self.want_mut(tid) {
                    e[k] = vid;
                }
            }
        }
        self.p.safepoint();
    }

    /// Walks everything reachable from registers 1.. and checks it against
    /// the shadow; then forgets unreachable shadow entries.
    fn verify(&mut self) {
        let mut seen = std::mem::take(&mut self.seen);
        seen.clear();
        let mut stack: Vec<u64> = (1..NREGS)
            .map(|r| self.reg(r))
            .filter(|&a| a != 0)
            .collect();
        let mut visited = 0u32;
        while let Some(a) = stack.pop() {
            // A safepoint now and then: everything on `stack` stays reachable
            // from the registers (nothing is mutated during the walk), so a
            // cycle running meanwhile cannot free it.
            visited += 1;
            if visited % 256 == 0 {
                self.p.safepoint();
            }
            let id = self.check(a);
            if !seen.insert(id) {
                continue;
            }
            if id != self.table_id && !self.shadow.contains_key(&id) {
                continue; // `check` counted it
            }
            for k in 0..self.slot_count(a) {
                let w = self.want(id, k);
                let c = slots(a)[2 + k].load(Relaxed);
                let got = if c != 0 { slots(c)[0].load(Relaxed) } else { 0 };
                if got != w {
                    self.corrupted += 1;
                    eprintln!("torture: node {id} slot {k} holds {got}, expected {w}");
                }
                if c != 0 {
                    stack.push(c);
                }
            }
        }
        // Until the first walk the shadow also holds the chain's quarter
        // million nodes per thread (the walk starts at register 1; the chain
        // in register 0 is checked by `check_chain`, against checksums), so
        // forgetting can be long: it has safepoints of its own (nothing in
        // the heap changes meanwhile), or the time to safepoint of every
        // stop would include it.
        let recent = self.next_id.saturating_sub(64);
        let p = &mut self.p;
        let mut looked = 0u32;
        self.shadow.retain(|id, _| {
            looked += 1;
            if looked % 256 == 0 {
                p.safepoint();
            }
            seen.contains(id) || *id > recent
        });
        self.seen = seen;
    }

    /// Builds the long-lived chain in register 0.
    fn build_chain(&mut self, n: usize) {
        for _ in 0..n {
            let Some(node) = self.new_node() else { break };
            let head = self.reg(0);
            self.p.write_slot(&slots(node)[2], head);
            self.set_reg(0, node);
        }
    }

    /// Walks the chain; returns its length, counting corruption.
    fn check_chain(&mut self) -> usize {
        let mut n = 0;
        let mut a = self.reg(0);
        let mut last_id = u64::MAX;
        while a != 0 {
            if n % 256 == 0 {
                self.p.safepoint();
            }
            let s = slots(a);
            let id = s[0].load(Relaxed);
            if s[1].load(Relaxed) != checksum(id) || id >= last_id {
                self.corrupted += 1;
                eprintln!("torture: chain node at {a:#x} corrupted (id {id})");
                break;
            }
            last_id = id;
            n += 1;
            a = s[2].load(Relaxed);
        }
        n
    }
}

pub fn run(cfg: &Config) -> Summary {
    let mut types = TypeTable::new();
    let ty = types.register(TypeInfo {
        name: "node",
        trace: Some(trace_node),
    });
    let mut hc = HeapConfig {
        nprocs: cfg.threads,
        checkmark_nonfatal: true,
        ..HeapConfig::default()
    };
    hc.debug.checkmark |= cfg.checkmark;
    hc.debug.gcverify |= cfg.gcverify;
    hc.debug.gctrace |= cfg.gctrace;
    hc.debug.poison |= cfg.poison;
    if cfg.gcstress > 0 {
        hc.debug.gcstress = cfg.gcstress;
    }
    if cfg.wbbuf > 0 {
        hc.debug.wbbuf = cfg.wbbuf;
    }
    let heap = Heap::new(hc, types);
    let regs: Vec<Arc<Regs>> = (0..cfg.threads)
        .map(|_| Arc::new(Regs(Mutex::new([0; NREGS]))))
        .collect();
    heap.add_roots(RootKind::Other, Arc::new(AllRegs(regs.clone())));
    let stop = Arc::new(AtomicBool::new(false));
    let deadline = Instant::now() + cfg.duration;
    let handles: Vec<_> = regs
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let heap = Arc::clone(&heap);
            let regs = Arc::clone(r);
            let stop = Arc::clone(&stop);
            let live = cfg.live_per_thread;
            std::thread::spawn(move || {
                let p = heap.acquire_p();
                let mut w = Worker {
                    p,
                    g: Mutator::new(),
                    ty,
                    regs,
                    rng: 0x2545_F491_4F6C_DD1D ^ ((i as u64 + 1) * 0x9E37_79B9),
                    next_id: (i as u64) << 40,
                    // Both tables are sized for the whole run up front:
                    // growing one rehashes a quarter of a million entries,
                    // milliseconds in which this thread holds its P without
                    // a safepoint, and every stop-the-world would wait for
                    // it (the harness's time to safepoint, not the
                    // collector's).
                    shadow: HashMap::with_capacity(2 * live),
                    seen: HashSet::with_capacity(2 * live),
                    table_id: 0,
                    table_shadow: Vec::new(),
                    corrupted: 0,
                };
                w.build_chain(live);
                let table = w.new_object(TABLE_SLOTS).expect("table");
                w.set_reg(1, table);
                let mut ops = 0u64;
                while !stop.load(Relaxed) && Instant::now() < deadline {
                    for _ in 0..1000 {
                        w.step();
                    }
                    ops += 1000;
                    if ops % 20_000 == 0 {
                        w.verify();
                    }
                }
                w.verify();
                let chain = w.check_chain();
                if chain != live {
                    w.corrupted += 1;
                    eprintln!("torture: chain has {chain} nodes, expected {live}");
                }
                w.corrupted
            })
        })
        .collect();
    let corrupted: u64 = handles
        .into_iter()
        .map(|h| h.join().expect("mutator thread"))
        .sum();
    // One last cycle with everything still rooted, so checkmark sees the end state.
    {
        let mut p = heap.acquire_p();
        p.gc();
    }
    let s = heap.stats();
    heap.shutdown();
    Summary {
        cycles: s.cycles,
        objects: s.objects_allocated,
        missed: s.checkmark_missed,
        corrupted,
        max_pause: s.max_pause,
        total_pause: s.total_pause,
        live_nodes: cfg.threads * cfg.live_per_thread,
        restarts: s.mark_restarts,
        pauses: s.pauses,
        pauses_over_1ms: s.pauses_over_1ms,
    }
}
