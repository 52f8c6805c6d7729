DROP INDEX "usage_events_key_ts_idx";--> statement-breakpoint
DROP INDEX "usage_events_ts_idx";--> statement-breakpoint
CREATE INDEX "usage_events_ts_brin" ON "usage_events" USING brin ("ts");--> statement-breakpoint
ALTER TABLE "usage_events" DROP COLUMN "id";