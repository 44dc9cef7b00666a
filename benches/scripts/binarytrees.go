// binarytrees: the Benchmarks Game binary-trees, depth 16 — allocation and GC.
package main

import "fmt"

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
	n := 16
	minDepth := 4
	maxDepth := n
	if minDepth+2 > n {
		maxDepth = minDepth + 2
	}
	stretchDepth := maxDepth + 1
	fmt.Printf("stretch tree of depth %d\t check: %d\n", stretchDepth, check(bottomUp(stretchDepth)))

	longLived := bottomUp(maxDepth)

	for depth := minDepth; depth <= maxDepth; depth += 2 {
		iterations := 1 << (maxDepth - depth + minDepth)
		chk := 0
		for i := 0; i < iterations; i++ {
			chk += check(bottomUp(depth))
		}
		fmt.Printf("%d\t trees of depth %d\t check: %d\n", iterations, depth, chk)
	}
	fmt.Printf("long lived tree of depth %d\t check: %d\n", maxDepth, check(longLived))
}
