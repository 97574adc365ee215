// Command ordergate is the order-processing worker and its tools; run `ordergate help`.
package main

import "os"

func main() {
	os.Exit(run(os.Args[1:], newEnv()))
}
