// skynet: 1,000,000 goroutines in a tree of fan-out 10; each leaf sends its
// number, each inner node sums its 10 children. Prints the sum of 0..999999.
// Goroutine creation + unbuffered channel hand-off.
package main

import "fmt"

func skynet(c chan int, num, size, div int) {
	if size == 1 {
		c <- num
		return
	}
	rc := make(chan int)
	sum := 0
	for i := 0; i < div; i++ {
		subNum := num + i*(size/div)
		go skynet(rc, subNum, size/div, div)
	}
	for i := 0; i < div; i++ {
		sum += <-rc
	}
	c <- sum
}

func main() {
	c := make(chan int)
	go skynet(c, 0, 1000000, 10)
	fmt.Println(<-c)
}
