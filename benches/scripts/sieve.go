// sieve: the classic concurrent prime sieve (a daisy chain of filter goroutines
// connected by unbuffered channels). Finds the first 3000 primes; prints the last.
package main

import "fmt"

const NPRIMES = 3000

func generate(ch chan int) {
	for i := 2; ; i++ {
		ch <- i
	}
}

func filter(in, out chan int, prime int) {
	for {
		i := <-in
		if i%prime != 0 {
			out <- i
		}
	}
}

func main() {
	ch := make(chan int)
	go generate(ch)
	prime := 0
	for i := 0; i < NPRIMES; i++ {
		prime = <-ch
		ch1 := make(chan int)
		go filter(ch, ch1, prime)
		ch = ch1
	}
	fmt.Println(prime)
}
