package worker

import (
	"context"
	"errors"
	"io"
	"sync/atomic"
	"syscall"

	"github.com/segmentio/kafka-go/sasl"
)

// saslWatch wraps the SASL mechanism to tell refused credentials from an unreachable
// broker. A broker may refuse a SASL exchange by closing the connection instead of
// answering SASL_AUTHENTICATION_FAILED (kfake does; so do brokers and proxies that speak
// the older handshake), which kafka-go reports as an "unexpected EOF" like any dropped
// connection: start-up would then wait for its whole timeout and blame the brokers or TLS.
// The wrapper counts the exchanges begun and the ones the broker accepted.
type saslWatch struct {
	sasl.Mechanism
	started, accepted atomic.Int64
}

// watchSASL returns m wrapped, or nil when m is nil (no SASL).
func watchSASL(m sasl.Mechanism) sasl.Mechanism {
	if m == nil {
		return nil
	}
	return &saslWatch{Mechanism: m}
}

// Start implements sasl.Mechanism.
func (w *saslWatch) Start(ctx context.Context) (sasl.StateMachine, []byte, error) {
	w.started.Add(1)
	sess, ir, err := w.Mechanism.Start(ctx)
	if err != nil {
		return nil, nil, err
	}
	return &watchedSession{StateMachine: sess, watch: w}, ir, nil
}

type watchedSession struct {
	sasl.StateMachine
	watch *saslWatch
}

// Next implements sasl.StateMachine: kafka-go calls it with each answer of the broker, and
// done means that the broker accepted the exchange.
func (s *watchedSession) Next(ctx context.Context, challenge []byte) (bool, []byte, error) {
	done, resp, err := s.StateMachine.Next(ctx, challenge)
	if done && err == nil {
		s.watch.accepted.Add(1)
	}
	return done, resp, err
}

// saslRefused reports whether err is a connection the broker closed during a SASL exchange
// of m: exchanges were begun and the broker accepted none of them.
func saslRefused(m sasl.Mechanism, err error) bool {
	w, ok := m.(*saslWatch)
	if !ok || w.started.Load() == 0 || w.accepted.Load() > 0 {
		return false
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
