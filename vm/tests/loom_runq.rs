//! Model check of the P-local run queue (`vm/src/runq.rs`) with loom: every
//! interleaving loom explores of an owner pushing (into `runnext` and the
//! ring, overflowing it) against thieves and consumers must hand each G to
//! exactly one taker, lose none and free none twice.
//!
//! The queue's source is compiled here over loom's atomics (the VM compiles
//! it over std's), with a ring of 4 so that overflow is reachable.

mod runq_atomics {
    pub use loom::sync::atomic::*;
}
#[path = "../src/runq.rs"]
#[allow(dead_code)]
mod runq;

use loom::sync::Arc;
use loom::thread;
use runq::LocalQueue;

type Q = LocalQueue<Box<u32>, 4>;

/// Runs `f` under loom with a bound on preemptions per execution (tokio's
/// CI uses the same bound): every interleaving with up to 3 preemptions.
fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut b = loom::model::Builder::new();
    b.preemption_bound = Some(3);
    b.check(f);
}

/// Sorted ids, to compare what came out with what went in.
fn sorted(mut v: Vec<u32>) -> Vec<u32> {
    v.sort_unstable();
    v
}

fn drain(q: &Q) -> Vec<u32> {
    std::iter::from_fn(|| q.pop()).map(|b| *b).collect()
}

#[test]
fn owner_push_against_a_thief_and_a_consumer() {
    model(|| {
        let victim = Arc::new(Q::default());
        let thief_q = Arc::new(Q::default());
        victim.push(Box::new(1)).unwrap();
        let (v, t) = (victim.clone(), thief_q.clone());
        let thief = thread::spawn(move || {
            let mut got: Vec<u32> = t.steal_from(&v, true).map(|b| *b).into_iter().collect();
            got.extend(drain(&t));
            got
        });
        let v = victim.clone();
        let consumer = thread::spawn(move || v.pop().map(|b| *b).into_iter().collect::<Vec<_>>());
        victim.push(Box::new(2)).unwrap();
        victim.push_next(Box::new(3)).unwrap();
        let mut all = thief.join().unwrap();
        all.extend(consumer.join().unwrap());
        all.extend(drain(&victim));
        all.extend(drain(&thief_q));
        assert_eq!(sorted(all), vec![1, 2, 3]);
    });
}

#[test]
fn overflow_moves_half_while_a_consumer_pops() {
    model(|| {
        let q = Arc::new(Q::default());
        for i in 0..4 {
            q.push(Box::new(i)).unwrap();
        }
        let c = q.clone();
        let consumer = thread::spawn(move || c.pop().map(|b| *b).into_iter().collect::<Vec<_>>());
        let mut all = Vec::new();
        let mut g = Box::new(4);
        loop {
            match q.push(g) {
                Ok(()) => break,
                Err(back) => {
                    all.extend(q.take_half().into_iter().map(|b| *b));
                    g = back;
                }
            }
        }
        all.extend(consumer.join().unwrap());
        all.extend(drain(&q));
        assert_eq!(sorted(all), vec![0, 1, 2, 3, 4]);
    });
}

#[test]
fn two_thieves_and_runnext() {
    model(|| {
        let victim = Arc::new(Q::default());
        victim.push(Box::new(1)).unwrap();
        victim.push(Box::new(2)).unwrap();
        victim.push_next(Box::new(3)).unwrap();
        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let v = victim.clone();
                thread::spawn(move || {
                    let mine = Q::default();
                    let mut got: Vec<u32> =
                        mine.steal_from(&v, true).map(|b| *b).into_iter().collect();
                    got.extend(drain(&mine));
                    got
                })
            })
            .collect();
        let mut all = drain(&victim);
        for t in thieves {
            all.extend(t.join().unwrap());
        }
        assert_eq!(sorted(all), vec![1, 2, 3]);
    });
}
