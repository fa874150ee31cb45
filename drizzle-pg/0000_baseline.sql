CREATE TABLE "aimp_runs" (
  "execution_id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "mode" text COLLATE "C" NOT NULL,
  "scope" text COLLATE "C",
  "item_id" text COLLATE "C",
  "request" text COLLATE "C",
  "result" text COLLATE "C",
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_key_secrets" (
  "hash" text COLLATE "C" PRIMARY KEY,
  "key_id" text COLLATE "C" NOT NULL,
  "expires_at" bigint,
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "api_keys" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "name" text COLLATE "C" NOT NULL,
  "permission" text COLLATE "C" NOT NULL,
  "masked_key" text COLLATE "C" NOT NULL,
  "limits" text COLLATE "C" NOT NULL DEFAULT '{}',
  "guardrail_id" text COLLATE "C",
  "response_cache" text COLLATE "C" NOT NULL DEFAULT 'default',
  "disabled" bigint NOT NULL DEFAULT 0,
  "expires_at" bigint,
  "revoked_at" bigint,
  "last_used_at" bigint,
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "audit_log" (
  "id" text COLLATE "C" PRIMARY KEY,
  "actor" text COLLATE "C" NOT NULL,
  "action" text COLLATE "C" NOT NULL,
  "target" text COLLATE "C",
  "details" text COLLATE "C",
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "balances" (
  "org_id" text COLLATE "C" PRIMARY KEY,
  "available_micros" bigint NOT NULL DEFAULT 0,
  "held_micros" bigint NOT NULL DEFAULT 0,
  "low_balance_threshold_micros" bigint,
  "low_balance_armed" bigint NOT NULL DEFAULT 1
);
--> statement-breakpoint
CREATE TABLE "batch_lines" (
  "batch_id" text COLLATE "C" NOT NULL,
  "line" bigint NOT NULL,
  "custom_id" text COLLATE "C" NOT NULL,
  "model" text COLLATE "C" NOT NULL,
  "input" text COLLATE "C" NOT NULL,
  "execution_id" text COLLATE "C",
  "outcome" text COLLATE "C",
  "status_code" bigint,
  "result" text COLLATE "C",
  PRIMARY KEY ("batch_id", "line")
);
--> statement-breakpoint
CREATE TABLE "batches" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "caller" text COLLATE "C" NOT NULL,
  "dialect" text COLLATE "C" NOT NULL,
  "endpoint" text COLLATE "C" NOT NULL,
  "input_file_id" text COLLATE "C",
  "completion_window" text COLLATE "C" NOT NULL,
  "status" text COLLATE "C" NOT NULL,
  "errors" text COLLATE "C",
  "metadata" text COLLATE "C",
  "output_file_id" text COLLATE "C",
  "error_file_id" text COLLATE "C",
  "discount_percent" bigint NOT NULL,
  "total" bigint NOT NULL DEFAULT 0,
  "succeeded" bigint NOT NULL DEFAULT 0,
  "errored" bigint NOT NULL DEFAULT 0,
  "canceled" bigint NOT NULL DEFAULT 0,
  "expired" bigint NOT NULL DEFAULT 0,
  "created_at" bigint NOT NULL,
  "expires_at" bigint NOT NULL,
  "in_progress_at" bigint,
  "finalizing_at" bigint,
  "completed_at" bigint,
  "failed_at" bigint,
  "expired_at" bigint,
  "cancelling_at" bigint,
  "cancelled_at" bigint,
  "deleted_at" bigint
);
--> statement-breakpoint
CREATE TABLE "events" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "type" text COLLATE "C" NOT NULL,
  "data" text COLLATE "C" NOT NULL,
  "execution_id" text COLLATE "C",
  "webhook_url" text COLLATE "C",
  "created_at" bigint NOT NULL,
  "dispatched_at" bigint
);
--> statement-breakpoint
CREATE TABLE "executions" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "key_id" text COLLATE "C",
  "model" text COLLATE "C" NOT NULL,
  "status" text COLLATE "C" NOT NULL,
  "mode" text COLLATE "C" NOT NULL,
  "input" text COLLATE "C",
  "output" text COLLATE "C",
  "error_code" text COLLATE "C",
  "error_message" text COLLATE "C",
  "usage" text COLLATE "C",
  "cost_micros" bigint,
  "hold_micros" bigint NOT NULL DEFAULT 0,
  "metadata" text COLLATE "C",
  "webhook_url" text COLLATE "C",
  "route_id" text COLLATE "C",
  "provider_job" text COLLATE "C",
  "callback_token" text COLLATE "C",
  "routing" text COLLATE "C",
  "candidates" text COLLATE "C",
  "served_model" text COLLATE "C",
  "cache_status" text COLLATE "C",
  "cache_key" text COLLATE "C",
  "cache_source" text COLLATE "C",
  "cache_saved_micros" bigint,
  "deadline_at" bigint,
  "discount_percent" bigint,
  "created_at" bigint NOT NULL,
  "started_at" bigint,
  "awaiting_at" bigint,
  "completed_at" bigint,
  "purged_at" bigint
);
--> statement-breakpoint
CREATE TABLE "files" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "filename" text COLLATE "C" NOT NULL,
  "content_type" text COLLATE "C" NOT NULL,
  "size_bytes" bigint NOT NULL,
  "sha256" text COLLATE "C",
  "status" text COLLATE "C" NOT NULL,
  "backend" text COLLATE "C" NOT NULL,
  "storage_key" text COLLATE "C" NOT NULL,
  "execution_id" text COLLATE "C",
  "purpose" text COLLATE "C",
  "created_at" bigint NOT NULL,
  "uploaded_at" bigint,
  "expires_at" bigint,
  "deleted_at" bigint
);
--> statement-breakpoint
CREATE TABLE "guardrails" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "name" text COLLATE "C" NOT NULL,
  "description" text COLLATE "C",
  "allowed_models" text COLLATE "C",
  "blocked_models" text COLLATE "C",
  "max_cost_micros" bigint,
  "content_rules" text COLLATE "C" NOT NULL DEFAULT '[]',
  "limits" text COLLATE "C" NOT NULL DEFAULT '{}',
  "created_at" bigint NOT NULL,
  "updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
  "org_id" text COLLATE "C" NOT NULL,
  "method" text COLLATE "C" NOT NULL,
  "path" text COLLATE "C" NOT NULL,
  "key" text COLLATE "C" NOT NULL,
  "fingerprint" text COLLATE "C" NOT NULL,
  "status_code" bigint NOT NULL,
  "resource_id" text COLLATE "C",
  "response" text COLLATE "C" NOT NULL,
  "created_at" bigint NOT NULL,
  "expires_at" bigint NOT NULL,
  PRIMARY KEY ("org_id", "method", "path", "key")
);
--> statement-breakpoint
CREATE TABLE "jobs" (
  "id" bigint PRIMARY KEY,
  "kind" text COLLATE "C" NOT NULL,
  "payload" text COLLATE "C" NOT NULL,
  "run_at" bigint NOT NULL,
  "attempts" bigint NOT NULL DEFAULT 0,
  "max_attempts" bigint NOT NULL,
  "locked_until" bigint,
  "last_error" text COLLATE "C",
  "unique_key" text COLLATE "C",
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE SEQUENCE "jobs_id_seq" OWNED BY "jobs"."id";
--> statement-breakpoint
CREATE FUNCTION "jobs_fill_id"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW."id" IS NULL THEN NEW."id" := nextval('"jobs_id_seq"'); END IF; RETURN NEW; END $$;
--> statement-breakpoint
CREATE TRIGGER "jobs_fill_id" BEFORE INSERT ON "jobs" FOR EACH ROW EXECUTE FUNCTION "jobs_fill_id"();
--> statement-breakpoint
CREATE TABLE "ledger_entries" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "kind" text COLLATE "C" NOT NULL,
  "amount_micros" bigint NOT NULL,
  "captured_micros" bigint,
  "released_micros" bigint,
  "execution_id" text COLLATE "C",
  "key_id" text COLLATE "C",
  "hold_id" text COLLATE "C",
  "note" text COLLATE "C",
  "idempotency_key" text COLLATE "C",
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "model_aliases" (
  "name" text COLLATE "C" PRIMARY KEY,
  "models" text COLLATE "C" NOT NULL,
  "description" text COLLATE "C" NOT NULL DEFAULT '',
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "models" (
  "slug" text COLLATE "C" PRIMARY KEY,
  "task" text COLLATE "C" NOT NULL,
  "description" text COLLATE "C" NOT NULL,
  "owned_by" text COLLATE "C" NOT NULL,
  "input_schema" text COLLATE "C" NOT NULL,
  "task_schema" bigint NOT NULL DEFAULT 0,
  "pricing" text COLLATE "C" NOT NULL,
  "max_output_tokens" bigint,
  "context_window" bigint,
  "queue_ttl_ms" bigint,
  "cache" text COLLATE "C",
  "enabled" bigint NOT NULL DEFAULT 1,
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "orgs" (
  "id" text COLLATE "C" PRIMARY KEY,
  "name" text COLLATE "C" NOT NULL,
  "status" text COLLATE "C" NOT NULL DEFAULT 'active',
  "webhook_secret" text COLLATE "C",
  "webhook_previous_secret" text COLLATE "C",
  "webhook_previous_expires_at" bigint,
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "providers" (
  "id" text COLLATE "C" PRIMARY KEY,
  "kind" text COLLATE "C" NOT NULL,
  "base_url" text COLLATE "C",
  "api_key" text COLLATE "C",
  "key_refs" text COLLATE "C" NOT NULL DEFAULT '{}',
  "config" text COLLATE "C" NOT NULL DEFAULT '{}',
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "rate_windows" (
  "key_id" text COLLATE "C" NOT NULL,
  "window_start" bigint NOT NULL,
  "count" bigint NOT NULL,
  PRIMARY KEY ("key_id", "window_start")
);
--> statement-breakpoint
CREATE TABLE "response_cache" (
  "key" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "model" text COLLATE "C" NOT NULL,
  "execution_id" text COLLATE "C" NOT NULL,
  "output" text COLLATE "C" NOT NULL,
  "usage" text COLLATE "C" NOT NULL,
  "cost_micros" bigint NOT NULL,
  "served_model" text COLLATE "C" NOT NULL,
  "route_id" text COLLATE "C",
  "vector_scope" text COLLATE "C",
  "vector_model" text COLLATE "C",
  "size_bytes" bigint NOT NULL,
  "hits" bigint NOT NULL DEFAULT 0,
  "created_at" bigint NOT NULL,
  "expires_at" bigint NOT NULL,
  "last_used_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "routes" (
  "id" text COLLATE "C" PRIMARY KEY,
  "model_slug" text COLLATE "C" NOT NULL,
  "provider_id" text COLLATE "C" NOT NULL,
  "upstream_model" text COLLATE "C" NOT NULL,
  "params" text COLLATE "C" NOT NULL DEFAULT '{}',
  "position" bigint NOT NULL,
  "timeout_ms" bigint NOT NULL,
  "first_token_ms" bigint,
  "idle_ms" bigint,
  "retries" bigint,
  "max_concurrency" bigint,
  "max_queue" bigint
);
--> statement-breakpoint
CREATE TABLE "settings" (
  "key" text COLLATE "C" PRIMARY KEY,
  "value" text COLLATE "C" NOT NULL
);
--> statement-breakpoint
CREATE TABLE "stored_responses" (
  "execution_id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "previous_response_id" text COLLATE "C",
  "instructions" text COLLATE "C",
  "history_messages" bigint NOT NULL DEFAULT 0,
  "echo" text COLLATE "C" NOT NULL,
  "deleted_at" bigint,
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "vector_items" (
  "row_id" bigint PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "model" text COLLATE "C" NOT NULL,
  "scope" text COLLATE "C" NOT NULL,
  "item_id" text COLLATE "C" NOT NULL,
  "vector" bytea NOT NULL,
  "metadata" text COLLATE "C" NOT NULL,
  "input_ref" text COLLATE "C" NOT NULL,
  "run_id" text COLLATE "C" NOT NULL,
  "created_at" bigint NOT NULL,
  "updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE SEQUENCE "vector_items_row_id_seq" OWNED BY "vector_items"."row_id";
--> statement-breakpoint
CREATE FUNCTION "vector_items_fill_row_id"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW."row_id" IS NULL THEN NEW."row_id" := nextval('"vector_items_row_id_seq"'); END IF; RETURN NEW; END $$;
--> statement-breakpoint
CREATE TRIGGER "vector_items_fill_row_id" BEFORE INSERT ON "vector_items" FOR EACH ROW EXECUTE FUNCTION "vector_items_fill_row_id"();
--> statement-breakpoint
CREATE TABLE "vector_scopes" (
  "org_id" text COLLATE "C" NOT NULL,
  "model" text COLLATE "C" NOT NULL,
  "scope" text COLLATE "C" NOT NULL,
  "dimensions" bigint NOT NULL,
  "item_count" bigint NOT NULL,
  "version" text COLLATE "C" NOT NULL,
  "created_at" bigint NOT NULL,
  "updated_at" bigint NOT NULL,
  PRIMARY KEY ("org_id", "model", "scope")
);
--> statement-breakpoint
CREATE TABLE "webhook_attempts" (
  "id" bigint PRIMARY KEY,
  "delivery_id" text COLLATE "C" NOT NULL,
  "attempt" bigint NOT NULL,
  "at" bigint NOT NULL,
  "status_code" bigint,
  "latency_ms" bigint NOT NULL,
  "error" text COLLATE "C",
  "next_retry_at" bigint
);
--> statement-breakpoint
CREATE SEQUENCE "webhook_attempts_id_seq" OWNED BY "webhook_attempts"."id";
--> statement-breakpoint
CREATE FUNCTION "webhook_attempts_fill_id"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW."id" IS NULL THEN NEW."id" := nextval('"webhook_attempts_id_seq"'); END IF; RETURN NEW; END $$;
--> statement-breakpoint
CREATE TRIGGER "webhook_attempts_fill_id" BEFORE INSERT ON "webhook_attempts" FOR EACH ROW EXECUTE FUNCTION "webhook_attempts_fill_id"();
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "event_id" text COLLATE "C" NOT NULL,
  "endpoint_id" text COLLATE "C",
  "url" text COLLATE "C" NOT NULL,
  "status" text COLLATE "C" NOT NULL,
  "attempts" bigint NOT NULL DEFAULT 0,
  "last_status_code" bigint,
  "next_attempt_at" bigint,
  "deadline_at" bigint NOT NULL,
  "created_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "webhook_endpoints" (
  "id" text COLLATE "C" PRIMARY KEY,
  "org_id" text COLLATE "C" NOT NULL,
  "url" text COLLATE "C" NOT NULL,
  "events" text COLLATE "C",
  "description" text COLLATE "C",
  "enabled" bigint NOT NULL DEFAULT 1,
  "disabled_reason" text COLLATE "C",
  "secret" text COLLATE "C" NOT NULL,
  "previous_secret" text COLLATE "C",
  "previous_secret_expires_at" bigint,
  "created_at" bigint NOT NULL,
  "updated_at" bigint NOT NULL,
  "deleted_at" bigint
);
--> statement-breakpoint
CREATE INDEX "aimp_runs_org" ON "aimp_runs" ("org_id", "execution_id");
--> statement-breakpoint
CREATE INDEX "api_key_secrets_key" ON "api_key_secrets" ("key_id");
--> statement-breakpoint
CREATE INDEX "api_keys_org" ON "api_keys" ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "batch_lines_open" ON "batch_lines" ("batch_id", "outcome");
--> statement-breakpoint
CREATE INDEX "batches_org" ON "batches" ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "events_undispatched" ON "events" ("dispatched_at");
--> statement-breakpoint
CREATE INDEX "events_org" ON "events" ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "executions_org" ON "executions" ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "executions_open" ON "executions" ("status") WHERE status IN ('PENDING', 'PROCESSING', 'AWAITING_WEBHOOK');
--> statement-breakpoint
CREATE INDEX "executions_to_purge" ON "executions" ("completed_at") WHERE completed_at IS NOT NULL AND purged_at IS NULL;
--> statement-breakpoint
CREATE UNIQUE INDEX "executions_callback_token" ON "executions" ("callback_token") WHERE callback_token IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "files_org" ON "files" ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "files_expires" ON "files" ("expires_at");
--> statement-breakpoint
CREATE INDEX "guardrails_org" ON "guardrails" ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "idempotency_expires" ON "idempotency_keys" ("expires_at");
--> statement-breakpoint
CREATE INDEX "jobs_due" ON "jobs" ("kind", "run_at");
--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_unique_key" ON "jobs" ("unique_key");
--> statement-breakpoint
CREATE INDEX "ledger_org" ON "ledger_entries" ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "ledger_key_resolutions" ON "ledger_entries" ("key_id", "id") WHERE kind = 'resolve';
--> statement-breakpoint
CREATE UNIQUE INDEX "ledger_credit_idempotency" ON "ledger_entries" ("org_id", "idempotency_key") WHERE idempotency_key IS NOT NULL;
--> statement-breakpoint
CREATE INDEX "response_cache_lru" ON "response_cache" ("last_used_at");
--> statement-breakpoint
CREATE INDEX "response_cache_expires" ON "response_cache" ("expires_at");
--> statement-breakpoint
CREATE INDEX "response_cache_org" ON "response_cache" ("org_id");
--> statement-breakpoint
CREATE INDEX "routes_model" ON "routes" ("model_slug", "position");
--> statement-breakpoint
CREATE UNIQUE INDEX "vector_items_key" ON "vector_items" ("org_id", "model", "scope", "item_id");
--> statement-breakpoint
CREATE INDEX "vector_items_scope" ON "vector_items" ("org_id", "model", "scope", "row_id", "metadata");
--> statement-breakpoint
CREATE INDEX "webhook_attempts_delivery" ON "webhook_attempts" ("delivery_id", "attempt");
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_endpoint" ON "webhook_deliveries" ("endpoint_id", "id");
--> statement-breakpoint
CREATE INDEX "webhook_deliveries_org" ON "webhook_deliveries" ("org_id", "id");
--> statement-breakpoint
CREATE INDEX "webhook_endpoints_org" ON "webhook_endpoints" ("org_id", "id");
--> statement-breakpoint
ALTER TABLE "aimp_runs" ADD CONSTRAINT "aimp_runs_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "api_key_secrets" ADD CONSTRAINT "api_key_secrets_key_id_api_keys_id_fk" FOREIGN KEY ("key_id") REFERENCES "api_keys" ("id");
--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "balances" ADD CONSTRAINT "balances_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "batches" ADD CONSTRAINT "batches_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "executions" ADD CONSTRAINT "executions_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "files" ADD CONSTRAINT "files_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "guardrails" ADD CONSTRAINT "guardrails_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "ledger_entries" ADD CONSTRAINT "ledger_entries_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "response_cache" ADD CONSTRAINT "response_cache_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "routes" ADD CONSTRAINT "routes_model_slug_models_slug_fk" FOREIGN KEY ("model_slug") REFERENCES "models" ("slug") ON DELETE CASCADE;
--> statement-breakpoint
ALTER TABLE "routes" ADD CONSTRAINT "routes_provider_id_providers_id_fk" FOREIGN KEY ("provider_id") REFERENCES "providers" ("id");
--> statement-breakpoint
ALTER TABLE "stored_responses" ADD CONSTRAINT "stored_responses_execution_id_executions_id_fk" FOREIGN KEY ("execution_id") REFERENCES "executions" ("id");
--> statement-breakpoint
ALTER TABLE "stored_responses" ADD CONSTRAINT "stored_responses_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "vector_scopes" ADD CONSTRAINT "vector_scopes_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
--> statement-breakpoint
ALTER TABLE "webhook_endpoints" ADD CONSTRAINT "webhook_endpoints_org_id_orgs_id_fk" FOREIGN KEY ("org_id") REFERENCES "orgs" ("id");
