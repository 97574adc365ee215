package main

import "os"

// exitNow ends the process; tests replace it.
var exitNow = os.Exit
