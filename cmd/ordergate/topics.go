package main

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/ordergate/ordergate/config"
	"github.com/segmentio/kafka-go"
)

// topicError rewrites the broker's answer for a topic that does not exist ("[3] Unknown
// Topic Or Partition") into a sentence that names the topic and the closest one the broker
// has (issue 21, item 13); other errors are returned as they are.
func topicError(ctx context.Context, client *kafka.Client, topic string, err error) error {
	if !errors.Is(err, kafka.UnknownTopicOrPartition) {
		return err
	}
	msg := fmt.Sprintf("topic %q does not exist", topic)
	if s := config.Closest(topic, brokerTopics(ctx, client)); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return errors.New(msg)
}

// brokerTopics returns the names of the topics the broker has (none when it cannot say).
func brokerTopics(ctx context.Context, client *kafka.Client) []string {
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return nil
	}
	var names []string
	for _, t := range meta.Topics {
		if t.Error == nil {
			names = append(names, t.Name)
		}
	}
	slices.Sort(names)
	return names
}
