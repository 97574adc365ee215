package main

import (
	"encoding/json"
	"log/slog"
	"time"

	"github.com/ordergate/ordergate/config"
	"github.com/ordergate/ordergate/internal/app/doctor"
	"github.com/ordergate/ordergate/internal/app/worker"
)

func cmdDoctor(args []string, e *env) int {
	fs := newFlags(e, "doctor", "[flags]", `Checks everything ordergate run needs, with the worker's own configuration (the ORDERGATE_*
variables), and reports every finding at once, each with what to fix: the configuration, the
brokers (TLS, SASL), the four topics (partitions, max.message.bytes, min.insync.replicas,
message.timestamp.type), the ACLs where the broker lists them, Redis (answers, takes writes,
maxmemory-policy), the inventory, the clients file and the HTTP address. Exit status 0 when
nothing blocks the worker (warnings allowed), 1 otherwise. ordergate run --check is the same.`)
	asJSON := fs.Bool("json", false, "print the findings as one JSON object")
	servicePoint := fs.String("service-point", "", "`ID` of a service point the inventory must know (checks the inventory finds it)")
	timeout := fs.Duration("timeout", 10*time.Second, "bound on each network check")
	if err := fs.parseNoArgs(args); err != nil {
		return status(err)
	}
	worker.RouteLibraryLogs(slog.New(slog.DiscardHandler)) // doctor reports what fails itself
	cfg, warnings, problems := config.LoadPartial()
	opts := doctor.Options{Config: cfg, Problems: problems, Warnings: warnings, ServicePoint: *servicePoint, Timeout: *timeout}
	if len(cfg.KafkaBrokers) > 0 {
		if k, err := worker.KafkaClients(cfg, cfg.KafkaBrokers); err == nil {
			defer k.Close()
			opts.Dialer, opts.Client = k.Dialer, k.Client
		}
	}
	report := doctor.Run(e.ctx, opts)
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			OK       bool `json:"ok"`
			Errors   int  `json:"errors"`
			Warnings int  `json:"warnings"`
			*doctor.Report
		}{report.OK(), report.Count(doctor.Error), report.Count(doctor.Warning), report})
	} else {
		report.Write(e.stdout)
	}
	if !report.OK() {
		return exitFailure
	}
	return exitOK
}
