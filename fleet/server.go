package fleet

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// ServerOptions configure [Serve].
type ServerOptions struct {
	// Listen is HOST:PORT; port 0 picks a free one. Empty: 127.0.0.1:0.
	Listen string
	// StoreDir holds JetStream's streams on disk; a restarted server with
	// the same folder still has every pending job and result.
	StoreDir string
	// User and Password, when set, are required of every client.
	User, Password string
	// Log sends the server's own log to standard error.
	Log bool
}

// Server is a NATS server with JetStream running inside this process: the
// same server code as nats-server, for hosts that have none installed.
type Server struct{ s *server.Server }

// Serve starts an embedded JetStream server and waits until it accepts
// connections.
func Serve(o ServerOptions) (*Server, error) {
	host, port := "127.0.0.1", 0
	if o.Listen != "" {
		h, p, err := net.SplitHostPort(o.Listen)
		if err != nil {
			return nil, fmt.Errorf("%w: listen address %q: %w", ErrConfig, o.Listen, err)
		}
		if port, err = strconv.Atoi(p); err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("%w: listen address %q: bad port", ErrConfig, o.Listen)
		}
		host = h
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if o.StoreDir == "" {
		return nil, fmt.Errorf("%w: the JetStream server needs a store folder", ErrConfig)
	}
	s, err := server.NewServer(&server.Options{
		ServerName: "zkdp", Host: host, Port: port, JetStream: true, StoreDir: o.StoreDir,
		Username: o.User, Password: o.Password, NoSigs: true, NoLog: !o.Log,
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: starting the embedded server: %w", err)
	}
	if o.Log {
		s.ConfigureLogger()
	}
	go s.Start()
	if !s.ReadyForConnections(30 * time.Second) {
		s.Shutdown()
		return nil, fmt.Errorf("fleet: the embedded server on %s:%d did not start", host, port)
	}
	return &Server{s: s}, nil
}

// URL is the nats:// address clients connect to.
func (s *Server) URL() string { return s.s.ClientURL() }

// Shutdown stops the server; the store folder keeps its state.
func (s *Server) Shutdown() {
	s.s.Shutdown()
	s.s.WaitForShutdown()
}
