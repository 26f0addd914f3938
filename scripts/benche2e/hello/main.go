// Command hello is the Go "hello world" bench-e2e.sh times beside lmc's
// start-up, built the same way (CGO_ENABLED=0, -trimpath, -ldflags '-s
// -w'): the floor of any Go process on the machine.
package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
