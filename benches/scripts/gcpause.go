// gcpause: a long-lived binary tree of 1,048,575 nodes (depth 19) stays live
// while 4 goroutines allocate garbage trees (depth 6) until 150 GC cycles have
// completed (or 60 seconds have passed); then the GC pause times are read from
// runtime.MemStats (PauseNs, the last 256 pauses) and the max and p99 are
// printed. Counted in cycles so that the p99 is one (see gcpause.weft).
// Targets (issue 5, for Weft): max < 500 us, p99 < 100 us.
// Deterministic lines: "live nodes 1048575", "workers 4".
package main

import (
	"fmt"
	"runtime"
	"sort"
	"sync"
	"time"
)

const LIVE_DEPTH = 19
const GARBAGE_DEPTH = 6
const WORKERS = 4
const CYCLES = 150
const MAX_DURATION = 60 * time.Second

type Node struct{ left, right *Node }

func bottomUp(depth int) *Node {
	if depth <= 0 {
		return &Node{nil, nil}
	}
	return &Node{bottomUp(depth - 1), bottomUp(depth - 1)}
}

func check(t *Node) int {
	if t.left == nil {
		return 1
	}
	return 1 + check(t.left) + check(t.right)
}

func main() {
	live := bottomUp(LIVE_DEPTH) // 2^20 - 1 nodes
	start := time.Now()
	trees := make([]int, WORKERS)
	var wg sync.WaitGroup
	wg.Add(WORKERS)
	stop := make(chan bool)
	for w := 0; w < WORKERS; w++ {
		go func(w int) {
			count := 0
			for {
				select {
				case <-stop:
					trees[w] = count
					wg.Done()
					return
				default:
				}
				check(bottomUp(GARBAGE_DEPTH))
				count++
			}
		}(w)
	}
	// runtime.NumGC does not exist; ReadMemStats stops the world briefly,
	// which Go does not count in PauseNs.
	var m runtime.MemStats
	for runtime.ReadMemStats(&m); m.NumGC < CYCLES && time.Since(start) < MAX_DURATION; runtime.ReadMemStats(&m) {
		time.Sleep(20 * time.Millisecond)
	}
	close(stop)
	wg.Wait()
	elapsed := time.Since(start)

	runtime.ReadMemStats(&m)
	n := int(m.NumGC)
	if n > len(m.PauseNs) {
		n = len(m.PauseNs)
	}
	pauses := make([]int, n)
	for i := 0; i < n; i++ {
		pauses[i] = int(m.PauseNs[i])
	}
	sort.Ints(pauses)
	total := 0
	for _, c := range trees {
		total += c
	}

	fmt.Printf("live nodes %d\n", check(live))
	fmt.Printf("workers %d\n", WORKERS)
	fmt.Printf("garbage trees %d in %.2f s\n", total, float64(elapsed.Nanoseconds())/1e9)
	fmt.Printf("gc cycles %d (pauses sampled %d)\n", m.NumGC, n)
	if n == 0 {
		fmt.Println("max pause - us")
		fmt.Println("p99 pause - us")
		return
	}
	p99 := pauses[(n*99+99)/100-1]
	fmt.Printf("max pause %.1f us\n", float64(pauses[n-1])/1e3)
	fmt.Printf("p99 pause %.1f us\n", float64(p99)/1e3)
}
