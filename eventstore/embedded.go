package eventstore

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// Embedded is a NATS server with JetStream running inside this process, reached
// in-process without a TCP port.
type Embedded struct {
	server *server.Server
	lock   *os.File
}

// EmbeddedConfig says where the embedded server keeps its files and how.
type EmbeddedConfig struct {
	// Dir holds JetStream's files.
	Dir string
	// SyncAlways fsyncs every write before it is acknowledged, so that an
	// operating-system crash cannot lose an acknowledged event; slower.
	SyncAlways bool
	// Listen, when set (such as "127.0.0.1:4222"), also serves NATS clients on TCP.
	Listen string
}

// StartEmbedded starts the server and waits until it accepts connections.
func StartEmbedded(cfg EmbeddedConfig) (*Embedded, error) {
	lock, err := lockDir(cfg.Dir)
	if err != nil {
		return nil, err
	}
	opts := &server.Options{
		ServerName: "backbone",
		JetStream:  true,
		StoreDir:   cfg.Dir,
		SyncAlways: cfg.SyncAlways,
		DontListen: cfg.Listen == "",
		NoSigs:     true,
		NoLog:      true,
	}
	if cfg.Listen != "" {
		host, port, err := splitHostPort(cfg.Listen)
		if err != nil {
			lock.Close()
			return nil, err
		}
		opts.Host, opts.Port = host, port
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		lock.Close()
		return nil, fmt.Errorf("configure embedded NATS: %w", err)
	}
	go ns.Start()
	if !ns.ReadyForConnections(30 * time.Second) {
		ns.Shutdown()
		lock.Close()
		return nil, fmt.Errorf("embedded NATS in %s did not start within 30s", cfg.Dir)
	}
	return &Embedded{server: ns, lock: lock}, nil
}

// lockDir creates dir if needed and takes an exclusive lock on it: two servers
// on one directory would each believe they own the stream and lose writes.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("JetStream data directory: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "backbone.lock"), os.O_CREATE|os.O_RDWR, 0o640)
	if err != nil {
		return nil, fmt.Errorf("JetStream data directory: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("JetStream data directory %s is in use by another backbone "+
			"process; give each process its own --data, or share one NATS with --nats-url", dir)
	}
	return f, nil
}

// Connect opens an in-process client connection.
func (e *Embedded) Connect() (*nats.Conn, error) {
	nc, err := nats.Connect("", nats.InProcessServer(e.server), nats.Name("backbone"))
	if err != nil {
		return nil, fmt.Errorf("connect to embedded NATS: %w", err)
	}
	return nc, nil
}

// ClientURL returns the server's TCP address, or "" when it does not listen.
func (e *Embedded) ClientURL() string {
	if e.server.Addr() == nil {
		return ""
	}
	return e.server.ClientURL()
}

// Shutdown stops the server and waits until it has flushed its files.
func (e *Embedded) Shutdown() {
	e.server.Shutdown()
	e.server.WaitForShutdown()
	e.lock.Close() // closing the file releases the lock
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, fmt.Errorf("NATS listen address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return "", 0, fmt.Errorf("NATS listen address %q: bad port", addr)
	}
	return host, port, nil
}
