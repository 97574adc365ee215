package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"path"
	"strconv"
	"strings"
)

// ByteSize is an amount of memory in bytes. In the environment it is plain
// bytes (134217728, what Kubernetes' downward API gives for limits.memory) or
// a whole number with a binary unit: KiB, MiB, GiB, TiB (as GOMEMLIMIT) or
// Ki, Mi, Gi, Ti (as Kubernetes writes resources). Empty means unset.
type ByteSize int64

// minMemoryLimit is the smallest ORDERGATE_MEMORY_LIMIT accepted: the process
// alone needs about 30 MiB, so a smaller figure is a missing unit (512 for
// 512MiB), and a Go soft limit under the live heap makes the collector run
// without pause.
const minMemoryLimit = 32 << 20

// MemoryLimitFraction is the share of the memory limit, less UntrackedMemory,
// given to the Go runtime as its soft limit (runtime/debug.SetMemoryLimit):
// the rest is the margin for the collector's lag.
const MemoryLimitFraction = 0.9

// UntrackedMemory is what the process's RSS holds that the Go runtime's
// memory limit does not count, taken off the limit before MemoryLimitFraction:
// the binary's mapped text and data (a 35 MiB binary) and thread stacks. With
// 90% of the whole limit, a worker at full speed under a 128MiB limit peaked at
// 132 MiB of RSS (issue 18).
const UntrackedMemory = 16 << 20

// byteUnits are the suffixes ByteSize reads, longest first so that "MiB" is
// not read as "Mi" followed by "B".
var byteUnits = []struct {
	suffix string
	shift  uint
}{
	{"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
	{"Ki", 10}, {"Mi", 20}, {"Gi", 30}, {"Ti", 40},
}

// Decode reads s as envconfig does for ORDERGATE_MEMORY_LIMIT. Its errors
// are the reason of the one-line configuration error.
func (b *ByteSize) Decode(s string) error {
	if s == "" {
		*b = 0
		return nil
	}
	digits, shift := s, uint(0)
	for _, u := range byteUnits {
		if d, ok := strings.CutSuffix(s, u.suffix); ok {
			digits, shift = d, u.shift
			break
		}
	}
	if !isDecimal(digits) || digits[0] == '+' || digits[0] == '-' {
		return errors.New("not a byte size (e.g. 512MiB, 1GiB, 2Gi or plain bytes)")
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64>>shift {
		return errors.New("byte size out of range")
	}
	n <<= shift
	if n != 0 && n < minMemoryLimit {
		return fmt.Errorf("%d bytes is under 32MiB, less than the worker itself needs: a unit is probably missing (e.g. 512MiB)", n)
	}
	*b = ByteSize(n)
	return nil
}

// String writes b with the largest binary unit that divides it exactly
// (128MiB, 1GiB, 1536MiB), plain bytes otherwise, and "" for 0 (unset).
func (b ByteSize) String() string {
	if b == 0 {
		return ""
	}
	for i := 3; i >= 0; i-- {
		u := byteUnits[i]
		if b%(1<<u.shift) == 0 {
			return strconv.FormatInt(int64(b)>>u.shift, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MemoryLimit is the memory the worker may use and where the figure comes
// from.
type MemoryLimit struct {
	// Bytes is the limit, 0 when there is none.
	Bytes ByteSize
	// Source says where Bytes was read: the variable, a cgroup file, or
	// "none".
	Source string
}

// GoSoftLimit is the soft limit for the Go runtime: MemoryLimitFraction of
// the limit less UntrackedMemory, or 0 when there is no limit.
func (m MemoryLimit) GoSoftLimit() int64 {
	if m.Bytes == 0 {
		return 0
	}
	return int64(float64(int64(m.Bytes)-UntrackedMemory) * MemoryLimitFraction)
}

// The share of a memory limit given to fetched records (see MemoryLimit.FetchBudget).
const (
	// BaselineMemory is what the worker takes with no record in hand (measured idle
	// RSS: about 21-30 MiB), left out of the share.
	BaselineMemory = 30 << 20
	// FetchBudgetDivisor: the fetch budget is 1/FetchBudgetDivisor of what the limit
	// leaves above BaselineMemory. The rest covers the batches being decided, their
	// events, the response buffers of fetches, the collector's lag and the margin of
	// the Go soft limit (a fetched record of n bytes costs about 2n to 3n of heap
	// between its fetch and its event).
	FetchBudgetDivisor = 8
	// minFetchBudget is the smallest fetch budget: one fetch of 1 MiB.
	minFetchBudget = 1 << 20
)

// FetchBudget is the byte budget of fetched records of a worker with this limit (records
// fetched and not yet done, across all partitions): 1/FetchBudgetDivisor of what the limit
// leaves above BaselineMemory, at least 1 MiB; 0 without a limit (the consumer's default,
// 8 MiB). 128MiB gives 12.25MiB, 512MiB 60.25MiB, 1GiB 124.25MiB.
func (m MemoryLimit) FetchBudget() int64 {
	if m.Bytes == 0 {
		return 0
	}
	return max((int64(m.Bytes)-BaselineMemory)/FetchBudgetDivisor, minFetchBudget)
}

// EffectiveMemoryLimit returns ORDERGATE_MEMORY_LIMIT when it is set, else
// the memory limit of the process's cgroup read from fsys (the root of the
// file system: os.DirFS("/")), else no limit. A limit the cgroup cannot
// enforce (cgroup v2 "max", cgroup v1's huge "unlimited" figure) is no limit.
//
// cgroup v2 is read first: memory.max of the process's cgroup
// (/proc/self/cgroup's "0::" line) and of each of its parents, the smallest
// wins; a container with its own cgroup namespace sees its cgroup as the
// root. Then cgroup v1: memory.limit_in_bytes of the memory controller's
// cgroup, else of the mount's root, which is the container's own cgroup when
// the runtime mounts only that one.
func (c Config) EffectiveMemoryLimit(fsys fs.FS) MemoryLimit {
	if c.MemoryLimit > 0 {
		return MemoryLimit{Bytes: c.MemoryLimit, Source: "ORDERGATE_MEMORY_LIMIT"}
	}
	v2, v1 := ownCgroups(fsys)
	if limit, file, ok := cgroupV2Limit(fsys, v2); ok {
		return MemoryLimit{Bytes: limit, Source: file}
	}
	if limit, file, ok := cgroupV1Limit(fsys, v1); ok {
		return MemoryLimit{Bytes: limit, Source: file}
	}
	return MemoryLimit{Source: "none"}
}

// ownCgroups returns the process's cgroup v2 path and its cgroup v1 memory
// controller path from proc/self/cgroup ("" when absent).
func ownCgroups(fsys fs.FS) (v2, v1 string) {
	data, err := fs.ReadFile(fsys, "proc/self/cgroup")
	if err != nil {
		return "", ""
	}
	for line := range strings.Lines(string(data)) {
		fields := strings.SplitN(strings.TrimSpace(line), ":", 3)
		if len(fields) != 3 {
			continue
		}
		switch {
		case fields[0] == "0" && fields[1] == "":
			v2 = fields[2]
		case containsWord(fields[1], "memory"):
			v1 = fields[2]
		}
	}
	return v2, v1
}

func containsWord(list, word string) bool {
	for w := range strings.SplitSeq(list, ",") {
		if w == word {
			return true
		}
	}
	return false
}

// cgroupV2Limit returns the smallest memory.max from the cgroup at dir up to
// the root of the cgroup v2 mount at sys/fs/cgroup.
func cgroupV2Limit(fsys fs.FS, dir string) (ByteSize, string, bool) {
	var best ByteSize
	var bestFile string
	for d := path.Clean("/" + dir); ; d = path.Dir(d) {
		file := path.Join("sys/fs/cgroup", d, "memory.max")
		if n, ok := readLimit(fsys, file); ok && n > 0 && (best == 0 || n < best) {
			best, bestFile = n, "/"+file
		}
		if d == "/" {
			return best, bestFile, best > 0
		}
	}
}

// cgroupV1Limit returns the memory controller's limit of the cgroup at dir,
// else of the mount's root.
func cgroupV1Limit(fsys fs.FS, dir string) (ByteSize, string, bool) {
	for _, d := range []string{dir, "/"} {
		file := path.Join("sys/fs/cgroup/memory", path.Clean("/"+d), "memory.limit_in_bytes")
		if n, ok := readLimit(fsys, file); ok {
			if n == 0 {
				return 0, "", false
			}
			return n, "/" + file, true
		}
	}
	return 0, "", false
}

// unlimited is the smallest figure read as "no limit": cgroup v1 writes
// "unlimited" as the largest page-aligned int64 (9223372036854771712).
const unlimited = 1 << 60

// readLimit reads a cgroup memory limit file: ok is false when the file is
// missing or unreadable, and the limit is 0 when the file says there is none.
func readLimit(fsys fs.FS, file string) (ByteSize, bool) {
	data, err := fs.ReadFile(fsys, file)
	if err != nil {
		return 0, false
	}
	s := strings.TrimSpace(string(data))
	if s == "max" {
		return 0, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	if n >= unlimited {
		return 0, true
	}
	return ByteSize(n), true
}
