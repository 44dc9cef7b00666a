// pingpong: 1,000,000 round trips between two goroutines over two unbuffered
// channels; the ball is an int incremented at each hit. Prints the final value.
package main

import "fmt"

const ROUNDS = 1000000

func player(in, out chan int) {
	for v := range in {
		out <- v + 1
	}
	close(out)
}

func main() {
	ping := make(chan int)
	pong := make(chan int)
	go player(ping, pong)
	v := 0
	for i := 0; i < ROUNDS; i++ {
		ping <- v
		v = <-pong
		v++
	}
	close(ping)
	<-pong // wait for the player to finish (closed channel)
	fmt.Println(v)
}
