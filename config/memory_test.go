package config

import (
	"testing"
	"testing/fstest"
)

func TestByteSizeDecode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    ByteSize
		wantErr bool
	}{
		{"", 0, false},
		{"0", 0, false},
		{"536870912", 512 << 20, false},
		{"512MiB", 512 << 20, false},
		{"1GiB", 1 << 30, false},
		{"2Gi", 2 << 30, false},
		{"393216Ki", 384 << 20, false},
		{"1TiB", 1 << 40, false},
		{"33554432", 32 << 20, false},
		// A missing unit gives a figure the worker cannot live in.
		{"512", 0, true},
		{"33554431", 0, true},
		{"16MiB", 0, true},
		// Not a whole number of a known unit, or not written in decimal.
		{"1.5GiB", 0, true},
		{"1GB", 0, true},
		{"1G", 0, true},
		{"512mib", 0, true},
		{"-1GiB", 0, true},
		{"+1GiB", 0, true},
		{" 1GiB", 0, true},
		{"0x20000000", 0, true},
		{"01GiB", 0, true},
		{"GiB", 0, true},
		{"9999999TiB", 0, true},
		{"99999999999999999999", 0, true},
	}
	for _, tt := range tests {
		var b ByteSize
		err := b.Decode(tt.in)
		if (err != nil) != tt.wantErr || b != tt.want {
			t.Errorf("Decode(%q) = %d, %v; want %d, error %v", tt.in, b, err, tt.want, tt.wantErr)
		}
	}
}

func TestByteSizeStringReadsBack(t *testing.T) {
	t.Parallel()
	for _, b := range []ByteSize{32 << 20, 512 << 20, 1536 << 20, 1 << 30, 3 << 40, 100000000, 123456789} {
		var back ByteSize
		if err := back.Decode(b.String()); err != nil || back != b {
			t.Errorf("%d prints as %q, read back as %d (%v)", int64(b), b, back, err)
		}
	}
	if got := ByteSize(1536 << 20).String(); got != "1536MiB" {
		t.Errorf("1536 MiB prints as %q", got)
	}
	if got := ByteSize(0).String(); got != "" {
		t.Errorf("unset prints as %q, want empty", got)
	}
}

func TestMemoryLimitVariable(t *testing.T) {
	c, _, err := loadWith(t, []string{"ORDERGATE_MEMORY_LIMIT=256Mi"})
	if err != nil || c.MemoryLimit != 256<<20 {
		t.Fatalf("256Mi: %d, %v", c.MemoryLimit, err)
	}
	_, _, err = loadWith(t, []string{"ORDERGATE_MEMORY_LIMIT=512"})
	want := `ORDERGATE_MEMORY_LIMIT="512": 512 bytes is under 32MiB, less than the worker itself needs: a unit is probably missing (e.g. 512MiB)`
	if err == nil || err.Error() != want {
		t.Errorf("512: %v, want %s", err, want)
	}
	_, _, err = loadWith(t, []string{"ORDERGATE_MEMORY_LIMIT=1GB"})
	want = `ORDERGATE_MEMORY_LIMIT="1GB": not a byte size (e.g. 512MiB, 1GiB, 2Gi or plain bytes)`
	if err == nil || err.Error() != want {
		t.Errorf("1GB: %v, want %s", err, want)
	}
}

// TestEffectiveMemoryLimit reads the limit as a container sees it on cgroup v2 and v1 hosts.
func TestEffectiveMemoryLimit(t *testing.T) {
	t.Parallel()
	const v1Unlimited = "9223372036854771712\n"
	tests := []struct {
		name     string
		variable ByteSize
		files    map[string]string
		want     ByteSize
		source   string
	}{
		{"no cgroup files: no limit", 0, nil, 0, "none"},
		{"v2 container with its own cgroup namespace", 0, map[string]string{
			"proc/self/cgroup":          "0::/\n",
			"sys/fs/cgroup/memory.max":  "536870912\n",
			"sys/fs/cgroup/memory.high": "max\n",
		}, 512 << 20, "/sys/fs/cgroup/memory.max"},
		{"v2 without a limit", 0, map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "max\n",
		}, 0, "none"},
		{"v2 host path: a parent's limit is smaller", 0, map[string]string{
			"proc/self/cgroup": "0::/kubepods.slice/pod1/cri-abc\n",
			"sys/fs/cgroup/kubepods.slice/pod1/cri-abc/memory.max": "1073741824\n",
			"sys/fs/cgroup/kubepods.slice/pod1/memory.max":         "268435456\n",
			"sys/fs/cgroup/kubepods.slice/memory.max":              "max\n",
		}, 256 << 20, "/sys/fs/cgroup/kubepods.slice/pod1/memory.max"},
		{"v1: the runtime mounts the container's cgroup at the root", 0, map[string]string{
			"proc/self/cgroup":                           "12:pids:/libpod_parent/libpod-1\n4:memory:/libpod_parent/libpod-1\n0::/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": "268435456\n",
		}, 256 << 20, "/sys/fs/cgroup/memory/memory.limit_in_bytes"},
		{"v1: the host's hierarchy, the process's own cgroup", 0, map[string]string{
			"proc/self/cgroup": "5:cpuacct,memory:/docker/abc\n",
			"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes": "134217728\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes":            v1Unlimited,
		}, 128 << 20, "/sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes"},
		{"v1 unlimited", 0, map[string]string{
			"proc/self/cgroup":                           "4:memory:/\n",
			"sys/fs/cgroup/memory/memory.limit_in_bytes": v1Unlimited,
		}, 0, "none"},
		{"hybrid host: v2 mounted elsewhere, v1 memory controller", 0, map[string]string{
			"proc/self/cgroup":                              "4:memory:/c1\n0::/\n",
			"sys/fs/cgroup/unified/memory.max":              "max\n",
			"sys/fs/cgroup/memory/c1/memory.limit_in_bytes": "402653184\n",
		}, 384 << 20, "/sys/fs/cgroup/memory/c1/memory.limit_in_bytes"},
		{"unreadable figure: no limit", 0, map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "lots\n",
		}, 0, "none"},
		{"the variable wins over the cgroup", 1 << 30, map[string]string{
			"proc/self/cgroup":         "0::/\n",
			"sys/fs/cgroup/memory.max": "536870912\n",
		}, 1 << 30, "ORDERGATE_MEMORY_LIMIT"},
	}
	for _, tt := range tests {
		fsys := fstest.MapFS{}
		for name, data := range tt.files {
			fsys[name] = &fstest.MapFile{Data: []byte(data)}
		}
		got := Config{MemoryLimit: tt.variable}.EffectiveMemoryLimit(fsys)
		if got.Bytes != tt.want || got.Source != tt.source {
			t.Errorf("%s: %d from %q, want %d from %q", tt.name, got.Bytes, got.Source, tt.want, tt.source)
		}
	}
}

func TestGoSoftLimitIsNinetyPercentOfTheTrackedMemory(t *testing.T) {
	t.Parallel()
	if got := (MemoryLimit{Bytes: 1016 << 20}).GoSoftLimit(); got != 900<<20 {
		t.Errorf("soft limit of 1016MiB = %d, want %d (90%% of what 16MiB leave)", got, 900<<20)
	}
	if got := (MemoryLimit{}).GoSoftLimit(); got != 0 {
		t.Errorf("soft limit without a limit = %d, want 0", got)
	}
}

// TestFetchBudgetIsAnEighthAboveTheBaseline: the fetch budget is 1/8 of what the limit
// leaves above 30 MiB, at least 1 MiB, and 0 (the consumer's default) without a limit.
func TestFetchBudgetIsAnEighthAboveTheBaseline(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		limit ByteSize
		want  int64
	}{
		{0, 0},
		{128 << 20, 98 << 20 / 8},
		{1 << 30, (1<<30 - 30<<20) / 8},
		{32 << 20, 1 << 20},
	} {
		if got := (MemoryLimit{Bytes: tt.limit}).FetchBudget(); got != tt.want {
			t.Errorf("fetch budget of %v = %d, want %d", tt.limit, got, tt.want)
		}
	}
}
