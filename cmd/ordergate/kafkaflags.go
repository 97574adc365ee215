package main

import (
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/ordergate/ordergate/config"
)

// kafkaClients builds the dialer and client of the configuration (TLS and SASL included).
func kafkaClients(cfg config.Config, brokers []string) (*kafka.Dialer, *kafka.Client, *kafka.Transport, error) {
	tlsConfig, err := cfg.KafkaTLS()
	if err != nil {
		return nil, nil, nil, err
	}
	mechanism, err := cfg.KafkaSASL()
	if err != nil {
		return nil, nil, nil, err
	}
	dialer := &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: tlsConfig, SASLMechanism: mechanism}
	transport := &kafka.Transport{TLS: tlsConfig, SASL: mechanism, DialTimeout: 10 * time.Second}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport, Timeout: 10 * time.Second}
	return dialer, client, transport, nil
}
