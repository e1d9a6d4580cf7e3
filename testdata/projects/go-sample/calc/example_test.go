package calc_test

import (
	"fmt"

	"example.com/go-sample/calc"
)

func ExampleAdd() {
	fmt.Println(calc.Add(1, 2))
	// Output: 3
}

// ExampleMul's expected output is wrong on purpose.
func ExampleMul() {
	fmt.Println(calc.Mul(2, 2))
	fmt.Println("done")
	// Output:
	// 5
	// done
}
