// parked: start 100,000 goroutines that block on a channel receive, and report
// the memory they cost: runtime.MemStats before and after, divided by the count.
// Deterministic lines: "parked 100000 goroutines", "goroutines 100001",
// "released 100000". The byte counts depend on the runtime.
package main

import (
	"fmt"
	"runtime"
	"sync"
)

const N = 100000

func main() {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)

	block := make(chan int)
	var ready, done sync.WaitGroup
	ready.Add(N)
	done.Add(N)
	for i := 0; i < N; i++ {
		go func() {
			ready.Done()
			<-block
			done.Done()
		}()
	}
	ready.Wait()
	runtime.GC()
	runtime.ReadMemStats(&after)

	fmt.Printf("parked %d goroutines\n", N)
	fmt.Printf("goroutines %d\n", runtime.NumGoroutine())
	fmt.Printf("bytes per parked goroutine (Sys): %d\n", (int64(after.Sys)-int64(before.Sys))/N)
	fmt.Printf("bytes per parked goroutine (HeapAlloc): %d\n", (int64(after.HeapAlloc)-int64(before.HeapAlloc))/N)
	fmt.Printf("bytes per parked goroutine (HeapAlloc+StackInuse): %d\n",
		(int64(after.HeapAlloc+after.StackInuse)-int64(before.HeapAlloc+before.StackInuse))/N)

	close(block)
	done.Wait()
	fmt.Printf("released %d\n", N)
}
