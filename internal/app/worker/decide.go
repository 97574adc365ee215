package worker

import (
	"context"
	"fmt"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/processor/order"
	"github.com/ordergate/ordergate/processor/servicepoint"
)

// RulesOf returns the rules (rows 1-16) that `ordergate run` applies with this configuration:
// the body limit and the clients file. `ordergate replay --diff` decides with them too, so
// that the diff shows what this binary and configuration would decide.
func RulesOf(cfg config.Config) (*order.Rules, error) {
	rules := &order.Rules{MaxBodyBytes: cfg.MaxMessageBytes}
	if cfg.ClientsFile != "" {
		clients, err := LoadClients(cfg.ClientsFile)
		if err != nil {
			return nil, err
		}
		rules.Clients = clients
	}
	return rules, nil
}

// resolverOptions are the cache settings of the configuration.
func resolverOptions(cfg config.Config) servicepoint.Options {
	return servicepoint.Options{
		KeyPrefix:    cfg.RedisKeyPrefix,
		TTL:          cfg.CacheTTL,
		NegativeTTL:  cfg.CacheNegativeTTL,
		Concurrency:  cfg.InventoryConcurrency,
		RedisTimeout: cfg.RedisTimeout,
		StaleFor:     cfg.CacheStaleFor,
	}
}

// NewResolver returns the service-point resolution of the configuration, as the worker
// resolves (the Redis cache in front of the inventory), for the tools that decide outside
// the worker; close releases Redis. It fails at once when Redis does not answer.
func NewResolver(ctx context.Context, cfg config.Config) (r *servicepoint.Resolver, close func(), err error) {
	if err := cfg.RequireInventory(); err != nil {
		return nil, nil, err
	}
	inv, err := newInventory(cfg)
	if err != nil {
		return nil, nil, err
	}
	opts, err := cfg.RedisUniversalOptions()
	if err != nil {
		return nil, nil, err
	}
	rdb := servicepoint.OpenRedis(opts, nil)
	if _, err := rdb.Probe(ctx); err != nil {
		_ = rdb.Close()
		return nil, nil, fmt.Errorf("redis (%s mode) does not answer (check ORDERGATE_REDIS_URL, ORDERGATE_REDIS_MODE and ORDERGATE_REDIS_ADDRS): %v", rdb.Mode(), err)
	}
	return servicepoint.NewResolver(rdb, inv, resolverOptions(cfg)), func() { _ = rdb.Close() }, nil
}
