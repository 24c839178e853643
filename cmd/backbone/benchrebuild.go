package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/backbone-ci/backbone/projections"
)

// The rebuild phase of "backbone bench": every read model of the registry,
// migrated into a fresh schema, fed from sequence 1 by its own projector, all
// running at once as in "backbone serve".

// rebuilt is what the rebuild phase measured.
type rebuilt struct {
	events  int
	last    uint64
	elapsed time.Duration // until every read model caught up
	models  []modelRebuilt
	// peakRSS is the high-water mark of this process's resident memory during
	// the rebuild (VmHWM, reset when it started); the embedded JetStream and
	// pgx count too. peakGo is the most the Go runtime held, sampled.
	peakRSS, peakGo uint64
	rssNote         string
	cpu             time.Duration // this process's CPU time (user and system)
	pgCPU           time.Duration // the CPU time of the pool's PostgreSQL backends
	load            string        // load average when the read models caught up
}

// modelRebuilt is one read model's part of the rebuild.
type modelRebuilt struct {
	name       string
	checkpoint uint64
	elapsed    time.Duration
	parked     int
}

func (r rebuilt) rate() float64 { return float64(r.last) / r.elapsed.Seconds() }

func (r rebuilt) caughtUp() bool {
	for _, m := range r.models {
		if m.checkpoint != r.last {
			return false
		}
	}
	return len(r.models) > 0
}

// rebuild migrates every read model, runs their projectors together from the
// start of the stream and times them until each checkpoint is the stream's
// last sequence. The clock starts when the projectors start.
func (b *benchEnv) rebuild(ctx context.Context) (rebuilt, error) {
	last, err := b.store.LastSequence(ctx)
	if err != nil {
		return rebuilt{}, err
	}
	r := rebuilt{events: b.cfg.workload.Events, last: last}
	var projectors []*projections.Projector
	for _, name := range projections.Names() {
		p, err := projections.New(name, "")
		if err != nil {
			return r, err
		}
		if err := projections.MigrateProjection(ctx, b.pool, p); err != nil {
			return r, err
		}
		projectors = append(projectors, projections.NewProjector(b.pool,
			b.store.JetStream(), b.store.StreamName(), p,
			projections.Config{BatchSize: b.cfg.batchSize, Logger: b.log}))
		r.models = append(r.models, modelRebuilt{name: name})
	}

	mem, err := b.watchMemory()
	if err != nil {
		return r, err
	}
	if b.trace != nil {
		b.trace.recording(true)
		defer b.trace.recording(false)
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	pgStart := b.backendCPU(ctx)
	started, cpu := time.Now(), cpuTime()
	for _, p := range projectors {
		wg.Go(func() { _ = p.Run(runCtx) })
	}
	err = b.waitCaughtUp(ctx, projectors, &r, started)
	r.elapsed, r.cpu, r.load = time.Since(started), cpuTime()-cpu, loadAverage()
	for pid, used := range b.backendCPU(ctx) {
		r.pgCPU += used - pgStart[pid]
	}
	r.peakRSS, r.peakGo, r.rssNote = mem.stop()
	stop()
	wg.Wait()
	if err != nil {
		return r, err
	}
	return r, b.writeMemProfile()
}

// waitCaughtUp polls the checkpoints until every one is at r.last, noting when
// each got there. A projector stuck on an event fails the rebuild at once.
func (b *benchEnv) waitCaughtUp(ctx context.Context, ps []*projections.Projector,
	r *rebuilt, started time.Time) error {
	deadline := time.Now().Add(b.cfg.timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for polls := 0; ; polls++ {
		done := true
		for i, p := range ps {
			m := &r.models[i]
			if m.checkpoint == r.last {
				continue
			}
			seq, err := p.Position(ctx)
			if err != nil {
				return err
			}
			if m.checkpoint = seq; seq == r.last {
				m.elapsed = time.Since(started)
			} else {
				done = false
			}
			if polls%10 == 0 {
				if err := stuck(ctx, p, m); err != nil {
					return err
				}
			}
		}
		if done {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the read models did not catch up within %s", b.cfg.timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// stuck returns an error when the projector is stuck on an event; it counts
// the events parked because they did not decode.
func stuck(ctx context.Context, p *projections.Projector, m *modelRebuilt) error {
	st, err := p.Status(ctx)
	if err != nil {
		return err
	}
	m.parked = 0
	for _, x := range st.Poisoned {
		if !x.Parked {
			return fmt.Errorf("read model %s is stuck on event %d (%s): %s",
				m.name, x.Sequence, x.EventType, x.Error)
		}
		m.parked++
	}
	return nil
}

func (r rebuilt) print(out io.Writer) {
	fmt.Fprintf(out, "Rebuild of every read model from sequence 1, their projectors "+
		"running concurrently:\n")
	fmt.Fprintf(out, "  %-14s %12s %10s %12s\n", "read model", "checkpoint", "seconds",
		"events/s")
	for _, m := range r.models {
		fmt.Fprintf(out, "  %-14s %12d %10.2f %12.0f\n", m.name, m.checkpoint,
			m.elapsed.Seconds(), float64(r.last)/m.elapsed.Seconds())
		if m.parked > 0 {
			fmt.Fprintf(out, "  %-14s %d events parked: they did not decode\n", "", m.parked)
		}
	}
	fmt.Fprintf(out, "  %-14s %12d %10.2f %12.0f\n", "all", r.last, r.elapsed.Seconds(),
		r.rate())
	fmt.Fprintf(out, "  CPU: %.1f s in this process, %.1f s in the PostgreSQL backends "+
		"of its pool; load average %s at the end\n", r.cpu.Seconds(), r.pgCPU.Seconds(), r.load)
	fmt.Fprintf(out, "  peak memory: %.0f MB resident (%s);\n"+
		"  the Go runtime held %.0f MB at most (runtime/metrics, sampled every 50 ms)\n\n",
		mb(r.peakRSS), r.rssNote, mb(r.peakGo))
}

// memoryWatch follows the process's memory during the rebuild.
type memoryWatch struct {
	done     chan struct{}
	finished chan uint64
	rssReset bool
	cpu      *os.File
}

// watchMemory starts measuring: it returns what it can of the memory the
// generation phase left to the operating system, resets the kernel's
// high-water mark of the resident set, starts the profiles asked for, and
// samples the Go runtime's own figure.
func (b *benchEnv) watchMemory() (*memoryWatch, error) {
	runtime.GC()
	debug.FreeOSMemory()
	w := &memoryWatch{done: make(chan struct{}), finished: make(chan uint64, 1)}
	// Writing 5 to clear_refs resets VmHWM to the current resident size (Linux).
	w.rssReset = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil

	if b.cfg.memProfile != "" {
		runtime.MemProfileRate = 512 * 1024 // the default, off until now
	}
	if b.cfg.cpuProfile != "" {
		f, err := os.Create(b.cfg.cpuProfile)
		if err != nil {
			return nil, fmt.Errorf("CPU profile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("CPU profile: %w", err)
		}
		w.cpu = f
	}
	go w.sample()
	return w, nil
}

// goMemory is what the Go runtime holds from the operating system: all it
// mapped, less the heap it gave back.
var goMemory = []metrics.Sample{
	{Name: "/memory/classes/total:bytes"},
	{Name: "/memory/classes/heap/released:bytes"},
}

func (w *memoryWatch) sample() {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var peak uint64
	for {
		metrics.Read(goMemory)
		peak = max(peak, goMemory[0].Value.Uint64()-goMemory[1].Value.Uint64())
		select {
		case <-w.done:
			w.finished <- peak
			return
		case <-tick.C:
		}
	}
}

// stop ends the measurement and the CPU profile; it returns the peak resident
// size, the Go runtime's peak and what the first one is.
func (w *memoryWatch) stop() (rss, goPeak uint64, note string) {
	if w.cpu != nil {
		pprof.StopCPUProfile()
		w.cpu.Close()
	}
	close(w.done)
	goPeak = <-w.finished
	rss, err := peakRSS()
	switch {
	case err != nil:
		return goPeak, goPeak, "no VmHWM here (" + err.Error() + "): the Go runtime's peak"
	case !w.rssReset:
		return rss, goPeak, "VmHWM of this process since it started: " +
			"it could not be reset, so it includes the generation"
	}
	return rss, goPeak, "VmHWM of this whole process, embedded JetStream included, " +
		"reset when the rebuild started"
}

// peakRSS reads VmHWM, the peak resident set size, from /proc/self/status.
func peakRSS() (uint64, error) {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	s := bufio.NewScanner(bytes.NewReader(status))
	for s.Scan() {
		rest, ok := bytes.CutPrefix(s.Bytes(), []byte("VmHWM:"))
		if !ok {
			continue
		}
		kb, err := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest),
			[]byte(" kB"))), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("VmHWM: %w", err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// writeMemProfile writes the allocations sampled during the rebuild.
func (b *benchEnv) writeMemProfile() error {
	if b.cfg.memProfile == "" {
		return nil
	}
	runtime.GC() // the profile is as of the last collection
	f, err := os.Create(b.cfg.memProfile)
	if err != nil {
		return fmt.Errorf("memory profile: %w", err)
	}
	defer f.Close()
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		return fmt.Errorf("memory profile: %w", err)
	}
	return f.Close()
}

// cpuTime returns the CPU time this process used so far.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// backendCPU returns the CPU time used so far by each PostgreSQL backend
// serving this database, read from /proc: it counts only when the server runs
// on this machine, and is empty otherwise.
func (b *benchEnv) backendCPU(ctx context.Context) map[int]time.Duration {
	used := map[int]time.Duration{}
	rows, err := b.pool.Query(ctx,
		`SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return used
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return used
	}
	for _, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// The fields after the command's closing parenthesis; utime and
		// stime are the 12th and 13th of them, in ticks of 1/100 s.
		_, rest, _ := bytes.Cut(stat, []byte(") "))
		f := strings.Fields(string(rest))
		if len(f) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		used[int(pid)] = time.Duration(utime+stime) * 10 * time.Millisecond
	}
	return used
}
