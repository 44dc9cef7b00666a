// parallel: N = runtime.GOMAXPROCS(0) CPU-bound goroutines, each running the same
// integer loop, against the same N loops run one after the other. Prints both
// wall times and the speedup (ideal: N). Deterministic line: "checksum ...";
// "workers" depends on the machine, the timings on everything.
package main

import (
	"fmt"
	"runtime"
	"sync"
	"time"
)

const ITERS = 20000000

func work(n int) int {
	s := 0
	for i := 0; i < n; i++ {
		s += (i * i) % 7
	}
	return s
}

func main() {
	n := runtime.GOMAXPROCS(0)
	work(ITERS / 10) // warm-up (CPU clock, caches), not timed

	t0 := time.Now()
	seq := 0
	for w := 0; w < n; w++ {
		seq += work(ITERS)
	}
	tseq := time.Since(t0).Nanoseconds()

	results := make([]int, n)
	var wg sync.WaitGroup
	wg.Add(n)
	t1 := time.Now()
	for w := 0; w < n; w++ {
		go func(w int) {
			results[w] = work(ITERS)
			wg.Done()
		}(w)
	}
	wg.Wait()
	tpar := time.Since(t1).Nanoseconds()
	par := 0
	for _, r := range results {
		par += r
	}

	fmt.Printf("workers %d\n", n)
	fmt.Printf("checksum %d %d\n", seq/n, par/n)
	fmt.Printf("sequential %.1f ms\n", float64(tseq)/1e6)
	fmt.Printf("parallel %.1f ms\n", float64(tpar)/1e6)
	fmt.Printf("speedup %.2f (ideal %d)\n", float64(tseq)/float64(tpar), n)
}
