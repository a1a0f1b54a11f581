package fuzztest

import (
	"os"
	"strconv"
	"syscall"
)

// keepFuzzPipesToItself marks every file descriptor above stderr
// close-on-exec. A fuzzing worker inherits its pipes to the coordinator
// and the shared input memory as descriptors 3 to 5, without that flag: a
// process the setup starts (the test Redis) would hold them open after the
// worker ends, and the coordinator would wait for that end forever.
func keepFuzzPipesToItself() {
	entries, err := os.ReadDir("/dev/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		if fd, err := strconv.Atoi(e.Name()); err == nil && fd > 2 {
			syscall.CloseOnExec(fd)
		}
	}
}
