package consumer

import (
	"context"
	"sync"
	"time"

	"github.com/segmentio/kafka-go"
)

// lagTracker measures the lag of the assigned partitions: the partition's high watermark
// minus its committed offset (kafka-go reports 0 for group readers, so the consumer asks
// the broker itself, with one ListOffsets request for all partitions).
type lagTracker struct {
	mu    sync.Mutex
	parts map[int]*offsets
}

func (l *lagTracker) add(id int, o *offsets) {
	l.mu.Lock()
	if l.parts == nil {
		l.parts = map[int]*offsets{}
	}
	l.parts[id] = o
	l.mu.Unlock()
}

func (l *lagTracker) remove(id int, o *offsets) {
	l.mu.Lock()
	if l.parts[id] == o {
		delete(l.parts, id)
	}
	l.mu.Unlock()
}

func (l *lagTracker) snapshot() map[int]*offsets {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[int]*offsets, len(l.parts))
	for k, v := range l.parts {
		out[k] = v
	}
	return out
}

// measureLag measures every LagInterval until ctx ends.
func (c *Consumer[B]) measureLag(ctx context.Context) {
	if c.cfg.Client == nil {
		return
	}
	t := time.NewTicker(c.cfg.LagInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		parts := c.lags.snapshot()
		if len(parts) == 0 {
			continue
		}
		req := &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{}}
		for id := range parts {
			req.Topics[c.cfg.Topic] = append(req.Topics[c.cfg.Topic], kafka.LastOffsetOf(id))
		}
		rctx, cancel := context.WithTimeout(ctx, c.cfg.LagInterval)
		resp, err := c.cfg.Client.ListOffsets(rctx, req)
		cancel()
		if err != nil {
			c.cfg.Logger.Debug("lag: list offsets failed", "err", err)
			continue
		}
		for _, po := range resp.Topics[c.cfg.Topic] {
			p, ok := parts[po.Partition]
			if !ok || po.Error != nil {
				continue
			}
			committed := p.committed.Load()
			if committed < 0 {
				// A new group starts at the log start: everything up to the high
				// watermark that is not fetched yet is lag (a lower bound).
				committed = p.position.Load()
			}
			lag := po.LastOffset - committed
			if lag < 0 {
				lag = 0
			}
			c.cfg.Observer.Lag(po.Partition, lag)
		}
	}
}
